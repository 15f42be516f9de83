// The classic baseline for a shared counter: a mutex makes the increment a critical
// section. Correct, and fine at low contention; every increment takes and releases a lock.
//   build/student/lessons/lesson_01_mutex_counter
#include <cstdint>
#include <cstdio>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

class MutexCounter {
 public:
  void increment() {
    const std::scoped_lock lock(mu_);
    ++count_;
  }
  std::uint64_t get() {
    const std::scoped_lock lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::uint64_t count_ = 0;  // guarded by mu_
};

int main() {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kPerThread = 1'000'000;
  MutexCounter counter;
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      start.arrive_and_wait();
      for (std::uint64_t i = 0; i < kPerThread; ++i) counter.increment();
    });
  }
  for (auto& th : threads) th.join();
  std::printf("expected %llu, got %llu\n",
              static_cast<unsigned long long>(kThreads * kPerThread),
              static_cast<unsigned long long>(counter.get()));
}
