// seq_cst_models.cpp: Relacy model checks of seq_cst, mixed orders and fences (lesson 06,
// "seq_cst itself" and "Fences against operations"). x86 cannot show most of these outcomes
// (it is TSO); Relacy explores every interleaving, each load reading the latest store or the
// one before it where its implementation of the C++ memory model allows.
// lab-model: relacy
//   lesson_06_seq_cst_models MODEL     runs one model and prints Relacy's verdict
//   lesson_06_seq_cst_models --list    the models
//
// Relacy (Debian relacy-dev) follows the C++11 wording of seq_cst, written before P0668R5
// (C++20) weakened it: the lesson's "What Relacy's verdict means here" explains "p0668_core".
#include <cstdio>
#include <cstring>
#include <iostream>

#include <relacy/relacy.hpp>  // after the standard headers: it redefines new, delete, assert

#if defined(__clang__)
#pragma clang diagnostic ignored "-Wdollar-in-identifier-extension"
#endif

namespace {

// Store buffering, x = 1; r0 = y || y = 1; r1 = x, with the orders of each side chosen.
template <rl::memory_order S0, rl::memory_order L0, rl::memory_order S1, rl::memory_order L1>
struct StoreBuffering : rl::test_suite<StoreBuffering<S0, L0, S1, L1>, 2> {
  rl::atomic<int> x, y;
  int r[2] = {0, 0};
  void before() {
    x($).store(0, rl::mo_relaxed);
    y($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index == 0) {
      x($).store(1, S0);
      r[0] = y($).load(L0);
    } else {
      y($).store(1, S1);
      r[1] = x($).load(L1);
    }
  }
  void after() { RL_ASSERT(!(r[0] == 0 && r[1] == 0)); }
};

// P0668R5's example (section "The core problem"): a release store read by a seq_cst RMW.
//   T0: x = 1 (seq_cst); y = 1 (release)
//   T1: b = y.fetch_add(1) (seq_cst); c = y (relaxed)
//   T2: y = 3 (seq_cst); a = x (seq_cst)
// Outcome b == 1, c == 3, a == 0: forbidden by C++11 (x = 1 happens before the fetch_add, so
// it precedes it in S), allowed by C++20 (x = 1 only *simply* happens before it: S must agree
// with strongly happens-before), and produced by the POWER mapping of seq_cst.
struct P0668Core : rl::test_suite<P0668Core, 3> {
  rl::atomic<int> x, y;
  int a = -1, b = -1, c = -1;
  void before() {
    x($).store(0, rl::mo_relaxed);
    y($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index == 0) {
      x($).store(1, rl::mo_seq_cst);
      y($).store(1, rl::mo_release);
    } else if (index == 1) {
      b = y($).fetch_add(1, rl::mo_seq_cst);
      c = y($).load(rl::mo_relaxed);
    } else {
      y($).store(3, rl::mo_seq_cst);
      a = x($).load(rl::mo_seq_cst);
    }
  }
  void after() { RL_ASSERT(!(b == 1 && c == 3 && a == 0)); }
};

// Message passing through fences: data (a plain variable); release fence; flag (relaxed)
// || flag (relaxed); acquire fence; data. WithFlag = false drops the flag: the fences have no
// atomic write and read between them to pair through, so nothing orders the two data accesses.
template <bool WithFlag>
struct FenceMessagePassing : rl::test_suite<FenceMessagePassing<WithFlag>, 2> {
  rl::var<int> data;
  rl::atomic<int> flag;
  void before() {
    data($) = 0;
    flag($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index == 0) {
      data($) = 42;
      rl::atomic_thread_fence(rl::mo_release, $);
      if (WithFlag) flag($).store(1, rl::mo_relaxed);
    } else {
      if (WithFlag && flag($).load(rl::mo_relaxed) != 1) return;
      rl::atomic_thread_fence(rl::mo_acquire, $);
      const int seen = data($);
      RL_ASSERT(!WithFlag || seen == 42);
    }
  }
};

// One release fence publishes through every later store: two flags, one fence.
// A release *store* to flag1 would publish only through flag1; the reader that reads flag2
// (relaxed store in the writer) would race on data. Fence = true uses the fence.
template <bool Fence>
struct OneFenceTwoFlags : rl::test_suite<OneFenceTwoFlags<Fence>, 2> {
  rl::var<int> data;
  rl::atomic<int> flag1, flag2;
  void before() {
    data($) = 0;
    flag1($).store(0, rl::mo_relaxed);
    flag2($).store(0, rl::mo_relaxed);
  }
  void thread(unsigned index) {
    if (index == 0) {
      data($) = 42;
      if (Fence) {
        rl::atomic_thread_fence(rl::mo_release, $);
        flag1($).store(1, rl::mo_relaxed);
      } else {
        flag1($).store(1, rl::mo_release);
      }
      flag2($).store(1, rl::mo_relaxed);
    } else {
      if (flag2($).load(rl::mo_acquire) != 1) return;
      RL_ASSERT(data($) == 42);
    }
  }
};

struct Model {
  const char* name;
  const char* what;
  bool (*run)(rl::test_params&);
};

template <class Test>
bool simulate(rl::test_params& params) {
  return rl::simulate<Test>(params);
}

constexpr auto sc = rl::mo_seq_cst;
constexpr auto rel = rl::mo_release;
constexpr auto acq = rl::mo_acquire;

const Model kModels[] = {
    {"sb_seq_cst", "store buffering, every access seq_cst: can r0 == r1 == 0?",
     simulate<StoreBuffering<sc, sc, sc, sc>>},
    {"sb_mixed", "store buffering, thread 0 seq_cst, thread 1 release store + acquire load",
     simulate<StoreBuffering<sc, sc, rel, acq>>},
    {"p0668_core", "P0668R5's release store read by a seq_cst fetch_add: b=1, c=3, a=0?",
     simulate<P0668Core>},
    {"fence_mp", "release fence + relaxed flag || relaxed flag + acquire fence: data race?",
     simulate<FenceMessagePassing<true>>},
    {"fence_no_flag", "release fence || acquire fence, no atomic between them: data race?",
     simulate<FenceMessagePassing<false>>},
    {"release_store_two_flags", "release store to flag1, relaxed flag2; reader reads flag2",
     simulate<OneFenceTwoFlags<false>>},
    {"release_fence_two_flags", "release fence, relaxed flag1 and flag2; reader reads flag2",
     simulate<OneFenceTwoFlags<true>>},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s MODEL | --list\n", argv[0]);
    return 2;
  }
  for (const Model& m : kModels) {
    if (std::strcmp(argv[1], "--list") == 0) {
      std::printf("%-26s %s\n", m.name, m.what);
      continue;
    }
    if (std::strcmp(argv[1], m.name) != 0) continue;
    std::printf("model %s: %s\n", m.name, m.what);
    std::fflush(stdout);
    rl::test_params params;
    params.search_type = rl::fair_full_search_scheduler_type;  // loads at most 1 store stale
    params.iteration_count = 10'000'000;                       // a bound; full search ends sooner
    const bool ok = m.run(params);
    std::cout.flush();
    std::printf("relacy: %s after %llu executions (%s)\n",
                ok ? "no violation" : "found a violating execution",
                static_cast<unsigned long long>(params.stop_iteration),
                rl::test_result_str(params.test_result));
    return 0;
  }
  if (std::strcmp(argv[1], "--list") == 0) return 0;
  std::fprintf(stderr, "%s: no model named '%s' (try --list)\n", argv[0], argv[1]);
  return 2;
}
