// atomic_histogram.hpp: milestone 3, a latency histogram that many threads record into at once.
//
// A counter says how many requests there were; a histogram says how long they took. The
// histogram sorts each observation into one of N + 1 buckets, chosen by N fixed, strictly
// increasing upper bounds. Bucket i counts the observations with value <= upper_bounds[i] that
// no lower bucket took (Prometheus calls the bound `le`, "less than or equal"); the last bucket,
// index N, is the overflow bucket (+Inf) for values above every bound. Each bucket is an
// independent atomic counter, so record() is a binary search plus two atomic additions: no
// lock, no allocation, no waiting for other threads. The histogram also keeps the exact sum of
// every recorded value, so the mean is exact, and the total is always derived from the
// bucket counts, so the exported +Inf bucket always equals the exported count.
//
// Example:
//   metrics::AtomicHistogram<4> latency_us({1'000, 10'000, 100'000, 1'000'000});
//   latency_us.record(2'500);                        // from any thread, any time
//   const metrics::HistogramSnapshot s = latency_us.snapshot();   // exporter thread
//   s.percentile(0.99);  // upper bound of the bucket holding the 99th percentile observation
//   s.mean();            // exact: sum / total
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace metrics {

// A copy of a histogram's buckets: a plain value, safe to keep, copy and pass between threads.
//
// Shape: counts.size() == upper_bounds.size() + 1. counts[i] is the number of observations in
// bucket i (NOT cumulative); counts.back() is the overflow bucket. A default-constructed
// snapshot is an empty histogram with no bounds. The struct is the same for every N, so
// snapshots of histograms with different bucket counts fit in one container.
struct HistogramSnapshot {
  std::vector<std::uint64_t> upper_bounds;  // N strictly increasing inclusive upper bounds
  std::vector<std::uint64_t> counts;        // N + 1 counts; the last is the overflow (+Inf)
  std::uint64_t sum = 0;                    // sum of the recorded values, modulo 2^64

  // The number of observations: the sum of every bucket count, overflow included. It is
  // derived from the counts, never stored separately, so it cannot disagree with them.
  [[nodiscard]] std::uint64_t total() const noexcept {
    // Solution: add up every bucket, the overflow bucket included. A separately kept count
    // could disagree with the buckets in a snapshot taken while writers run, and then the
    // exported +Inf bucket would not equal _count.
    return std::accumulate(counts.begin(), counts.end(), std::uint64_t{0});
  }

  // The p-quantile, 0 <= p <= 1, as the upper bound of the bucket that holds the observation of
  // rank max(1, ceil(p * total())) (ranks count from 1 in increasing order of value). So
  // percentile(0) is the bound of the first non-empty bucket and percentile(1) the bound of the
  // last non-empty one; a rank that falls in the overflow bucket gives UINT64_MAX ("more than
  // the last bound"). The true value is at most the result and, unless the bucket is the first,
  // greater than the bound below it. An empty histogram gives 0.
  // Throws std::invalid_argument when p is outside [0, 1] or NaN (also on an empty histogram).
  [[nodiscard]] std::uint64_t percentile(double p) const {
    // Solution: validate first, with a test that NaN fails (every comparison with NaN is
    // false, so `p < 0 || p > 1` would let NaN through).
    if (!(p >= 0.0 && p <= 1.0)) {
      throw std::invalid_argument("percentile: p must be in [0, 1]");
    }
    const std::uint64_t n = total();
    if (n == 0) return 0;
    // Solution: the rank rounds UP (ceil), and is at least 1. With floor, p = 0.01 of 8
    // observations is rank 0, and the walk below stops in the first bucket even when it is
    // empty. The double product cannot exceed n as a double; the comparison keeps the
    // conversion back to an integer in range even when n is too large for a double.
    const double scaled = std::ceil(p * static_cast<double>(n));
    std::uint64_t rank = n;
    if (scaled < static_cast<double>(n)) rank = static_cast<std::uint64_t>(scaled);
    rank = std::max<std::uint64_t>(rank, 1);
    // Solution: walk the buckets, accumulating counts, and stop at the first bucket whose
    // running count reaches the rank: that bucket holds the observation of that rank.
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen >= rank) {
        return i < upper_bounds.size() ? upper_bounds[i]
                                       : std::numeric_limits<std::uint64_t>::max();
      }
    }
    return std::numeric_limits<std::uint64_t>::max();  // not reached: rank <= total()
  }

  // The exact arithmetic mean, sum / total() (0 for an empty histogram). Exact as long as the
  // sum of all values recorded fits in 64 bits.
  [[nodiscard]] double mean() const noexcept {
    // Solution: the tracked sum divided by the count. Bucket midpoints only estimate the mean,
    // and with a last bound of UINT64_MAX a midpoint is a meaningless 9.2e18.
    const std::uint64_t n = total();
    if (n == 0) return 0.0;
    return static_cast<double>(sum) / static_cast<double>(n);
  }
};

template <std::size_t N>
class AtomicHistogram {
 public:
  // Creates an empty histogram with the given inclusive upper bounds.
  // Throws std::invalid_argument unless the bounds are strictly increasing (a binary search
  // needs sorted bounds, and two equal bounds would make one bucket unreachable).
  explicit AtomicHistogram(const std::array<std::uint64_t, N>& upper_bounds)
      : bounds_(upper_bounds) {
    // Solution: look for a neighbouring pair that is not strictly increasing (a >= b). The
    // comparison is >=, not >: equal bounds are rejected too.
    if (std::adjacent_find(bounds_.begin(), bounds_.end(), std::greater_equal<>{}) !=
        bounds_.end()) {
      throw std::invalid_argument("AtomicHistogram: upper bounds must be strictly increasing");
    }
  }

  // A synchronization object has an identity: a copy would split one distribution in two.
  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  // Counts `value` in its bucket and adds it to the sum. Any thread, any time; lock-free (two
  // atomic additions: single instructions on x86-64 and with AArch64 LSE, and then also
  // wait-free; on LL/SC machines such as ARMv8.0 each is a retry loop). Never loses an
  // observation.
  void record(std::uint64_t value) noexcept {
    const std::size_t bucket = find_bucket(value);
    // Solution: the sum first, then the bucket, each with one RMW (fetch_add): a load
    // followed by a store would lose observations that other threads add in between.
    // order: relaxed: only atomicity is needed here; the release below publishes this add.
    sum_.fetch_add(value, std::memory_order_relaxed);
    // order: release: a snapshot that acquires this bucket and sees this observation then also
    // sees the sum add above (and anything this thread did before calling record()).
    counts_[bucket].fetch_add(1, std::memory_order_release);
  }

  // The bucket `value` belongs to: the index of the first upper bound >= value, or N (the
  // overflow bucket) when value is above every bound. Any thread. O(log N).
  [[nodiscard]] std::size_t find_bucket(std::uint64_t value) const noexcept {
    // Solution: std::lower_bound finds the first bound that is NOT less than value, i.e. the
    // first bound >= value: a value equal to a bound belongs to that bound's bucket (le).
    // std::upper_bound would find the first bound > value, one bucket too far. When every
    // bound is smaller it returns end(), whose index is N: the overflow bucket.
    const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    return static_cast<std::size_t>(it - bounds_.begin());
  }

  // Copies the bounds, the bucket counts and the sum. Any thread, concurrently with record().
  //
  // While writers run, a snapshot is not a photograph of one instant: the buckets are read one
  // after another, then the sum, and observations keep arriving in between. What it promises:
  //  - every counts[i] is a value bucket i really held, no older than what happens before the
  //    call (no real-time promise), so a count never exceeds the record() calls that wrote it
  //    there, and a later snapshot taken by the same thread never shows a smaller count;
  //  - every observation the counts include is also in the sum (the sum may already contain a
  //    few observations whose bucket increment has not landed yet, never the other way round),
  //    and whatever a thread did before record(v) is visible to the thread whose snapshot
  //    counts that observation;
  //  - total() is derived from the counts, so count and buckets always agree;
  //  - once every writer has finished (for example, its thread joined), the snapshot is exact.
  [[nodiscard]] HistogramSnapshot snapshot() const {
    HistogramSnapshot result;
    result.upper_bounds.assign(bounds_.begin(), bounds_.end());
    result.counts.reserve(N + 1);
    // Solution: every bucket, the overflow bucket included, then the sum: the order that keeps
    // "the sum includes every counted observation" (see record()). Reading the sum first would
    // let observations recorded in between be counted without their value.
    for (const std::atomic<std::uint64_t>& count : counts_) {
      // order: acquire: pairs with record()'s release, so the sum read below includes every
      // observation counted here.
      result.counts.push_back(count.load(std::memory_order_acquire));
    }
    // order: relaxed: the acquire loads above already keep this load after them.
    result.sum = sum_.load(std::memory_order_relaxed);
    return result;
  }

 private:
  std::array<std::uint64_t, N> bounds_;                 // immutable after construction
  std::array<std::atomic<std::uint64_t>, N + 1> counts_{};  // N buckets + overflow, all 0
  std::atomic<std::uint64_t> sum_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free histogram needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
