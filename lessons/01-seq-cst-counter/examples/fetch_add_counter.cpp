// The fix: one atomic read-modify-write per increment. Nothing is lost, TSan is silent,
// and std::atomic<std::uint64_t> is lock-free on this machine.
//   build/student/lessons/lesson_01_fetch_add_counter
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <thread>
#include <vector>

int main() {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 1'000'000;
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  std::atomic<std::uint64_t> count{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (std::uint64_t i = 0; i < kPerThread; ++i) count.fetch_add(1);
    });
  }
  for (auto& th : threads) th.join();
  std::printf("expected %llu, got %llu\n",
              static_cast<unsigned long long>(kThreads * kPerThread),
              static_cast<unsigned long long>(count.load()));
}
