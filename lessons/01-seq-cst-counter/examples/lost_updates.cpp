// A race condition without a data race: every access is atomic, yet updates are lost,
// because load() and store() are two steps and another thread can run between them.
// TSan stays silent (there is no data race to report); only counting reveals the bug.
//   build/student/lessons/lesson_01_lost_updates        (TSan build)
//   build/bench/lessons/lesson_01_lost_updates            (optimized, no sanitizer)
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <latch>
#include <thread>
#include <vector>

int main() {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 1'000'000;
  std::atomic<std::uint64_t> count{0};
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (std::uint64_t i = 0; i < kPerThread; ++i) {
        count.store(count.load() + 1);  // BROKEN: read, then write: not one atomic step
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::uint64_t expected = kThreads * kPerThread;
  const std::uint64_t got = count.load();
  std::printf("expected %llu, got %llu: %llu increments lost (%.1f%%)\n",
              static_cast<unsigned long long>(expected), static_cast<unsigned long long>(got),
              static_cast<unsigned long long>(expected - got),
              100.0 * static_cast<double>(expected - got) / static_cast<double>(expected));
}
