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
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>

#include "lab_sanitizer_options.h"

extern "C" {
// NOLINTNEXTLINE: the sanitizer runtimes look these symbols up by name.
const char* __tsan_default_options() { return LAB_TSAN_DEFAULT_OPTIONS; }
const char* __asan_default_options() { return LAB_ASAN_DEFAULT_OPTIONS; }
const char* __ubsan_default_options() { return LAB_UBSAN_DEFAULT_OPTIONS; }
}

namespace {

int g_test_cases_started = 0;

// A listener: doctest calls it besides the selected reporter, for every run.
struct CountTestCases : doctest::IReporter {
  explicit CountTestCases(const doctest::ContextOptions& /*options*/) {}
  void report_query(const doctest::QueryData& /*data*/) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& /*stats*/) override {}
  void test_case_start(const doctest::TestCaseData& /*data*/) override { ++g_test_cases_started; }
  void test_case_reenter(const doctest::TestCaseData& /*data*/) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& /*stats*/) override {}
  void test_case_exception(const doctest::TestCaseException& /*e*/) override {}
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

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int result = context.run();
  if (result == 0 && g_test_cases_started == 0 && runs_a_selection(argc, argv)) {
    std::fputs("lab: no TEST_CASE matches the --test-case filter: the test is named in "
               "manifest.json but not in the checkpoint sources (renamed in one place only?)\n",
               stderr);
    return 1;
  }
  return result;
}
