// rate_two_atomics.cpp: lesson 04 (rate limiter), window and count in two atomics: a torn
// update, and the fix (both in one word).
//
// TwoAtomicsLimiter keeps the window number and the count in two std::atomic variables. A
// call in a newer window swaps the window number with compare_exchange_strong (only one
// thread wins) and then stores count = 1. Each step is atomic, but the pair is not: between
// the two, another thread sees the NEW window number with the OLD window's count. PackedLimiter
// keeps both in one word and changes them with one compare-exchange.
//
// Four threads, 100 000 windows of limit 8. In each window every thread asks for exactly 2
// calls (so the window has room for all of them), and a barrier starts the threads on the
// next window together, so every window is started by a race. No call may be refused.
//
// Build and run (from the repository root, TSan build):
//   cmake --preset student && cmake --build build/student --target lesson_04_rate_two_atomics
//   ./build/student/lessons/lesson_04_rate_two_atomics
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kThreads = 4;
constexpr std::uint64_t kPerThread = 2;
constexpr std::uint64_t kLimit = kThreads * kPerThread;
constexpr unsigned kCountBits = 8;
constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kCountBits) - 1;

// BROKEN: two atomics, so a reader can see one half of an update without the other.
class TwoAtomicsLimiter {
 public:
  bool try_acquire(std::uint64_t window) {
    std::uint64_t seen_window = window_.load();
    if (window > seen_window && window_.compare_exchange_strong(seen_window, window)) {
      count_.store(1);  // too late: others may already have seen the new window, old count
      return true;
    }
    std::uint64_t count = count_.load();
    do {
      if (count >= kLimit) return false;  // the old window's count: "full"
    } while (!count_.compare_exchange_weak(count, count + 1));
    return true;
  }

 private:
  std::atomic<std::uint64_t> window_{0};
  std::atomic<std::uint64_t> count_{0};
};

// FIXED: window and count in one word, changed together or not at all.
class PackedLimiter {
 public:
  bool try_acquire(std::uint64_t window) {
    std::uint64_t seen = word_.load();
    std::uint64_t desired = 0;
    do {
      if (window > (seen >> kCountBits)) {
        desired = window << kCountBits | 1;
      } else {
        if ((seen & kCountMask) >= kLimit) return false;
        desired = seen + 1;
      }
    } while (!word_.compare_exchange_weak(seen, desired));
    return true;
  }

 private:
  std::atomic<std::uint64_t> word_{0};
};

// Every thread leaves wait() at about the same moment (it spins), so the first calls in a
// window race each other.
class SpinBarrier {
 public:
  void wait() {
    const std::uint64_t generation = generation_.load();
    if (arrived_.fetch_add(1) + 1 == kThreads) {
      arrived_.store(0);
      generation_.fetch_add(1);
    } else {
      while (generation_.load() == generation) std::this_thread::yield();
    }
  }

 private:
  std::atomic<std::size_t> arrived_{0};
  std::atomic<std::uint64_t> generation_{0};
};

template <class Limiter>
void run(const char* name) {
  constexpr std::uint64_t windows = 100'000;
  Limiter limiter;
  SpinBarrier barrier;
  std::vector<std::uint64_t> refused(kThreads, 0);
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < kThreads; ++t) {
      workers.emplace_back([&, t] {
        for (std::uint64_t w = 1; w <= windows; ++w) {
          barrier.wait();
          for (std::uint64_t n = 0; n < kPerThread; ++n) {
            if (!limiter.try_acquire(w)) ++refused[t];
          }
        }
      });
    }
  }  // join
  std::uint64_t total = 0;
  for (std::uint64_t r : refused) total += r;
  std::printf("%s:\n  %llu of %llu calls refused in windows that had room for all of them\n",
              name, static_cast<unsigned long long>(total),
              static_cast<unsigned long long>(windows * kLimit));
}

}  // namespace

int main() {
  run<TwoAtomicsLimiter>("window and count in two atomics");
  run<PackedLimiter>("window and count in one word");
}
