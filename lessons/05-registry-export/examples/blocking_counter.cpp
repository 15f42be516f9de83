// blocking_counter.cpp: a blocking counter on std::atomic::wait/notify (lesson 05, "Blocking
// without a mutex: atomic wait and notify").
//
//   lesson_05_blocking_counter
//
// BlockingCounter(n): n workers each call decrement() once; wait() blocks until all have.
// (absl::BlockingCounter, Go's sync.WaitGroup with a fixed count, C++20's std::latch.) It is
// one atomic: decrement() is a fetch_sub, and the last one notifies; wait() sleeps in
// atomic::wait(old), which returns only once the value differs from `old` ([atomics.wait]):
// in libstdc++ 12 a few spins, then a futex wait on Linux (bits/atomic_wait.h).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

class BlockingCounter {
 public:
  explicit BlockingCounter(int n) : left_(n) {}
  BlockingCounter(const BlockingCounter&) = delete;
  BlockingCounter& operator=(const BlockingCounter&) = delete;

  // Each of the n workers calls it once, after its work.
  void decrement() {
    // order: release: the worker's work happens before the waiter's return (it acquires).
    if (left_.fetch_sub(1, std::memory_order_release) == 1) left_.notify_all();
  }
  // Returns once all n decrements happened; their work is visible.
  void wait() {
    // order: acquire: pairs with every decrement's release (they form one release sequence
    // of read-modify-writes, [intro.races] p5).
    for (int v = left_.load(std::memory_order_acquire); v != 0;
         v = left_.load(std::memory_order_acquire)) {
      ++waits_;
      left_.wait(v, std::memory_order_acquire);  // blocks while left_ == v
    }
  }
  int waits() const { return waits_; }  // calls of atomic::wait (the waiter's own count)

 private:
  std::atomic<int> left_;
  int waits_ = 0;
};

int main() {
  constexpr int kWorkers = 4;
  BlockingCounter done(kWorkers);
  std::vector<long> results(kWorkers, 0);  // each worker writes its own element
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * (w + 1)));  // "work"
      results[static_cast<std::size_t>(w)] = (w + 1) * 100;
      done.decrement();
    });
  }
  done.wait();
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  long sum = 0;
  for (const long r : results) sum += r;  // safe: every write happened before wait() returned
  std::printf("wait() returned after %lld ms, calling atomic::wait %d time(s); sum of results %ld\n",
              static_cast<long long>(waited.count()), done.waits(), sum);
  for (auto& t : workers) t.join();
}
