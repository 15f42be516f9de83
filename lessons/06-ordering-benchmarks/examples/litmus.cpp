// litmus.cpp: three classic litmus tests beyond store buffering, run on this machine.
//
//   IRIW  (independent reads of independent writes): two writers, two readers that read the
//         two variables in opposite orders. Can the readers disagree about which write came
//         first? Allowed by C++ with acquire loads (only seq_cst forbids it); needs a machine
//         that is not multi-copy atomic (POWER; x86-64 and ARMv8, both other-multi-copy
//         atomic, never show it).
//   LB    (load buffering): each thread loads one variable, then stores to the other. Can both
//         loads see the other thread's later store? Allowed by C++ for relaxed accesses;
//         forbidden by x86-64 (TSO); allowed by the ARM and POWER architectures, observed on
//         ARM hardware, not on the POWER machines tested (Maranget, Sarkar, Sewell, "A
//         Tutorial Introduction to the ARM and POWER Relaxed Memory Models", 2012).
//   WRC   (write-to-read causality): T1 writes x; T2 reads x, then writes y; T3 reads y, then
//         x. With release/acquire the chain is transitive (cumulativity): T3 must see x.
//         With relaxed accesses C++ allows T3 to miss it; x86-64 never shows it.
//
// The program counts the "weak" outcome of each test over many trials. On x86-64 every count
// is 0: the hardware is stronger than the model. But the zeros prove little: each trial's
// threads wait with yield(), so on a busy machine they rarely run their bodies at the same
// time, and a weaker machine could print 0 for that reason too. Observing these outcomes
// needs a tight, deadline-synchronized start (the store-buffering checkpoint's harness, or
// herdtools' litmus7); deciding what C++ allows needs a model (lesson 06, Relacy).
//   build/bench/lessons/lesson_06_litmus [trials]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace {

constexpr auto rlx = std::memory_order_relaxed;
constexpr auto acq = std::memory_order_acquire;
constexpr auto rel = std::memory_order_release;

std::atomic<int> x{0}, y{0};
int r[4];  // results: each written by one thread, read by main after the trial's barrier

// Runs `bodies` (one per thread) `trials` times, all threads starting each trial together,
// and calls `weak()` after each trial; returns how many trials it returned true for.
long run(long trials, const std::vector<std::function<void()>>& bodies,
         const std::function<bool()>& weak) {
  const int n = static_cast<int>(bodies.size());
  std::atomic<long> round{-1};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      for (long i = 0; i < trials; ++i) {
        while (round.load(acq) < i) std::this_thread::yield();  // wait for trial i
        bodies[static_cast<std::size_t>(t)]();
        done.fetch_add(1, rel);
      }
    });
  }
  long count = 0;
  for (long i = 0; i < trials; ++i) {
    x.store(0, rlx);
    y.store(0, rlx);
    done.store(0, rlx);
    round.store(i, rel);  // start trial i
    while (done.load(acq) < n) std::this_thread::yield();
    if (weak()) ++count;
  }
  for (auto& th : threads) th.join();
  return count;
}

}  // namespace

int main(int argc, char** argv) {
  const long trials = argc > 1 ? std::atol(argv[1]) : 20000;
  std::printf("%ld trials per test\n", trials);

  const long iriw = run(
      trials,
      {[] { x.store(1, rel); }, [] { y.store(1, rel); },
       [] { r[0] = x.load(acq); r[1] = y.load(acq); },
       [] { r[2] = y.load(acq); r[3] = x.load(acq); }},
      [] { return r[0] == 1 && r[1] == 0 && r[2] == 1 && r[3] == 0; });
  std::printf("%-60s %ld\n", "IRIW, release stores, acquire loads: readers disagree", iriw);

  const long lb = run(
      trials,
      {[] { r[0] = x.load(rlx); y.store(1, rlx); }, [] { r[1] = y.load(rlx); x.store(1, rlx); }},
      [] { return r[0] == 1 && r[1] == 1; });
  std::printf("%-60s %ld\n", "LB, relaxed: both loads see the other's later store", lb);

  const long wrc = run(
      trials,
      {[] { x.store(1, rlx); }, [] { r[0] = x.load(rlx); if (r[0] == 1) y.store(1, rlx); },
       [] { r[1] = y.load(rlx); r[2] = x.load(rlx); }},
      [] { return r[1] == 1 && r[2] == 0; });
  std::printf("%-60s %ld\n", "WRC, relaxed: T3 sees y == 1 but x == 0", wrc);
  return 0;
}
