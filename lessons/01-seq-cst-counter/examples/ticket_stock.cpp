// The fix, on another counter: one atomic read-modify-write per update. A box office starts
// with 4,000,000 tickets and four threads take 1,000,000 each with fetch_sub, which reads,
// subtracts and writes as one step: nothing is lost, TSan is silent, and
// std::atomic<std::uint64_t> is lock-free on this machine.
//   build/student/lessons/lesson_01_ticket_stock
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
  std::atomic<std::uint64_t> stock{kThreads * kPerThread};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (std::uint64_t i = 0; i < kPerThread; ++i) stock.fetch_sub(1);
    });
  }
  for (auto& th : threads) th.join();
  std::printf("tickets left: expected 0, got %llu\n",
              static_cast<unsigned long long>(stock.load()));
}
