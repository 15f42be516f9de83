// latch_barrier.cpp: std::latch and std::barrier (lesson 05, "Starting and joining together:
// latch and barrier").
//
//   lesson_05_latch_barrier
//
// Part 1: Go's sync.WaitGroup is std::latch: a count set once, count_down() by each worker,
// wait() until zero. Part 2: starting threads together, as the checkpoints do (lab_test.hpp's
// run_together()): each thread arrive_and_wait()s on one latch before it reads the clock; the
// spread of start times with and without it. Part 3: std::barrier, reusable, with a completion
// function that runs once per phase, after every thread arrived and before any continues.
#include <algorithm>
#include <barrier>
#include <chrono>
#include <cstdio>
#include <latch>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

long long spread_us(bool with_latch) {
  constexpr int kThreads = 4;
  std::vector<Clock::time_point> started(kThreads);
  std::latch ready(kThreads);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        if (with_latch) ready.arrive_and_wait();
        started[static_cast<std::size_t>(i)] = Clock::now();
      });
    }
  }  // jthreads join here
  const auto [first, last] = std::minmax_element(started.begin(), started.end());
  return std::chrono::duration_cast<std::chrono::microseconds>(*last - *first).count();
}

int main() {
  // Part 1: a wait group.
  std::latch workers_done(3);
  std::vector<int> out(3, 0);
  std::vector<std::jthread> workers;
  for (int i = 0; i < 3; ++i) {
    workers.emplace_back([&, i] {
      out[static_cast<std::size_t>(i)] = i * i;
      workers_done.count_down();  // happens before wait() returns ([thread.latch] p2)
    });
  }
  workers_done.wait();
  std::printf("latch: 3 workers done, results %d %d %d\n", out[0], out[1], out[2]);

  // Part 2: how far apart do 4 new threads start? (median of 21 runs each)
  for (const bool with_latch : {false, true}) {
    std::vector<long long> runs;
    for (int r = 0; r < 21; ++r) runs.push_back(spread_us(with_latch));
    std::sort(runs.begin(), runs.end());
    std::printf("start spread of 4 threads %s: median %lld us, worst %lld us\n",
                with_latch ? "released by a latch" : "as created        ", runs[10], runs[20]);
  }

  // Part 3: a barrier with 3 phases; the completion function sees every thread's phase result.
  int phase = 0;
  std::vector<int> partial(2, 0);
  std::barrier sync(2, [&]() noexcept {
    std::printf("barrier: phase %d complete, partial sums %d + %d\n", phase, partial[0],
                partial[1]);
    ++phase;
  });
  std::vector<std::jthread> pair;
  for (int t = 0; t < 2; ++t) {
    pair.emplace_back([&, t] {
      for (int p = 0; p < 3; ++p) {
        partial[static_cast<std::size_t>(t)] += (t + 1) * 10;
        sync.arrive_and_wait();
      }
    });
  }
}
