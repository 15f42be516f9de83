// rate_limiter.hpp: milestone 4 stretch exercise, a fixed-window rate limiter without a lock.
//
// RateLimiter admits at most `limit` calls of try_acquire() per window of `window` length, for
// example "at most 100 requests per second per client". Time is cut into consecutive windows
// [k * window, (k + 1) * window); the limiter remembers the newest window it has seen and how
// many calls it admitted in it. A call in a newer window starts that window (rollover) and is
// its first admission.
//
// The window number and the count live in ONE 64-bit atomic word, updated by compare-exchange.
// That is the whole point of the exercise: "is this a new window?", "is it full?" and "take a
// slot" become one indivisible step, so a rollover and an admission can never interleave.
// The two classic wrong designs (lessons/04-cas-min-max/rate-limiter.md shows both failing):
//   - the rollover as check-then-act: `if (window is old) reset to (new window, count 1)` with a
//     plain store: two threads that both see the old window both reset, both are admitted, and
//     the count says 1, so the new window admits limit + 1 (or more);
//   - the window number and the count in two atomics: a thread can see the new window number
//     with the old window's count (a torn state), and refuse a call in an empty window or
//     admit one in a full window.
//
// Time is passed in (try_acquire(now)), so the tests are deterministic; try_acquire() without
// an argument reads std::chrono::steady_clock.
//
// A `now` that goes backwards (earlier than the newest window already seen, e.g. a thread that
// read the clock, was preempted, and arrives after another thread started the next window) is
// counted against the NEWEST window: the window never moves backwards, so a late clock reading
// can never reopen an old window and admit a second `limit` there.
//
// Example:
//   metrics::RateLimiter per_client(100, std::chrono::seconds(1));
//   if (!per_client.try_acquire()) return reply_429();   // any request thread
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "lab_todo.hpp"

namespace metrics {

class RateLimiter {
 public:
  using clock = std::chrono::steady_clock;
  using duration = clock::duration;      // nanoseconds with libstdc++ and libc++
  using time_point = clock::time_point;

  // A limiter that admits at most `limit` calls per `window`. Throws std::invalid_argument if
  // limit is 0, if window <= 0, or if the window is shorter than 2^(bit_width(limit) + 1)
  // nanoseconds, e.g. 2048 ns for a limit of 1000 (about one admission per nanosecond or
  // faster: the packed word below has no room for the window numbers of so short a window).
  RateLimiter(std::uint64_t limit, duration window)
      : limit_((check_arguments(limit, window), limit)),
        window_ns_(static_cast<std::uint64_t>(window.count())),
        count_bits_(static_cast<unsigned>(std::bit_width(limit))),
        window_offset_((std::uint64_t{1} << 63) / window_ns_ + 1) {}

  // A synchronization object has an identity: a copy would enforce a second, separate limit.
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Admits the call and returns true if fewer than limit() calls were admitted in the window
  // of `now` (or `now` starts a new window); otherwise changes nothing and returns false. Any
  // thread, lock-free. Under any interleaving no window admits more than limit() calls, and
  // false means the window was full at the moment it was checked (never a spurious refusal
  // because another thread was busy). A `now` in a window older than the newest one seen is
  // counted against the newest window (see the banner).
  [[nodiscard]] bool try_acquire(time_point now) {
    // TODO: the contract above is the guarantee: no window ever admits more than limit(), and
    // false means "full", never "another thread was busy". The helpers below turn `now` into a
    // window number and split the packed word into its window and its count. From ONE value
    // of the word, what do you decide: a newer window, or the current one with or without
    // room? How do you make that decision and the write one indivisible step, and what do you
    // do when another thread changed the word first? What must a call whose window is OLDER
    // than the stored one do (the banner says)? (lessons/04-cas-min-max/rate-limiter.md,
    // "The fix"; the CAS loop in lessons/04-cas-min-max/README.md)
    (void)now;
    LAB_TODO("try_acquire(): decide and take a slot of the packed word in one indivisible step");
  }

  // try_acquire(clock::now()).
  [[nodiscard]] bool try_acquire() { return try_acquire(clock::now()); }

  // The limit and the window given to the constructor. Any thread; they never change.
  [[nodiscard]] std::uint64_t limit() const noexcept { return limit_; }
  [[nodiscard]] duration window() const noexcept { return duration(window_ns_); }

 private:
  // The packed word: the window number in the high (64 - count_bits_) bits, the count of the
  // window in the low count_bits_ = bit_width(limit) bits (enough for 0..limit).
  //
  // The window number is floor(now / window) (windows start at the clock's epoch), plus an
  // offset that makes the number of the oldest representable time_point non-negative. So
  // every time_point has a window number, numbers only grow with time, and nothing wraps
  // around. They fit in the high bits because window >= 2^(count_bits + 1) ns (the
  // constructor checks it): the 2^64 ns of a time_point span at most 2^(63 - count_bits) + 2
  // windows, and the high bits hold 2^(64 - count_bits) numbers.
  [[nodiscard]] std::uint64_t window_number(time_point now) const noexcept {
    const std::int64_t ns = now.time_since_epoch().count();
    const auto window = static_cast<std::int64_t>(window_ns_);
    std::int64_t quotient = ns / window;
    if (ns % window < 0) --quotient;  // floor, not truncation, before the epoch
    return static_cast<std::uint64_t>(quotient) + window_offset_;  // mod 2^64: >= 0
  }
  [[nodiscard]] std::uint64_t pack(std::uint64_t window, std::uint64_t count) const noexcept {
    return (window << count_bits_) | count;
  }
  [[nodiscard]] std::uint64_t window_of(std::uint64_t word) const noexcept {
    return word >> count_bits_;
  }
  [[nodiscard]] std::uint64_t count_of(std::uint64_t word) const noexcept {
    return word & ((std::uint64_t{1} << count_bits_) - 1);
  }

  // Throws std::invalid_argument for the arguments the constructor's contract rules out.
  static void check_arguments(std::uint64_t limit, duration window) {
    // TODO: which limits and windows can this limiter not honour? The constructor's contract
    // lists three cases, and the comment on window_number() explains the third: why may a
    // window not be too short for its limit? What would a message need to say for the caller
    // to fix the call? (lessons/04-cas-min-max/rate-limiter.md, "The exercise")
    (void)limit;
    (void)window;
    LAB_TODO("check_arguments(): reject the limits and windows the contract rules out");
  }

  const std::uint64_t limit_;
  const std::uint64_t window_ns_;
  const unsigned count_bits_;
  const std::uint64_t window_offset_;  // see window_number()
  // Window 0 with count 0: no window is older, so the first call starts its own window (or,
  // for a time_point near the oldest representable one, counts as the first call of window 0).
  std::atomic<std::uint64_t> state_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free limiter needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
