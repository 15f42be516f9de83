// sb_naive.cpp: store buffering WITHOUT a synchronized start is a lottery.
//
// Two threads run a million store-buffering trials each, trial i on its own pair of fresh flags
// x[i], y[i], with relaxed stores and loads: thread 1 does x[i] = 1; r1[i] = y[i], thread 2
// does y[i] = 1; r2[i] = x[i]. r1 == r2 == 0 needs both threads inside trial i within a few
// nanoseconds of each other, and nothing lines them up: when one thread starts a little ahead
// it stays ahead, and the count of weak outcomes swings from none to a few percent from one run
// to the next. Compare with the milestone's harness, which starts every trial on both cores at
// the same instant and sees the weak outcome in a large, stable fraction of trials.
//
// Run it without TSan (TSan slows every atomic down and changes the timing):
//   cmake --preset bench -B build/bench && cmake --build build/bench --target lesson_06_sb_naive
//   build/bench/lessons/lesson_06_sb_naive
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>

int main() {
  constexpr std::size_t kTrials = 1'000'000;
  auto x = std::make_unique<std::atomic<int>[]>(kTrials);
  auto y = std::make_unique<std::atomic<int>[]>(kTrials);
  auto r1 = std::make_unique<int[]>(kTrials);
  auto r2 = std::make_unique<int[]>(kTrials);
  for (std::size_t i = 0; i < kTrials; ++i) {
    x[i].store(0, std::memory_order_relaxed);  // order: relaxed: before the threads start
    y[i].store(0, std::memory_order_relaxed);  // order: relaxed: before the threads start
  }
  std::atomic<int> ready{0};
  auto start_together = [&ready] {
    ready.fetch_add(1);
    while (ready.load() < 2) {
    }
  };
  std::thread first([&] {
    start_together();
    for (std::size_t i = 0; i < kTrials; ++i) {
      x[i].store(1, std::memory_order_relaxed);  // order: relaxed: the experiment's point
      r1[i] = y[i].load(std::memory_order_relaxed);  // order: relaxed: the experiment's point
    }
  });
  std::thread second([&] {
    start_together();
    for (std::size_t i = 0; i < kTrials; ++i) {
      y[i].store(1, std::memory_order_relaxed);  // order: relaxed: the experiment's point
      r2[i] = x[i].load(std::memory_order_relaxed);  // order: relaxed: the experiment's point
    }
  });
  first.join();
  second.join();
  std::uint64_t seen[2][2] = {{0, 0}, {0, 0}};
  for (std::size_t i = 0; i < kTrials; ++i) ++seen[r1[i]][r2[i]];
  std::printf("%zu trials, relaxed, no synchronized start:\n", kTrials);
  std::printf("  r1=0 r2=0 (weak): %llu\n  r1=0 r2=1: %llu\n  r1=1 r2=0: %llu\n  r1=1 r2=1: %llu\n",
              static_cast<unsigned long long>(seen[0][0]),
              static_cast<unsigned long long>(seen[0][1]),
              static_cast<unsigned long long>(seen[1][0]),
              static_cast<unsigned long long>(seen[1][1]));
  return 0;
}
