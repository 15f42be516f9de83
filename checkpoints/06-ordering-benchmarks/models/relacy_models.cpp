// m6_models: Relacy model checks of the course's ordering claims (instructor-only).
//
// The course machine is x86-64 (TSO): it can show store buffering, but it can never show
// relaxed message passing or a reordered pair of loads going wrong, because its hardware does
// not reorder those. Relacy (Dmitry Vyukov's relacy, Debian relacy-dev) runs a small test many
// times under its model of the C++ memory model, exploring the interleavings AND, for each load,
// the latest store or the one before it where allowed, so a protocol only correct "on x86" fails
// here as it would on AArch64 or POWER (or after a compiler reordering).
//
//   m6_models MODEL     runs one model; exit 0 when Relacy's verdict is the expected one
//   m6_models --list    lists the models and their expected verdicts
//
// A model that is expected to FAIL (an assertion Relacy must violate) passes when Relacy finds
// the violating execution; the history it prints is the counterexample.
#include <cstdio>
#include <cstring>
#include <iostream>

#include <relacy/relacy.hpp>  // after the standard headers: it redefines new, delete, assert

// Relacy's `$` (its "here" macro: file and line) is an identifier character to clang.
#if defined(__clang__)
#pragma clang diagnostic ignored "-Wdollar-in-identifier-extension"
#endif

namespace {

// --- Store buffering: x = 1; r1 = y  ||  y = 1; r2 = x ---------------------------------

template <rl::memory_order Store, rl::memory_order Load>
struct StoreBuffering : rl::test_suite<StoreBuffering<Store, Load>, 2> {
  rl::atomic<int> x, y;
  int r[2] = {0, 0};

  void before() {
    x($).store(0, rl::mo_relaxed);
    y($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index == 0) {
      x($).store(1, Store);
      r[0] = y($).load(Load);
    } else {
      y($).store(1, Store);
      r[1] = x($).load(Load);
    }
  }
  void after() { RL_ASSERT(!(r[0] == 0 && r[1] == 0)); }
};

// Relaxed store, seq_cst fence, relaxed load on both sides.
struct FencedStoreBuffering : rl::test_suite<FencedStoreBuffering, 2> {
  rl::atomic<int> x, y;
  int r[2] = {0, 0};

  void before() {
    x($).store(0, rl::mo_relaxed);
    y($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    rl::atomic<int>& mine = index == 0 ? x : y;
    rl::atomic<int>& other = index == 0 ? y : x;
    mine($).store(1, rl::mo_relaxed);
    rl::atomic_thread_fence(rl::mo_seq_cst, $);
    r[index] = other($).load(rl::mo_relaxed);
  }
  void after() { RL_ASSERT(!(r[0] == 0 && r[1] == 0)); }
};

// --- Message passing: data = 42; ready = 1  ||  if (ready) assert(data == 42) ----------

template <rl::memory_order Store, rl::memory_order Load>
struct MessagePassing : rl::test_suite<MessagePassing<Store, Load>, 2> {
  rl::atomic<int> data, ready;

  void before() {
    data($).store(0, rl::mo_relaxed);
    ready($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index == 0) {
      data($).store(42, rl::mo_relaxed);
      ready($).store(1, Store);
    } else if (ready($).load(Load) == 1) {
      RL_ASSERT(data($).load(rl::mo_relaxed) == 42);
    }
  }
};

// --- Milestone 2: errors <= requests in every snapshot --------------------------------
// Two writers each record a request and then its error; a reader takes one snapshot. The
// contract's protocol: relaxed request increment, release error increment, snapshot loads
// errors (acquire) BEFORE requests (relaxed). Two writers, so the acquire load may read an
// error increment of either writer, or both: the release sequence of RMWs is exercised.

template <rl::memory_order ErrorRmw, rl::memory_order ErrorLoad, bool ErrorsFirst>
struct ErrorsNotAboveRequests : rl::test_suite<ErrorsNotAboveRequests<ErrorRmw, ErrorLoad, ErrorsFirst>, 3> {
  rl::atomic<unsigned> requests, errors;

  void before() {
    requests($).store(0, rl::mo_relaxed);
    errors($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index < 2) {
      requests($).fetch_add(1, rl::mo_relaxed);  // record_request()
      errors($).fetch_add(1, ErrorRmw);          // record_error()
      return;
    }
    unsigned e, r;  // snapshot()
    if (ErrorsFirst) {
      e = errors($).load(ErrorLoad);
      r = requests($).load(rl::mo_relaxed);
    } else {
      r = requests($).load(rl::mo_relaxed);
      e = errors($).load(ErrorLoad);
    }
    RL_ASSERT(e <= r);
  }
};

struct Model {
  const char* name;
  bool expect_failure;
  const char* what;
  bool (*run)(rl::test_params&);
};

template <class Test>
bool simulate(rl::test_params& params) {
  return rl::simulate<Test>(params);
}

const Model kModels[] = {
    {"store_buffering_seq_cst", false, "seq_cst stores and loads: r1 == r2 == 0 is impossible",
     simulate<StoreBuffering<rl::mo_seq_cst, rl::mo_seq_cst>>},
    {"store_buffering_acq_rel", true, "release stores, acquire loads: r1 == r2 == 0 is allowed",
     simulate<StoreBuffering<rl::mo_release, rl::mo_acquire>>},
    {"store_buffering_seq_cst_store_relaxed_load", true,
     "seq_cst stores, relaxed loads: allowed by C++ (x86's xchg store happens to forbid it)",
     simulate<StoreBuffering<rl::mo_seq_cst, rl::mo_relaxed>>},
    {"store_buffering_fence", false, "relaxed + seq_cst fence between store and load: impossible",
     simulate<FencedStoreBuffering>},
    {"message_passing_relaxed", true, "relaxed flag: the reader may see ready == 1 and data == 0",
     simulate<MessagePassing<rl::mo_relaxed, rl::mo_relaxed>>},
    {"message_passing_release_acquire", false, "release flag, acquire load: data is visible",
     simulate<MessagePassing<rl::mo_release, rl::mo_acquire>>},
    {"m2_errors_le_requests", false,
     "milestone 2 as specified: release error RMW, acquire load of errors before requests",
     simulate<ErrorsNotAboveRequests<rl::mo_release, rl::mo_acquire, true>>},
    {"m2_requests_loaded_first", true,
     "milestone 2 with the loads swapped (requests, then errors): errors > requests is possible",
     simulate<ErrorsNotAboveRequests<rl::mo_release, rl::mo_acquire, false>>},
    {"m2_relaxed_error_increment", true,
     "milestone 2 with a relaxed error RMW: nothing publishes the request",
     simulate<ErrorsNotAboveRequests<rl::mo_relaxed, rl::mo_acquire, true>>},
    {"m2_relaxed_errors_load", true,
     "milestone 2 with a relaxed load of errors: nothing acquires the request",
     simulate<ErrorsNotAboveRequests<rl::mo_release, rl::mo_relaxed, true>>},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL | --list\n", argv[0]);
    return 2;
  }
  if (std::strcmp(argv[1], "--list") == 0) {
    for (const Model& m : kModels) {
      std::printf("%-34s expected: %-7s %s\n", m.name, m.expect_failure ? "FAILS" : "passes",
                  m.what);
    }
    return 0;
  }
  for (const Model& m : kModels) {
    if (std::strcmp(argv[1], m.name) != 0) continue;
    std::printf("model %s: %s\n", m.name, m.what);
    std::fflush(stdout);
    // Relacy prints to std::cout (a failing execution's history, step by step). Do not point
    // it at a std::ostringstream: Relacy replaces the allocator while it simulates, and a
    // string buffer that grows during the simulation is freed by the wrong allocator.
    rl::test_params params;
    params.search_type = rl::fair_full_search_scheduler_type;  // loads at most 1 store stale
    params.iteration_count = 10'000'000;                       // a bound; full search ends sooner
    const bool ok = m.run(params);  // true when no assertion failed
    const bool failed = !ok;
    std::cout.flush();
    std::printf("relacy: %s after %llu executions (%s)\n",
                failed ? "found an execution that violates the assertion" : "no violation",
                static_cast<unsigned long long>(params.stop_iteration),
                rl::test_result_str(params.test_result));
    if (failed == m.expect_failure) {
      std::printf("as expected: %s\n", m.expect_failure ? "Relacy found the failure" : "it passes");
      return 0;
    }
    std::printf("UNEXPECTED: this model should %s\n", m.expect_failure ? "fail" : "pass");
    return 1;
  }
  std::fprintf(stderr, "%s: no model named '%s' (try --list)\n", argv[0], argv[1]);
  return 2;
}
