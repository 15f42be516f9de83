// rate_two_atomics.cpp: lesson 04 (rate limiter), window and count in two atomics: a torn
// update, against a reference that is right by construction (one mutex).
//
// TwoAtomicsLimiter keeps the window number and the count in two std::atomic variables. A
// call in a newer window swaps the window number with compare_exchange_strong (only one
// thread wins) and then stores count = 1. Within a window it admits by ticket: every call adds
// 1 to the count and is admitted if the count before its add was below the limit. Each step is
// atomic, but the pair is not: between the two, another thread sees the NEW window number with
// the OLD window's count. LockedLimiter changes both in one critical section (the exercise does
// it without a lock).
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
#include <mutex>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kThreads = 4;
constexpr std::uint64_t kPerThread = 2;
constexpr std::uint64_t kLimit = kThreads * kPerThread;

// BROKEN: two atomics, so a reader can see one half of an update without the other.
class TwoAtomicsLimiter {
 public:
  bool try_acquire(std::uint64_t window) {
    std::uint64_t seen_window = current_window_.load();
    if (window > seen_window && current_window_.compare_exchange_strong(seen_window, window)) {
      used_.store(1);  // too late: others may already have seen the new window, old count
      return true;
    }
    return used_.fetch_add(1) < kLimit;  // a ticket from the old window's count: "full"
  }

 private:
  std::atomic<std::uint64_t> current_window_{0};
  std::atomic<std::uint64_t> used_{0};
};

// A REFERENCE that is right by construction: the decision and the write in one critical
// section of a mutex. (The exercise is to get the same one-step decision without a lock, with
// one compare-exchange loop over one packed word; rate-limiter.md, "The fix", asks how.)
class LockedLimiter {
 public:
  bool try_acquire(std::uint64_t window) {
    const std::scoped_lock lock(mu_);
    if (window > window_now_) {
      window_now_ = window;
      used_ = 0;
    }
    if (used_ >= kLimit) return false;
    ++used_;
    return true;
  }

 private:
  std::mutex mu_;
  std::uint64_t window_now_ = 0;  // guarded by mu_
  std::uint64_t used_ = 0;        // guarded by mu_
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
  run<LockedLimiter>("window and count under one mutex");
}
