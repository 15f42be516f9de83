// Checkpoints for milestone 4, stretch exercise: RateLimiter (rate_limiter.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points (stretch
// points) and mutants.json keeps a wrong implementation that it must fail.
//
// Time is passed in, so every window boundary is crossed on purpose: the tests walk the
// threads through thousands of windows and count admissions. The wrong answers (a rollover as
// check-then-act, window and count in two atomics, add-then-undo) are made of atomic
// operations only, so ThreadSanitizer has nothing to report; only counting catches them, and
// lab::race_until repeats each experiment until the threads have really competed
// (lab_test.hpp); a run that never got them to compete ends "inconclusive", never "passed".
#include <rate_limiter.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lab_test.hpp"

using metrics::RateLimiter;
using namespace std::chrono_literals;

namespace {

using TimePoint = RateLimiter::time_point;

// Stop when 2000 limiters (windows) were competed for, or after 2 s with at least 100.
constexpr lab::RaceGoal kRace{.enough = 2000, .budget = std::chrono::milliseconds(2000),
                              .needed = 100};

// Some point in time, far from the clock's epoch (any time_point must work).
constexpr TimePoint kStart{std::chrono::hours(24 * 365)};

// The start of window `k` after kStart, for a limiter with a window of `window`.
TimePoint window_start(std::size_t k, RateLimiter::duration window) {
  return kStart + static_cast<std::int64_t>(k) * window;
}

// A reusable barrier that spins: every thread leaves it at about the same moment, so the first
// calls after it really race. It yields only after a while of spinning, so that on a busy
// machine a waiting thread does not give its CPU away just before the last one arrives.
class SpinBarrier {
 public:
  explicit SpinBarrier(std::size_t threads) : threads_(threads) {}
  void arrive_and_wait() {
    const std::uint64_t generation = generation_.load();
    if (arrived_.fetch_add(1) + 1 == threads_) {
      arrived_.store(0);
      generation_.fetch_add(1);
    } else {
      for (std::uint64_t spins = 1; generation_.load() == generation; ++spins) {
        if (spins % 4096 == 0) std::this_thread::yield();
      }
    }
  }

 private:
  const std::size_t threads_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace

TEST_CASE("RateLimiter admits limit calls per window and then refuses until the next window") {
  // Catches: an off-by-one check (count > limit admits limit + 1), a rollover that does not
  // count the call that starts the new window (admits limit + 1 in every window but the first),
  // a window that never rolls over, and a copyable limiter.
  CHECK(std::is_same_v<decltype(std::declval<RateLimiter&>().try_acquire(kStart)), bool>);
  CHECK(std::is_same_v<decltype(std::declval<RateLimiter&>().try_acquire()), bool>);
  CHECK_FALSE(std::is_copy_constructible_v<RateLimiter>);
  CHECK_FALSE(std::is_copy_assignable_v<RateLimiter>);
  RateLimiter limiter(3, 1s);
  CHECK(limiter.limit() == 3);
  CHECK(limiter.window() == 1s);
  for (std::size_t k = 0; k < 4; ++k) {
    const TimePoint start = window_start(k, 1s);
    CAPTURE(k);
    CHECK(limiter.try_acquire(start));
    CHECK(limiter.try_acquire(start + 500ms));
    CHECK(limiter.try_acquire(start + 999ms));
    CHECK_FALSE(limiter.try_acquire(start + 999ms));
    CHECK_FALSE(limiter.try_acquire(start + 999'999'999ns));
  }
  // An idle gap of many windows: the next call starts a fresh window.
  CHECK(limiter.try_acquire(window_start(1000, 1s)));
  RateLimiter one(1, 10ms);
  CHECK(one.try_acquire(kStart));
  CHECK_FALSE(one.try_acquire(kStart + 9ms));
  CHECK(one.try_acquire(kStart + 10ms));
  // The steady_clock overload: a limit of 2 per hour admits exactly two calls now.
  RateLimiter hourly(2, 1h);
  CHECK(hourly.try_acquire());
  CHECK(hourly.try_acquire());
  CHECK_FALSE(hourly.try_acquire());
}

TEST_CASE("RateLimiter rejects a zero limit and a window that is not positive") {
  // Catches: a constructor (check_arguments()) that accepts a limit of 0 (it could never admit
  // anything), a window of 0 (division by zero) or a negative window, and a window too short for
  // the packed word (shorter than 2^(bit_width(limit) + 1) nanoseconds: its window numbers would
  // not fit).
  CHECK_THROWS_AS(RateLimiter(0, 1s), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(10, 0s), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(10, -1s), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(10, RateLimiter::duration(-1)), std::invalid_argument);
  CHECK_THROWS_AS(RateLimiter(1000, 2047ns), std::invalid_argument);  // needs >= 2048 ns
  CHECK_THROWS_AS(RateLimiter(std::uint64_t{1} << 61, 24h), std::invalid_argument);
  RateLimiter shortest(1000, 2048ns);
  CHECK(shortest.window() == 2048ns);
  CHECK(shortest.try_acquire(kStart));
  RateLimiter fast(1, 4ns);
  CHECK(fast.limit() == 1);
  CHECK(fast.try_acquire(kStart));
  CHECK_FALSE(fast.try_acquire(kStart + 3ns));
  CHECK(fast.try_acquire(kStart + 4ns));
  // Extreme time_points: the oldest and the newest representable one.
  RateLimiter extremes(1, 1s);
  CHECK(extremes.try_acquire(RateLimiter::time_point::min()));
  CHECK_FALSE(extremes.try_acquire(RateLimiter::time_point::min()));
  CHECK(extremes.try_acquire(RateLimiter::time_point::max()));
  CHECK_FALSE(extremes.try_acquire(RateLimiter::time_point::max()));
}

TEST_CASE("RateLimiter counts a now that goes backwards against the newest window") {
  // Catches: a rollover on any change of window, backwards too: a late clock reading reopens
  // the old window, resets its count and admits another `limit` calls, and the next call of the
  // newer window resets again (rate-limiter.md, "A `now` that goes backwards": which windows may
  // replace the current one?).
  RateLimiter limiter(2, 1s);
  const TimePoint w5 = window_start(5, 1s);
  const TimePoint w6 = window_start(6, 1s);
  CHECK(limiter.try_acquire(w5));
  CHECK(limiter.try_acquire(w6));           // window 6 starts: 1 of 2
  CHECK(limiter.try_acquire(w5 + 900ms));   // late reading: counted in window 6, 2 of 2
  CHECK_FALSE(limiter.try_acquire(w5));     // window 6 is full, window 5 is not reopened
  CHECK_FALSE(limiter.try_acquire(w6 + 1ms));
  CHECK_FALSE(limiter.try_acquire(kStart));  // far in the past: still window 6
  CHECK(limiter.try_acquire(window_start(7, 1s)));
  CHECK(limiter.try_acquire(w6));           // counted in window 7
  CHECK_FALSE(limiter.try_acquire(window_start(7, 1s)));
}

TEST_CASE("RateLimiter never admits more than limit in one window under contention") {
  // Catches: check-then-act on the count in try_acquire() (load, compare with the limit, then
  // fetch_add): two threads that both see limit - 1 are both admitted. Thousands of limiters with a
  // limit of 4, all threads on the same limiter at the same time and in the same window, each
  // calling until refused; every limiter must have admitted exactly 4.
  constexpr std::size_t kLimiters = 5000;
  constexpr std::uint64_t kLimit = 4;
  const lab::RaceTally tally = lab::race_until(kRace, [&](lab::RaceTally& r) {
    std::deque<RateLimiter> limiters;
    for (std::size_t i = 0; i < kLimiters; ++i) limiters.emplace_back(kLimit, 1s);
    const std::size_t threads = lab::stress_threads();
    std::vector<std::vector<std::uint8_t>> admitted(threads, std::vector<std::uint8_t>(kLimiters));
    lab::StartLine start(threads);
    const auto run = lab::run_together(threads, [&](std::size_t t) {
      start.arrive_and_wait();
      for (std::size_t i = 0; i < kLimiters; ++i) {
        // A broken limiter may admit forever: stop after more than the limit.
        while (admitted[t][i] <= kLimit && limiters[i].try_acquire(kStart + 1ms)) ++admitted[t][i];
      }
    });
    for (std::size_t i = 0; i < kLimiters; ++i) {
      std::uint64_t total = 0;
      bool shared = false;
      for (std::size_t t = 0; t < threads; ++t) {
        total += admitted[t][i];
        shared = shared || (admitted[t][i] > 0 && admitted[t][i] < kLimit);
      }
      if (total != kLimit) ++r.wrong;
      if (run.overlapped && shared) ++r.contended;
    }
    if (run.overlapped) ++r.overlapped_batches;
  });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " shared limiters, " << tally.elapsed.count() << " ms");
  CHECK_MESSAGE(tally.wrong == 0, tally.wrong << " limiters did not admit exactly their limit "
                                                 "of 4 in one window");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}

TEST_CASE("RateLimiter admits exactly limit per window across contended rollovers") {
  // Catches: the rollover as check-then-act (`if (window is old) store(new window, count 1)`):
  // two threads that both see the old window both reset it and both are admitted, so the new
  // window admits more than the limit; and add-then-undo (fetch_add, then fetch_sub when
  // full): an undo that lands after another thread's rollover takes a slot back from the NEW
  // window, which then admits limit + 1. All threads walk through thousands of windows of one
  // limiter, calling until refused in each, so every window is started by a race and filled
  // by a race; each window must admit exactly the limit. (A thread still in window k when
  // another has started k + 1 is counted in k + 1, as documented; the total stays exact.)
  constexpr std::size_t kWindows = 3000;
  constexpr std::uint64_t kLimit = 4;
  constexpr std::uint64_t kCap = 1000;  // a broken limiter may admit forever
  const lab::RaceTally tally = lab::race_until(kRace, [&](lab::RaceTally& r) {
    RateLimiter limiter(kLimit, 1s);
    const std::size_t threads = lab::stress_threads();
    std::vector<std::uint64_t> admitted(threads, 0), shared(threads, 0);
    lab::StartLine start(threads);
    const auto run = lab::run_together(threads, [&](std::size_t t) {
      start.arrive_and_wait();
      for (std::size_t k = 1; k <= kWindows; ++k) {
        const TimePoint now = window_start(k, 1s) + 250ms;
        std::uint64_t mine = 0;
        while (mine < kCap && limiter.try_acquire(now)) ++mine;
        admitted[t] += mine;
        if (mine > 0 && mine < kLimit) ++shared[t];
      }
    });
    std::uint64_t total = 0;
    for (std::size_t t = 0; t < threads; ++t) total += admitted[t];
    if (total != kWindows * kLimit) ++r.wrong;
    if (run.overlapped) {
      ++r.overlapped_batches;
      for (std::size_t t = 0; t < threads; ++t) r.contended += shared[t];
    }
    // A next window is still fresh: the limiter's word is not corrupted.
    for (std::uint64_t n = 0; n < kLimit; ++n) {
      if (!limiter.try_acquire(window_start(kWindows + 1, 1s))) ++r.wrong;
    }
    if (limiter.try_acquire(window_start(kWindows + 1, 1s))) ++r.wrong;
  });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " shared windows, " << tally.elapsed.count() << " ms");
  CHECK_MESSAGE(tally.wrong == 0, "in " << tally.wrong << " runs the limiter did not admit exactly "
                                  << kLimit << " calls in each of " << kWindows << " windows");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}

TEST_CASE("RateLimiter rollover under contention loses no admission of the new window") {
  // Catches: window and count in two atomics (a thread sees the new window number with the old
  // window's full count and refuses a call in an empty window), and a rollover attempted once (a
  // thread that loses the race to start the window returns false although the new window has room).
  // In each window the threads together ask for exactly `limit` calls, all released at once by a
  // barrier, so every call must be admitted. Two threads, pinned one per CPU: a barrier per window
  // with more threads than CPUs waits for the scheduler, not for the other thread, on a busy
  // machine, and a busy scheduler tends to keep two unpinned threads on one core, where they take
  // turns instead of racing.
  lab::require_cpus(2);
  constexpr std::size_t kWindows = 500;
  constexpr std::uint64_t kPerThread = 2;
  // A lost admission needs a thread to lose the race to start a window at the worst moment:
  // rarer than the other races, so this experiment wants many raced rollovers. On a machine
  // busy with other work they come slowly even pinned (under ASan with four CPU hogs a run
  // took 3.1 s on average, against 8 s unpinned), so it may look for them longer than the
  // other tests before it gives up.
  constexpr lab::RaceGoal kRolloverRace{.enough = 10'000,
                                        .budget = std::chrono::milliseconds(3000),
                                        .needed = 200,
                                        .give_up = std::chrono::milliseconds(25'000)};
  std::uint64_t refused_total = 0;
  const lab::RaceTally tally = lab::race_until(kRolloverRace, [&](lab::RaceTally& r) {
    const std::size_t threads = 2;
    RateLimiter limiter(kPerThread * threads, 1s);
    std::vector<std::uint64_t> refused(threads, 0), contended(threads, 0);
    SpinBarrier barrier(threads);
    std::atomic<std::size_t> inside{0};
    const auto run = lab::run_together(threads, [&](std::size_t t) {
      lab::pin_to_usable_cpu(t);  // one thread per CPU: they can only meet in parallel
      for (std::size_t k = 1; k <= kWindows; ++k) {
        barrier.arrive_and_wait();  // nobody is still in window k - 1
        const TimePoint now = window_start(k, 1s) + 1ms;
        // Another thread inside try_acquire at the same time: the rollover was raced.
        if (inside.fetch_add(1) > 0) ++contended[t];
        for (std::uint64_t n = 0; n < kPerThread; ++n) {
          if (!limiter.try_acquire(now)) ++refused[t];
        }
        inside.fetch_sub(1);
      }
    });
    for (std::size_t t = 0; t < threads; ++t) r.wrong += refused[t];
    for (std::size_t t = 0; t < threads; ++t) refused_total += refused[t];
    if (run.overlapped) {
      ++r.overlapped_batches;
      for (std::size_t t = 0; t < threads; ++t) r.contended += contended[t];
    }
  });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " raced rollovers, " << tally.elapsed.count() << " ms");
  CHECK_MESSAGE(tally.wrong == 0, refused_total << " calls were refused in a window that had "
                                                   "room for every one of them");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}
