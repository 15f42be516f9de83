// store_buffering_harness.hpp: runs the store-buffering litmus test on two cores and counts
// the outcomes. Given code: the student writes only the two thread bodies
// (starter/06-ordering-benchmarks/store_buffering.hpp).
//
// Why a harness at all: the weak outcome r1 == r2 == 0 needs both threads to execute their store
// and load within a few nanoseconds of each other, while each store still sits in its core's store
// buffer. Two threads that just loop over trials drift apart by microseconds and show almost
// nothing. So every trial starts at a shared deadline: the leader thread resets the flags,
// publishes "trial g starts at time T" and both threads spin on the time-stamp counter (kept in
// step across cores on current x86-64 CPUs, whose TSC is invariant) until T, then run their body.
// The threads are pinned to two different CPUs when the OS lets us, so they really run in parallel.
//
// Build it WITHOUT ThreadSanitizer (it is a PLAIN_TESTS source): TSan turns every atomic into a
// call into its runtime, which changes the timing and hides the store buffer.
#pragma once

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

namespace lab::sb {

using Clock = std::chrono::steady_clock;

// A fast clock that every core reads the same: the TSC on x86, steady_clock elsewhere.
inline std::uint64_t ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
#endif
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// How many ticks() make one microsecond (measured once, over ~2 ms).
inline std::uint64_t ticks_per_microsecond() {
  static const std::uint64_t value = [] {
    const auto t0 = Clock::now();
    const std::uint64_t c0 = ticks();
    while (Clock::now() - t0 < std::chrono::milliseconds(2)) {
    }
    const std::uint64_t c1 = ticks();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0);
    return std::max<std::uint64_t>(1, (c1 - c0) / static_cast<std::uint64_t>(us.count()));
  }();
  return value;
}

// The CPUs this process may run on (its affinity mask), in increasing order.
inline std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
  }
  return cpus;
}

inline bool pin_to_cpu(std::thread& thread, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(thread.native_handle(), sizeof set, &set) == 0;
}

struct Outcomes {
  std::uint64_t trials = 0;
  std::uint64_t seen[2][2] = {{0, 0}, {0, 0}};  // seen[r1][r2]
  std::uint64_t late = 0;      // trials a thread reached after the deadline (start not in sync)
  bool pinned = false;         // both threads were pinned to distinct CPUs
  bool timed_out = false;      // stopped at the time limit before `trials`
  std::chrono::milliseconds elapsed{0};

  [[nodiscard]] std::uint64_t weak() const { return seen[0][0]; }
  [[nodiscard]] double weak_per_million() const {
    return trials == 0 ? 0.0 : 1e6 * static_cast<double>(weak()) / static_cast<double>(trials);
  }
};

// Runs `trials` store-buffering trials of Variant (a type with static int first(Flags&) and
// int second(Flags&)), or as many as fit in `time_limit`. An exception from a body (a starter
// TODO) is rethrown here after both threads have stopped; nothing hangs.
template <class Variant, class Flags>
Outcomes run(std::uint64_t trials,
             std::chrono::milliseconds time_limit = std::chrono::milliseconds(4000)) {
  constexpr std::uint64_t kStop = ~std::uint64_t{0};
  Flags flags;
  // The harness's own words, each alone on a cache line: 8 words (64 bytes) apart in one array
  // that starts on a line.
  //   generation  the leader stores g to start trial g, kStop to end
  //   deadline    the tick at which trial g starts (published by `generation`)
  //   done        the follower stores g when it has finished trial g
  //   failed      set by a thread whose body threw
  alignas(64) std::array<std::atomic<std::uint64_t>, 4 * 8> words{};
  std::atomic<std::uint64_t>& generation = words[0];
  std::atomic<std::uint64_t>& deadline = words[8];
  std::atomic<std::uint64_t>& done = words[16];
  std::atomic<std::uint64_t>& failed = words[24];
  int follower_result = 0;  // written before done.store(g), read after done.load() == g
  std::uint64_t follower_late = 0;
  std::exception_ptr leader_error, follower_error;

  // The start gap: long enough for the follower to see the new generation before the deadline.
  const std::uint64_t gap = 2 * ticks_per_microsecond();
  // Both threads leave their spin at the same tick, but not at the same nanosecond of
  // execution (the cores' counters and pipelines differ by a little). The leader shifts its own
  // start by `skew` ticks and steers it towards the point where each thread is equally often
  // the first: there, and only there, the two bodies overlap and the weak outcome can show.
  std::int64_t skew = 0;
  Outcomes out;

  auto wait_until = [](std::uint64_t when) {
    while (ticks() < when) {
    }
  };

  std::thread follower([&] {
    try {
      std::uint64_t expected = 1;
      for (;;) {
        std::uint64_t g;
        std::uint64_t spins = 0;
        // Harness synchronization: acquire pairs with the leader's release of the generation.
        while ((g = generation.load(std::memory_order_acquire)) < expected) {
          if (failed.load(std::memory_order_relaxed) != 0) return;
          if (++spins % 4096 == 0) std::this_thread::yield();
          cpu_relax();
        }
        if (g == kStop) return;
        const std::uint64_t start = deadline.load(std::memory_order_relaxed);
        if (ticks() > start) ++follower_late;
        wait_until(start);
        follower_result = Variant::second(flags) != 0 ? 1 : 0;
        done.store(g, std::memory_order_release);
        expected = g + 1;
      }
    } catch (...) {
      follower_error = std::current_exception();
      failed.store(1, std::memory_order_relaxed);
    }
  });

  const std::vector<int> cpus = allowed_cpus();
  if (cpus.size() >= 2) {
    const bool follower_pinned = pin_to_cpu(follower, cpus[1]);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[0], &set);
    const bool leader_pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    out.pinned = follower_pinned && leader_pinned;
  }

  const auto started = Clock::now();
  try {
    for (std::uint64_t g = 1; g <= trials; ++g) {
      if (g % 1024 == 0 && Clock::now() - started > time_limit) {
        out.timed_out = true;
        break;
      }
      flags.x.store(0, std::memory_order_relaxed);
      flags.y.store(0, std::memory_order_relaxed);
      const std::uint64_t start = ticks() + gap;
      deadline.store(start, std::memory_order_relaxed);
      // Harness synchronization: release publishes the reset flags and the deadline.
      generation.store(g, std::memory_order_release);
      wait_until(static_cast<std::uint64_t>(static_cast<std::int64_t>(start) + skew));
      const int r1 = Variant::first(flags) != 0 ? 1 : 0;
      std::uint64_t spins = 0;
      while (done.load(std::memory_order_acquire) != g) {
        if (failed.load(std::memory_order_relaxed) != 0) break;
        if (++spins % 4096 == 0) std::this_thread::yield();
        cpu_relax();
      }
      if (failed.load(std::memory_order_relaxed) != 0) break;
      ++out.seen[r1][follower_result];
      // (0,1): the leader ran first, so start it later; (1,0): earlier.
      if (r1 == 0 && follower_result == 1) skew = std::min<std::int64_t>(skew + 2, 20000);
      if (r1 == 1 && follower_result == 0) skew = std::max<std::int64_t>(skew - 2, -20000);
      ++out.trials;
    }
  } catch (...) {
    leader_error = std::current_exception();
    failed.store(1, std::memory_order_relaxed);
  }
  generation.store(kStop, std::memory_order_release);
  follower.join();
  // Restore the test thread's affinity to every allowed CPU.
  if (!cpus.empty()) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (const int cpu : cpus) CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  }
  if (leader_error) std::rethrow_exception(leader_error);
  if (follower_error) std::rethrow_exception(follower_error);
  out.late = follower_late;
  out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return out;
}

}  // namespace lab::sb
