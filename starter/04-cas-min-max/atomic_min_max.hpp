// atomic_min_max.hpp: milestone 4, the smallest and largest value seen, without a lock.
//
// AtomicMinMax remembers the minimum and the maximum of every value passed to update(), for
// example the fastest and the slowest request of the last export interval. There is no
// fetch_min/fetch_max in C++20, so each bound is kept with a compare-and-swap (CAS) loop:
// lessons/04-cas-min-max/README.md, "The CAS loop".
//
// The two bounds are independent atomics: min() and max() are two separate reads, not one
// snapshot. Both only ever move outwards (min down, max up) until reset().
//
// Example:
//   metrics::AtomicMinMax latency_us;
//   latency_us.update(elapsed_us);                    // from any request thread
//   const std::uint64_t fastest = latency_us.min();   // exporter thread
//   const std::uint64_t slowest = latency_us.max();
//   latency_us.reset();                               // start the next interval
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>

#include "lab_todo.hpp"

namespace metrics {

class AtomicMinMax {
 public:
  // The value min() returns before any update: every real value is <= it.
  static constexpr std::uint64_t kEmptyMin = std::numeric_limits<std::uint64_t>::max();
  // The value max() returns before any update: every real value is >= it.
  static constexpr std::uint64_t kEmptyMax = 0;

  AtomicMinMax() = default;

  // A synchronization object has an identity: a copy would track a different set of values.
  AtomicMinMax(const AtomicMinMax&) = delete;
  AtomicMinMax& operator=(const AtomicMinMax&) = delete;

  // Folds `value` into both bounds. Any thread, any time, lock-free. After update(v) returns,
  // min() <= v and max() >= v on this thread (and on any thread that synchronizes with it)
  // until the next reset(): no interleaving of concurrent updates replaces a bound by a worse
  // one. A value that improves neither bound writes nothing (it only loads), so the common
  // case leaves the cache line shared instead of taking it exclusively.
  void update([[maybe_unused]] std::uint64_t value) {
    // TODO: fold `value` into both bounds so that no interleaving of concurrent updates ever
    // replaces a bound by a worse one, and write nothing when `value` improves neither bound.
    // Lesson 4, "The CAS loop" and "The trap: check-then-act". Questions: another thread stores
    // a better minimum between your read of the bound and your write: how does your code find
    // out, and what does it decide then? When may it stop without writing at all?
    LAB_TODO("update(): fold value into min and max so that no concurrent update is ever "
             "overwritten by a worse one (lesson 4, \"The CAS loop\"). What does your code do "
             "when another thread changed the bound since you read it?");
  }

  // The smallest value passed to update() since construction or the last reset(), or
  // kEmptyMin (UINT64_MAX) if there was none. Any thread.
  [[nodiscard]] std::uint64_t min() const {
    // TODO: a value the minimum really held, read while other threads may update it. Lesson 4,
    // "Rules". Question: which atomic operation reads without writing?
    LAB_TODO("min(): the current minimum, read atomically (lesson 4, \"Rules\"). Which operation "
             "reads without writing?");
  }

  // The largest value passed to update() since construction or the last reset(), or
  // kEmptyMax (0) if there was none. Any thread.
  [[nodiscard]] std::uint64_t max() const {
    // TODO: a value the maximum really held, read while other threads may update it. Lesson 4,
    // "Rules". Question: which atomic operation reads without writing?
    LAB_TODO("max(): the current maximum, read atomically (lesson 4, \"Rules\"). Which operation "
             "reads without writing?");
  }

  // Returns both bounds to their initial values. Any thread. The two stores are separate
  // steps: an update() running at the same time may land in the old interval, in the new one,
  // or (for its min and its max separately) in one of each.
  void reset() {
    // TODO: put both bounds back to their values before any update (kEmptyMin, kEmptyMax).
    // Lesson 4, "Rules". Question: the new values do not depend on the old ones; does that call
    // for a compare-exchange, or for something simpler?
    LAB_TODO("reset(): both bounds back to their empty values (lesson 4, \"Rules\"). Does the new "
             "value depend on the old one?");
  }

 private:
  std::atomic<std::uint64_t> min_{kEmptyMin};
  std::atomic<std::uint64_t> max_{kEmptyMax};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free tracker needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
