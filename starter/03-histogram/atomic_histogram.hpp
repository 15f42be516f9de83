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

#include "lab_todo.hpp"

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
  [[nodiscard]] std::uint64_t total() const {
    // TODO: add up counts, ALL of them: the overflow bucket holds observations too.
    LAB_TODO("total(): return the sum of every element of counts (std::accumulate)");
  }

  // The p-quantile, 0 <= p <= 1, as the upper bound of the bucket that holds the observation of
  // rank max(1, ceil(p * total())) (ranks count from 1 in increasing order of value). So
  // percentile(0) is the bound of the first non-empty bucket and percentile(1) the bound of the
  // last non-empty one; a rank that falls in the overflow bucket gives UINT64_MAX ("more than
  // the last bound"). The true value is at most the result and, unless the bucket is the first,
  // greater than the bound below it. An empty histogram gives 0.
  // Throws std::invalid_argument when p is outside [0, 1] or NaN (also on an empty histogram).
  [[nodiscard]] std::uint64_t percentile([[maybe_unused]] double p) const {
    // TODO: 1. throw std::invalid_argument unless 0 <= p <= 1. NaN must throw too: which way
    //          of writing the test is false for NaN?
    //       2. return 0 when total() is 0.
    //       3. rank = max(1, ceil(p * total)). Round UP: see the lesson's erratum on floor.
    //       4. walk the buckets adding counts; the first bucket whose running count reaches the
    //          rank holds the answer: its upper bound, or UINT64_MAX for the overflow bucket.
    LAB_TODO("percentile(): validate p, then return the bound of the bucket holding rank "
             "max(1, ceil(p * total()))");
  }

  // The exact arithmetic mean, sum / total() (0 for an empty histogram). Exact as long as the
  // sum of all values recorded fits in 64 bits.
  [[nodiscard]] double mean() const {
    // TODO: sum / total() in floating point, and 0.0 when there is nothing. Not bucket midpoints.
    LAB_TODO("mean(): return 0.0 when empty, else sum / total() as doubles");
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
    // TODO: throw std::invalid_argument if any bound is not strictly greater than the one
    // before it. Equal neighbours are an error too. (std::adjacent_find can find the pair.)
    LAB_TODO("AtomicHistogram(): throw std::invalid_argument unless the bounds strictly increase");
  }

  // A synchronization object has an identity: a copy would split one distribution in two.
  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  // Counts `value` in its bucket and adds it to the sum. Any thread, any time; lock-free and
  // wait-free (two atomic additions). Never loses an observation.
  void record([[maybe_unused]] std::uint64_t value) {
    // TODO: find the bucket, then two fetch_adds: `value` on sum_, 1 on counts_[bucket].
    // Read snapshot()'s promises below before you choose their order and memory orders: the
    // snapshot must never count an observation whose value is missing from its sum.
    LAB_TODO("record(): add value to sum_, then 1 to counts_[find_bucket(value)]; pick the "
             "memory orders snapshot() needs");
  }

  // The bucket `value` belongs to: the index of the first upper bound >= value, or N (the
  // overflow bucket) when value is above every bound. Any thread. O(log N).
  [[nodiscard]] std::size_t find_bucket([[maybe_unused]] std::uint64_t value) const {
    // TODO: a binary search over bounds_. Which of std::lower_bound / std::upper_bound finds
    // the first bound >= value? A value equal to a bound belongs to that bound's bucket.
    LAB_TODO("find_bucket(): return the index of the first bound >= value (N if none)");
  }

  // Copies the bounds, the bucket counts and the sum. Any thread, concurrently with record().
  //
  // While writers run, a snapshot is not a photograph of one instant: the buckets are read one
  // after another, then the sum, and observations keep arriving in between. What it promises:
  //  - every counts[i] is a value bucket i really held during the call, so a count is never
  //    above the number of record() calls that had started, and a later snapshot taken by the
  //    same thread never shows a smaller count;
  //  - every observation the counts include is also in the sum (the sum may already contain a
  //    few observations whose bucket increment has not landed yet, never the other way round),
  //    and whatever a thread did before record(v) is visible to the thread whose snapshot
  //    counts that observation;
  //  - total() is derived from the counts, so count and buckets always agree;
  //  - once every writer has finished (for example, its thread joined), the snapshot is exact.
  [[nodiscard]] HistogramSnapshot snapshot() const {
    // TODO: copy bounds_ into upper_bounds, load all N + 1 buckets into counts, then load the
    // sum. Which loads come first, and with which memory order, so that the promises hold?
    LAB_TODO("snapshot(): load every bucket (acquire), THEN sum_, into a HistogramSnapshot");
  }

 private:
  std::array<std::uint64_t, N> bounds_;                 // immutable after construction
  std::array<std::atomic<std::uint64_t>, N + 1> counts_{};  // N buckets + overflow, all 0
  std::atomic<std::uint64_t> sum_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free histogram needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
