// spin_wait.cpp: three ways to spin on a lock word, timed (lesson 04, "Spinning politely").
//
// Two threads each take and release a spinlock 200,000 times around a tiny critical section.
//   tas         spins on exchange(true): every attempt is a locked RMW that takes the line
//   ttas        spins on load() and tries exchange(true) only when the lock looks free
//   ttas+pause  the same, with the x86 `pause` instruction and a capped exponential backoff
// It prints the wall time per lock/unlock pair and checks the count. Timing depends on the
// machine and its load: run it several times (bench preset, no sanitizer).
//   build/bench/lessons/lesson_04_spin_wait
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

enum class Kind { tas, ttas, ttas_pause };

class SpinLock {
 public:
  explicit SpinLock(Kind kind) : kind_(kind) {}
  void lock() noexcept {
    unsigned backoff = 1;
    // order: acquire on success makes the previous holder's critical section visible.
    while (locked_.exchange(true, std::memory_order_acquire)) {
      if (kind_ == Kind::tas) continue;
      // order: relaxed: only a hint that the exchange might succeed now.
      while (locked_.load(std::memory_order_relaxed)) {
        if (kind_ == Kind::ttas_pause) {
          for (unsigned i = 0; i < backoff; ++i) cpu_relax();
          backoff = std::min(backoff * 2, 64u);
        }
      }
    }
  }
  // order: release publishes the critical section to the next lock().
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  Kind kind_;
  std::atomic<bool> locked_{false};
};

double run(Kind kind, std::uint64_t& count) {
  constexpr int kThreads = 2;
  constexpr int kRounds = 200'000;
  SpinLock lock(kind);
  count = 0;
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < kRounds; ++i) {
          lock.lock();
          ++count;
          lock.unlock();
        }
      });
    }
  }
  const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
  return took.count() / (kThreads * kRounds);
}

}  // namespace

int main() {
  const struct { Kind kind; const char* name; } kinds[] = {
      {Kind::tas, "tas"}, {Kind::ttas, "ttas"}, {Kind::ttas_pause, "ttas+pause+backoff"}};
  for (const auto& k : kinds) {
    std::uint64_t count = 0;
    const double ns = run(k.kind, count);
    std::printf("%-20s %7.1f ns per lock/unlock, count %llu (expected 400000)\n", k.name, ns,
                static_cast<unsigned long long>(count));
  }
  return 0;
}
