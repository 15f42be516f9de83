// The doctest runner shared by every checkpoint executable.
//
// Sanitizer defaults live here, compiled into the binary, so that a checkpoint run by hand,
// by CTest or by the grader behaves the same: the first report stops the test with a
// non-zero exit code. TSAN_OPTIONS / ASAN_OPTIONS in the environment still override them.
// Never force_seq_cst_atomics: it would hide exactly the ordering bugs the course is about.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

extern "C" {
// NOLINTNEXTLINE: the sanitizer runtimes look these symbols up by name.
const char* __tsan_default_options() {
  return "halt_on_error=1:exitcode=66:second_deadlock_stack=1:history_size=4:"
         // doctest's crash handler is not async-signal-safe; let TSan report the SEGV itself.
         "report_signal_unsafe=0";
}
const char* __asan_default_options() { return "halt_on_error=1:detect_leaks=1"; }
const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
}
