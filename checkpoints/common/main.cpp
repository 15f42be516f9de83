// The doctest runner shared by every checkpoint executable.
//
// Sanitizer defaults live here, compiled into the binary, so that a checkpoint run by hand,
// by CTest or by the grader behaves the same: the first report stops the test with a
// non-zero exit code. TSAN_OPTIONS / ASAN_OPTIONS in the environment still override them.
// The option strings are defined once, in sanitizer_options.json (see Lab.cmake).
//
// CTest runs each checkpoint as `mN_checkpoints --test-case=<name>`, with the name taken from
// manifest.json. A filter that matches no TEST_CASE (a test renamed in one place only) would
// make doctest report success with zero test cases, so this main counts the test cases that
// ran and fails such a run.
//
// A graded run (the grader sets LAB_RECORD, the path of a FIFO it reads; docs/grading.md,
// "When a checkpoint passes") gets two more things, both set up by a constructor of priority
// 101, so before any other code of the executable runs:
//   - a seccomp filter (libseccomp) that refuses process creation other than threads, exec,
//     new sessions and process groups, signals to other processes, ptrace, reading or writing
//     other processes' memory, io_uring, namespaces and a few more (kRefused below);
//   - the harness's record: one line, written by this main after the last test (or by
//     lab_test.hpp's end_not_run for an inconclusive test, or by an exit handler when the
//     process ends before main returned), with the run's nonce and doctest's counts. The grader
//     accepts a run only when the FIFO holds exactly this one line: a line written by anyone
//     else, before or after, makes two, and a process that ends before main returns leaves the
//     exit handler's "ended early" line.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstddef>
#include <cstring>
#include <string>

#include "lab_harness.hpp"
#include "lab_sanitizer_options.h"

#if LAB_SECCOMP
#include <sched.h>
#include <seccomp.h>
#include <sys/syscall.h>
#endif

extern "C" {
// NOLINTNEXTLINE: the sanitizer runtimes look these symbols up by name.
const char* __tsan_default_options() { return LAB_TSAN_DEFAULT_OPTIONS; }
const char* __asan_default_options() { return LAB_ASAN_DEFAULT_OPTIONS; }
const char* __ubsan_default_options() { return LAB_UBSAN_DEFAULT_OPTIONS; }
}

namespace {

int g_test_cases_started = 0;

// What the record says; filled by the listener below. Plain arrays, constant-initialized: the
// setup below runs before the dynamic initializers of this file. Nothing in it is secret: its
// integrity comes from the grader accepting exactly one line (see the banner).
struct RunRecord {
  char record_path[4096];     // the grader's FIFO (LAB_RECORD), "" when not graded
  char case_name[1024];       // the first test case that started
  char case_file[512];
  bool filter_on;             // the seccomp filter is installed
  bool written;               // the record has been written (by main or end_not_run)
  bool exception;             // an exception escaped a test case
  bool run_ended;             // doctest reported the end of the run
  unsigned seed;              // --rand-seed: the run's nonce
  doctest::TestRunStats stats;
};

constinit RunRecord g_record{};  // NOLINT: the harness's own state

void copy_to(char* dst, std::size_t size, const char* src) {
  std::snprintf(dst, size, "%s", src);
}

// A listener: doctest calls it besides the selected reporter, for every run.
struct CountTestCases : doctest::IReporter {
  explicit CountTestCases(const doctest::ContextOptions& options) {
    g_record.seed = options.rand_seed;
  }
  void report_query(const doctest::QueryData& /*data*/) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override {
    g_record.stats = stats;
    g_record.run_ended = true;
  }
  void test_case_start(const doctest::TestCaseData& data) override {
    if (++g_test_cases_started == 1) {
      copy_to(g_record.case_name, sizeof g_record.case_name, data.m_name);
      copy_to(g_record.case_file, sizeof g_record.case_file, data.m_file.c_str());
    }
  }
  void test_case_reenter(const doctest::TestCaseData& /*data*/) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& /*stats*/) override {}
  void test_case_exception(const doctest::TestCaseException& /*e*/) override {
    g_record.exception = true;
  }
  void subcase_start(const doctest::SubcaseSignature& /*signature*/) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& /*data*/) override {}
  void log_message(const doctest::MessageData& /*data*/) override {}
  void test_case_skipped(const doctest::TestCaseData& /*data*/) override {}
};

REGISTER_LISTENER("lab_count_test_cases", 1, CountTestCases);

bool starts_with(const char* text, const char* prefix) {
  return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

// True when the command line selects test cases by name and asks to run them (not to list,
// count or print help).
bool runs_a_selection(int argc, char** argv) {
  bool selected = false;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (starts_with(arg, "--test-case=") || starts_with(arg, "-tc=") ||
        starts_with(arg, "--dt-test-case=")) {
      selected = true;
    }
    if (starts_with(arg, "--list") || starts_with(arg, "-l") || starts_with(arg, "--count") ||
        starts_with(arg, "-c") || starts_with(arg, "--help") || starts_with(arg, "-h") ||
        starts_with(arg, "--version") || starts_with(arg, "-v") || starts_with(arg, "--no-run") ||
        starts_with(arg, "-nr")) {
      return false;
    }
  }
  return selected;
}

// --- the record --------------------------------------------------------------------------

std::string hex(const char* text) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (; *text != '\0'; ++text) {
    const auto c = static_cast<unsigned char>(*text);
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

// Writes one record line to the grader's FIFO, once. `verdict`: ran, not-run or ended-early.
void write_record(const char* verdict, const char* kind, int result) {
  if (g_record.record_path[0] == '\0' || g_record.written) return;
  g_record.written = true;
  const doctest::TestRunStats& s = g_record.stats;
  const std::string line =
      "lab-record 1 nonce=" + std::to_string(g_record.seed) + " verdict=" + verdict + " kind=" + kind +
      " filter=" + (g_record.filter_on ? "on" : "off") +
      " started=" + std::to_string(g_test_cases_started) +
      " ended=" + (g_record.run_ended ? "1" : "0") +
      " cases=" + std::to_string(s.numTestCasesPassingFilters) +
      " cases_failed=" + std::to_string(s.numTestCasesFailed) +
      " asserts=" + std::to_string(s.numAsserts) +
      " asserts_failed=" + std::to_string(s.numAssertsFailed) +
      " exception=" + (g_record.exception ? "1" : "0") + " result=" + std::to_string(result) +
      " name=" + hex(g_record.case_name) + " file=" + hex(g_record.case_file) + "\n";
  // O_NONBLOCK: a FIFO somebody filled must not hang the harness; the grader keeps its own
  // end open, so the open cannot fail for want of a reader.
  const int fd = ::open(g_record.record_path,
                        O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) ||
      ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    std::fprintf(stderr, "lab: could not write the harness's record (%s)\n",
                 std::strerror(errno));
  }
  if (fd >= 0) ::close(fd);
}

// The process is ending, and main has not returned (exit() from code under test).
void ended_early() { write_record("ended-early", "-", -1); }

// --- the seccomp filter ------------------------------------------------------------------

#if LAB_SECCOMP
// One comparison on the first argument (seccomp.h's SCMP_A0 is a C compound literal).
scmp_arg_cmp first_argument(scmp_compare op, scmp_datum_t a, scmp_datum_t b = 0) {
  scmp_arg_cmp cmp{};
  cmp.arg = 0;
  cmp.op = op;
  cmp.datum_a = a;
  cmp.datum_b = b;
  return cmp;
}

bool install_filter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) return false;
  const auto refuse = SCMP_ACT_ERRNO(EPERM);
  bool ok = true;
  auto add = [&](int rc) { ok = ok && rc == 0; };
  // glibc's pthread_create tries clone3 first, whose flags sit in a struct the filter cannot
  // read: "not implemented" makes glibc fall back to clone, whose flags it can.
  add(seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0));
  const scmp_arg_cmp no_thread = first_argument(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0);
  add(seccomp_rule_add_array(ctx, refuse, SCMP_SYS(clone), 1, &no_thread));
  // Processes, programs, sessions, other processes' signals, memory and descriptors.
  for (const int nr : {SCMP_SYS(fork), SCMP_SYS(vfork), SCMP_SYS(execve), SCMP_SYS(execveat),
                       SCMP_SYS(setsid), SCMP_SYS(setpgid), SCMP_SYS(ptrace),
                       SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
                       SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_getfd),
                       SCMP_SYS(pidfd_send_signal), SCMP_SYS(tkill), SCMP_SYS(kcmp),
                       SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter),
                       SCMP_SYS(io_uring_register), SCMP_SYS(unshare), SCMP_SYS(setns),
                       SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root),
                       SCMP_SYS(chroot), SCMP_SYS(personality), SCMP_SYS(bpf),
                       SCMP_SYS(perf_event_open), SCMP_SYS(userfaultfd), SCMP_SYS(keyctl),
                       SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(setpriority),
                       SCMP_SYS(sched_setscheduler), SCMP_SYS(ioprio_set)}) {
    add(seccomp_rule_add(ctx, refuse, nr, 0));
  }
  // Signals only to this process (abort() and a crash re-raised by doctest use tgkill).
  const scmp_arg_cmp other = first_argument(SCMP_CMP_NE, static_cast<scmp_datum_t>(::getpid()));
  for (const int nr : {SCMP_SYS(kill), SCMP_SYS(tgkill), SCMP_SYS(rt_sigqueueinfo),
                       SCMP_SYS(rt_tgsigqueueinfo)}) {
    add(seccomp_rule_add_array(ctx, refuse, nr, 1, &other));
  }
  add(seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1));
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}
#else
bool install_filter() { return false; }
#endif

// A graded run: before every other constructor of the executable (priority 101), take the
// record's path from the environment, register the exit handlers, install the filter.
__attribute__((constructor(101))) void lab_graded_run_setup() {
  const char* path = std::getenv("LAB_RECORD");
  if (path == nullptr || *path == '\0') return;
  copy_to(g_record.record_path, sizeof g_record.record_path, path);
  ::unsetenv("LAB_RECORD");
  std::atexit(ended_early);
  std::at_quick_exit(ended_early);
  lab::harness::record_not_run = [](const char* kind) { write_record("not-run", kind, 77); };
  g_record.filter_on = install_filter();
  if (!g_record.filter_on) {
    std::fputs("lab: the seccomp filter could not be installed\n", stderr);
  }
}

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  int result = context.run();
  if (result == 0 && g_test_cases_started == 0 && runs_a_selection(argc, argv)) {
    std::fputs("lab: no TEST_CASE matches the --test-case filter: the test is named in "
               "manifest.json but not in the checkpoint sources (renamed in one place only?)\n",
               stderr);
    result = 1;
  }
  write_record("ran", "-", result);
  return result;
}
