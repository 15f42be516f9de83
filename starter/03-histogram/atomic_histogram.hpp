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
    // TODO: the number of observations in this snapshot, derived from the counts alone.
    // Lesson 3, "The sum, the mean, and the count". Question: which bucket is the easiest one
    // to forget, and why must the exported +Inf bucket equal this number?
    LAB_TODO("total(): the number of observations, derived from the counts (lesson 3, \"The sum, "
             "the mean, and the count\"). Which bucket is easy to forget?");
  }

  // The p-quantile, 0 <= p <= 1, as the upper bound of the bucket that holds the observation of
  // rank max(1, ceil(p * total())) (ranks count from 1 in increasing order of value). So
  // percentile(0) is the bound of the first non-empty bucket and percentile(1) the bound of the
  // last non-empty one; a rank that falls in the overflow bucket gives UINT64_MAX ("more than
  // the last bound"). The true value is at most the result and, unless the bucket is the first,
  // greater than the bound below it. An empty histogram gives 0.
  // Throws std::invalid_argument when p is outside [0, 1] or NaN (also on an empty histogram).
  [[nodiscard]] std::uint64_t percentile([[maybe_unused]] double p) const {
    // TODO: keep the contract above: reject a p outside [0, 1] (NaN included), answer 0 for an
    // empty histogram, otherwise the bound of the bucket that holds the observation of the
    // contract's rank. Lesson 3, "Percentiles from buckets". Questions: every comparison with
    // NaN is false, so which way of writing the range test rejects NaN? With 8 observations and
    // p = 0.3, is the rank 2 or 3, and what rank must p = 0 give? How do you find the bucket
    // that holds a given rank when the counts are per bucket?
    LAB_TODO("percentile(): validate p (NaN too), then the bound of the bucket holding the "
             "contract's rank (lesson 3, \"Percentiles from buckets\"). Does the rank round up "
             "or down?");
  }

  // The exact arithmetic mean, sum / total() (0 for an empty histogram). Exact as long as the
  // sum of all values recorded fits in 64 bits.
  [[nodiscard]] double mean() const {
    // TODO: the exact mean of the recorded values, 0.0 for an empty histogram. Lesson 3, "The
    // sum, the mean, and the count". Questions: why does the histogram keep the sum at all,
    // when it could estimate from the buckets, and what is 7 / 2 in unsigned integers?
    LAB_TODO("mean(): the exact mean, 0.0 when empty (lesson 3, \"The sum, the mean, and the "
             "count\"). Which numbers give it exactly, and in which arithmetic?");
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
    // TODO: accept only strictly increasing bounds; anything else throws std::invalid_argument.
    // Lesson 3, "The overflow bucket, and strictly increasing bounds". Questions: which
    // comparison of two neighbouring bounds means "not strictly increasing", and does it reject
    // two equal bounds? Is there a standard algorithm that finds such a neighbouring pair?
    LAB_TODO("AtomicHistogram(): reject bounds that do not strictly increase (lesson 3, \"The "
             "overflow bucket, and strictly increasing bounds\"). Are equal neighbours allowed?");
  }

  // A synchronization object has an identity: a copy would split one distribution in two.
  AtomicHistogram(const AtomicHistogram&) = delete;
  AtomicHistogram& operator=(const AtomicHistogram&) = delete;

  // Counts `value` in its bucket and adds it to the sum. Any thread, any time; lock-free (two
  // atomic additions: single instructions on x86-64 and with AArch64 LSE, and then also
  // wait-free; on LL/SC machines such as ARMv8.0 each is a retry loop). Never loses an
  // observation.
  void record([[maybe_unused]] std::uint64_t value) {
    // TODO: count `value` in its bucket and add it to the sum, losing nothing, and keep every
    // promise snapshot() makes below, in particular: a snapshot never counts an observation
    // whose value is missing from its sum, and sees what this thread did before record().
    // Lesson 3, "What a snapshot can promise" (and lesson 2, "Happens-before in five rules").
    // Questions: which of the two updates must happen first? Which one must make the other (and
    // everything before it) visible to a snapshot that sees it? Write an `// order:` reason.
    LAB_TODO("record(): count the value in its bucket and add it to the sum so that no snapshot "
             "counts it without its value (lesson 3, \"What a snapshot can promise\"). Which "
             "update comes first, and which one publishes?");
  }

  // The bucket `value` belongs to: the index of the first upper bound >= value, or N (the
  // overflow bucket) when value is above every bound. Any thread. O(log N).
  [[nodiscard]] std::size_t find_bucket([[maybe_unused]] std::uint64_t value) const {
    // TODO: the bucket `value` belongs to, in O(log N), as the contract above says. Lesson 3,
    // "`le`: less than or equal". Questions: a value equal to a bound goes to which bucket? Of
    // the standard binary searches, which one returns that bucket's bound for such a value (try
    // each on paper)? What do you return past every bound?
    LAB_TODO("find_bucket(): the index of the first bound >= value, N past every bound, in "
             "O(log N) (lesson 3, \"`le`: less than or equal\"). Which binary search fits?");
  }

  // Copies the bounds, the bucket counts and the sum. Any thread, concurrently with record().
  //
  // While writers run, a snapshot is not a photograph of one instant: the buckets and the sum
  // are read one after another, and observations keep arriving in between. What it promises:
  //  - every counts[i] is a value bucket i really held, no older than what happens before the
  //    call (no real-time promise), so a count never exceeds the record() calls that wrote it
  //    there, and a later snapshot taken by the same thread never shows a smaller count;
  //  - every observation the counts include is also in the sum (nothing is promised the other
  //    way: the sum may include observations the counts miss), and whatever a thread did
  //    before record(v) is visible to the thread whose snapshot counts that observation;
  //  - total() is derived from the counts, so count and buckets always agree;
  //  - once every writer has finished (for example, its thread joined), the snapshot is exact.
  [[nodiscard]] HistogramSnapshot snapshot() const {
    // TODO: copy the bounds, every count (the overflow bucket too) and the sum into a
    // HistogramSnapshot, never blocking the writers, so that every promise above holds.
    // Lesson 3, "What a snapshot can promise". Questions: do you read the buckets or the sum
    // first, given the order record() writes them in? Which of your reads must pair with which
    // of record()'s writes so that the sum you return includes what the buckets counted?
    LAB_TODO("snapshot(): copy bounds, counts and sum so that every counted observation is in the "
             "sum (lesson 3, \"What a snapshot can promise\"). Buckets or sum first, and which "
             "read pairs with which write?");
  }

 private:
  std::array<std::uint64_t, N> bounds_;                 // immutable after construction
  std::array<std::atomic<std::uint64_t>, N + 1> counts_{};  // N buckets + overflow, all 0
  std::atomic<std::uint64_t> sum_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free histogram needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
