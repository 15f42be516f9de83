// atomic_min_max.hpp: milestone 4, the smallest and largest value seen, without a lock.
//
// AtomicMinMax remembers the minimum and the maximum of every value passed to update(), for
// example the fastest and the slowest request of the last export interval. There is no
// fetch_min/fetch_max in C++20, so each bound is kept with a compare-exchange (CAS) loop:
// load the current bound, stop if the new value does not improve it, otherwise try to
// install it with compare_exchange_weak; when another thread got there first, the failed CAS
// hands back the bound it found and the loop decides again with that fresh value.
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
    // TODO: keep the smaller of `value` and min_ in min_ with a compare_exchange_weak loop:
    // load the bound; while `value` still improves it, try to install `value`; a failed
    // compare_exchange_weak has already put the bound it found in your `expected` variable, so
    // re-check the condition with that fresh value (early exit when it no longer improves).
    // Then do the same for max_ with the opposite comparison.
    LAB_TODO("update(): a compare_exchange_weak loop for min_, then one for max_");
  }

  // The smallest value passed to update() since construction or the last reset(), or
  // kEmptyMin (UINT64_MAX) if there was none. Any thread.
  [[nodiscard]] std::uint64_t min() const {
    // TODO: return min_ with one atomic load.
    LAB_TODO("min(): return min_.load()");
  }

  // The largest value passed to update() since construction or the last reset(), or
  // kEmptyMax (0) if there was none. Any thread.
  [[nodiscard]] std::uint64_t max() const {
    // TODO: return max_ with one atomic load.
    LAB_TODO("max(): return max_.load()");
  }

  // Returns both bounds to their initial values. Any thread. The two stores are separate
  // steps: an update() running at the same time may land in the old interval, in the new one,
  // or (for its min and its max separately) in one of each.
  void reset() {
    // TODO: store kEmptyMin in min_ and kEmptyMax in max_.
    LAB_TODO("reset(): min_.store(kEmptyMin) and max_.store(kEmptyMax)");
  }

 private:
  std::atomic<std::uint64_t> min_{kEmptyMin};
  std::atomic<std::uint64_t> max_{kEmptyMax};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free tracker needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
