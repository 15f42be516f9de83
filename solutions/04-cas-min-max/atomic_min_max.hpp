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
  void update(std::uint64_t value) noexcept {
    // Solution: a CAS loop per bound. The loop condition is re-evaluated on every pass, so a
    // bound that another thread improved while we were deciding stops us (early exit) instead
    // of being overwritten. compare_exchange_weak may fail spuriously on LL/SC machines; in a
    // loop that only costs one more pass, and a failed CAS writes the value it found into
    // `seen`, so no extra load is needed before retrying.
    // order: relaxed: each bound is one variable whose modification order alone decides the
    // result; no other memory is published through it.
    std::uint64_t seen = min_.load(std::memory_order_relaxed);
    // order: relaxed on success and failure, for the same reason.
    while (value < seen && !min_.compare_exchange_weak(seen, value, std::memory_order_relaxed,
                                                        std::memory_order_relaxed)) {
    }
    // order: relaxed, as for the minimum.
    seen = max_.load(std::memory_order_relaxed);
    // order: relaxed, as for the minimum.
    while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed,
                                                        std::memory_order_relaxed)) {
    }
  }

  // The smallest value passed to update() since construction or the last reset(), or
  // kEmptyMin (UINT64_MAX) if there was none. Any thread.
  [[nodiscard]] std::uint64_t min() const noexcept {
    // Solution: one atomic load.
    // order: relaxed: the value is the whole message; nothing else is read because of it.
    return min_.load(std::memory_order_relaxed);
  }

  // The largest value passed to update() since construction or the last reset(), or
  // kEmptyMax (0) if there was none. Any thread.
  [[nodiscard]] std::uint64_t max() const noexcept {
    // Solution: one atomic load.
    // order: relaxed, as in min().
    return max_.load(std::memory_order_relaxed);
  }

  // Returns both bounds to their initial values. Any thread. The two stores are separate
  // steps: an update() running at the same time may land in the old interval, in the new one,
  // or (for its min and its max separately) in one of each.
  void reset() noexcept {
    // Solution: plain atomic stores of the two identity values. A store (not a CAS) is right
    // here because the new value does not depend on the old one.
    // order: relaxed: see update().
    min_.store(kEmptyMin, std::memory_order_relaxed);
    // order: relaxed: see update().
    max_.store(kEmptyMax, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::uint64_t> min_{kEmptyMin};
  std::atomic<std::uint64_t> max_{kEmptyMax};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free tracker needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
