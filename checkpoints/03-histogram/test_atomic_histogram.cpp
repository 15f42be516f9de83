// Checkpoints for milestone 3: AtomicHistogram and HistogramSnapshot (atomic_histogram.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
#include <atomic_histogram.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lab_test.hpp"

using metrics::AtomicHistogram;
using metrics::HistogramSnapshot;

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
constexpr std::array<std::uint64_t, 4> kBounds{10, 50, 100, 500};
using Counts = std::vector<std::uint64_t>;

// Bounds {10, 50, 100, 500} with bucket counts {0, 2, 4, 1} and 1 overflow: 8 observations,
// an EMPTY first bucket. Ranks: 1-2 in (10, 50], 3-6 in (50, 100], 7 in (100, 500], 8 above.
HistogramSnapshot eight_with_empty_first_bucket() {
  return HistogramSnapshot{.upper_bounds = {10, 50, 100, 500}, .counts = {0, 2, 4, 1, 1},
                           .sum = 20 + 30 + 60 + 70 + 80 + 90 + 200 + 1000};
}

std::string describe(const HistogramSnapshot& s) {
  std::ostringstream out;
  out << "counts {";
  for (std::size_t i = 0; i < s.counts.size(); ++i) out << (i ? ", " : "") << s.counts[i];
  out << "} sum " << s.sum;
  return out.str();
}

}  // namespace

// --- construction -------------------------------------------------------------------------

TEST_CASE("bounds must be strictly increasing") {
  // Catches: an AtomicHistogram constructor that accepts unsorted bounds (values then land in the
  // wrong bucket) or equal neighbours (the second of two equal bounds never receives a value): a
  // neighbour check that lets an equal pair through.
  using H4 = AtomicHistogram<4>;
  CHECK_THROWS_AS(H4({10, 50, 40, 100}), std::invalid_argument);
  CHECK_THROWS_AS(H4({500, 100, 50, 10}), std::invalid_argument);
  CHECK_THROWS_AS(H4({10, 50, 50, 100}), std::invalid_argument);
  CHECK_THROWS_AS(H4({0, 0, 1, 2}), std::invalid_argument);
  CHECK_THROWS_AS(H4({1, 2, 3, 3}), std::invalid_argument);
  // A common tutorial example: a bound of UINT64_MAX followed by zero padding.
  CHECK_THROWS_AS(AtomicHistogram<8>({10, 50, 100, 500, kMax, 0, 0, 0}), std::invalid_argument);
  CHECK_NOTHROW(H4({0, 1, 2, kMax}));
  CHECK_NOTHROW((void)H4(kBounds));
  CHECK_NOTHROW(AtomicHistogram<1>({42}));
}

TEST_CASE("a new histogram is empty and cannot be copied") {
  // Catches: a snapshot without the overflow bucket (N counts instead of N + 1), bounds not
  // copied into the snapshot, and an empty histogram whose mean() divides 0 by 0 (NaN) or
  // whose percentile() does not return 0.
  CHECK_FALSE(std::is_copy_constructible_v<AtomicHistogram<4>>);
  CHECK_FALSE(std::is_copy_assignable_v<AtomicHistogram<4>>);
  const AtomicHistogram<4> histogram(kBounds);
  CHECK(std::is_same_v<decltype(histogram.find_bucket(0)), std::size_t>);
  const HistogramSnapshot s = histogram.snapshot();
  CHECK(s.upper_bounds == Counts(kBounds.begin(), kBounds.end()));
  CHECK(s.counts == Counts(kBounds.size() + 1, 0));
  CHECK(s.sum == 0);
  CHECK(s.total() == 0);
  CHECK(s.mean() == 0.0);
  CHECK(s.percentile(0.0) == 0);
  CHECK(s.percentile(0.5) == 0);
  CHECK(s.percentile(1.0) == 0);
  const HistogramSnapshot nothing{};  // also an empty histogram
  CHECK(nothing.total() == 0);
  CHECK(nothing.mean() == 0.0);
  CHECK(nothing.percentile(0.99) == 0);
}

// --- buckets ---------------------------------------------------------------------------------

TEST_CASE("find_bucket puts a value equal to a bound in that bound's bucket") {
  // Catches: a value equal to a bound filed one bucket too high: a search, standard or hand-made,
  // that goes one element past the first bound >= value (lesson 3, "`le`: less than or equal":
  // which search stops at the first bound not less than the value?). Prometheus buckets are `le`,
  // "less than or equal": 10 belongs to the bucket le="10".
  const AtomicHistogram<4> histogram(kBounds);
  CHECK(histogram.find_bucket(0) == 0);
  for (std::size_t i = 0; i < kBounds.size(); ++i) {
    CAPTURE(kBounds[i]);
    CHECK(histogram.find_bucket(kBounds[i] - 1) == i);  // just below: this bucket
    CHECK(histogram.find_bucket(kBounds[i]) == i);      // exactly at: still this bucket
    CHECK(histogram.find_bucket(kBounds[i] + 1) == i + 1);  // just above: the next one
  }
}

TEST_CASE("values above the last bound go to the overflow bucket") {
  // Catches: no overflow bucket, i.e. large values clamped into the last bucket (the source
  // material's unwrap_or(N - 1)): a 10 s outlier then reads as "at most 500".
  AtomicHistogram<4> histogram(kBounds);
  CHECK(histogram.find_bucket(501) == 4);
  CHECK(histogram.find_bucket(kMax) == 4);
  histogram.record(501);
  histogram.record(1'000'000);
  CHECK(histogram.snapshot().counts == Counts{0, 0, 0, 0, 2});

  // A last bound of UINT64_MAX leaves nothing for the overflow bucket.
  AtomicHistogram<2> up_to_max({10, kMax});
  CHECK(up_to_max.find_bucket(kMax) == 1);
  up_to_max.record(kMax);
  CHECK(up_to_max.snapshot().counts == Counts{0, 1, 0});

  // No bounds at all: every value is in the overflow bucket.
  AtomicHistogram<0> only_overflow(std::array<std::uint64_t, 0>{});
  CHECK(only_overflow.find_bucket(0) == 0);
  only_overflow.record(7);
  CHECK(only_overflow.snapshot().counts == Counts{1});
  CHECK(only_overflow.snapshot().percentile(0.5) == kMax);
}

TEST_CASE("record counts each value in its bucket and adds it to the sum") {
  // Catches: a sum that is not tracked (or not copied into the snapshot), a snapshot that
  // resets the buckets it reads (taking two snapshots must give the same counts twice), and
  // record() incrementing a bucket other than find_bucket(value).
  AtomicHistogram<4> histogram(kBounds);
  for (const std::uint64_t v : {0, 5, 10, 11, 25, 75, 500, 501}) histogram.record(v);
  const HistogramSnapshot s = histogram.snapshot();
  INFO(describe(s));
  CHECK(s.upper_bounds == Counts(kBounds.begin(), kBounds.end()));
  CHECK(s.counts == Counts{3, 2, 1, 1, 1});
  CHECK(s.sum == 0 + 5 + 10 + 11 + 25 + 75 + 500 + 501);
  CHECK(s.total() == 8);
  const HistogramSnapshot again = histogram.snapshot();
  CHECK(again.counts == s.counts);
  CHECK(again.sum == s.sum);
  histogram.record(50);
  CHECK(histogram.snapshot().counts == Counts{3, 3, 1, 1, 1});
}

TEST_CASE("total counts every bucket including overflow") {
  // Catches: total() summing only the N bounded buckets (a loop over upper_bounds), which
  // drops the overflow observations and makes _count differ from the +Inf bucket.
  const HistogramSnapshot s{.upper_bounds = {10, 20}, .counts = {1, 2, 4}, .sum = 0};
  CHECK(s.total() == 7);
  const HistogramSnapshot only_overflow{.upper_bounds = {}, .counts = {5}, .sum = 0};
  CHECK(only_overflow.total() == 5);
  AtomicHistogram<2> histogram({10, 20});
  histogram.record(1);
  histogram.record(21);
  histogram.record(kMax);
  CHECK(histogram.snapshot().total() == 3);
}

TEST_CASE("mean is the exact sum divided by the count") {
  // Catches: a mean estimated from bucket midpoints (a common tutorial shortcut), which with a last
  // bound of UINT64_MAX is about 9.2e18, and a mean computed with integer division.
  AtomicHistogram<3> histogram({10, 100, kMax});
  histogram.record(1);
  histogram.record(1'000'000);
  CHECK(histogram.snapshot().mean() == 500'000.5);
  histogram.record(2);
  CHECK(histogram.snapshot().mean() == doctest::Approx(1'000'003.0 / 3.0));
  // Values in the overflow bucket have no upper bound, yet the mean is still exact.
  const HistogramSnapshot s{.upper_bounds = {10}, .counts = {0, 4}, .sum = 102};
  CHECK(s.mean() == 25.5);
}

// --- percentiles -------------------------------------------------------------------------------

TEST_CASE("percentile takes the bucket of rank ceil(p times n)") {
  // Catches: a rank rounded down (floor), and a walk that goes past the bucket holding the rank
  // when the running count lands exactly on it. The p values are chosen so that p * 8 is either
  // exact or far from an integer: no floating-point rounding decides these results.
  const HistogramSnapshot s = eight_with_empty_first_bucket();
  CHECK(s.percentile(0.25) == 50);   // rank 2: the last observation in (10, 50]
  CHECK(s.percentile(0.3) == 100);   // 2.4 -> rank 3 (floor would say rank 2: 50)
  CHECK(s.percentile(0.5) == 100);   // rank 4
  CHECK(s.percentile(0.75) == 100);  // rank 6: the last observation in (50, 100]
  CHECK(s.percentile(0.8) == 500);   // 6.4 -> rank 7 (floor: 100)
  CHECK(s.percentile(0.875) == 500); // rank 7
  // A common tutorial example through a real histogram: 50, 30 and 20 observations.
  AtomicHistogram<5> histogram({10'000, 50'000, 100'000, 500'000, kMax});
  for (int i = 0; i < 50; ++i) histogram.record(5'000);
  for (int i = 0; i < 30; ++i) histogram.record(25'000);
  for (int i = 0; i < 20; ++i) histogram.record(75'000);
  const HistogramSnapshot example = histogram.snapshot();
  CHECK(example.percentile(0.5) == 10'000);
  CHECK(example.percentile(0.505) == 50'000);   // 50.5 -> rank 51 (floor: rank 50, 10'000)
  CHECK(example.percentile(0.75) == 50'000);
  CHECK(example.percentile(0.805) == 100'000);  // 80.5 -> rank 81 (floor: rank 80, 50'000)
  // Rank 90 is past the 80 observations <= 50'000 (a test that expects
  // 50'000 here is wrong; a floor implementation returns 100'000 too).
  CHECK(example.percentile(0.9) == 100'000);
}

TEST_CASE("percentile at p=0 and small p skips an empty first bucket") {
  // Catches: rank = floor(p * n) (a common tutorial rule) and rank = ceil(p * n)
  // without max(1, ...): both give rank 0 for small p, and rank 0 is "reached" by the first
  // bucket even when it is empty, so p0 would report 10 although nothing is <= 10.
  const HistogramSnapshot s = eight_with_empty_first_bucket();
  CHECK(s.percentile(0.0) == 50);     // rank 1: the smallest observation is in (10, 50]
  CHECK(s.percentile(1e-9) == 50);
  CHECK(s.percentile(0.0625) == 50);  // 0.5 -> rank 1
  CHECK(s.percentile(0.1) == 50);     // 0.8 -> rank 1
  const HistogramSnapshot first_used{.upper_bounds = {10, 50}, .counts = {1, 1, 0}, .sum = 20};
  CHECK(first_used.percentile(0.0) == 10);
}

TEST_CASE("percentile at p=1 is the bucket of the largest observation") {
  // Catches: an overflow bucket reported as the last finite bound (that is "at most 500" for a
  // value above 500; the contract says UINT64_MAX, "more than the last bound"), and a walk
  // that never reaches rank n and falls off the end.
  const HistogramSnapshot s = eight_with_empty_first_bucket();
  CHECK(s.percentile(1.0) == kMax);  // rank 8 is in the overflow bucket
  CHECK(s.percentile(0.9) == kMax);  // 7.2 -> rank 8
  const HistogramSnapshot low{.upper_bounds = {10, 50, 100}, .counts = {1, 2, 0, 0}, .sum = 60};
  CHECK(low.percentile(1.0) == 50);  // the largest observation is in (10, 50]
  CHECK(low.percentile(0.5) == 50);  // 1.5 -> rank 2
}

TEST_CASE("percentile outside 0 to 1 throws invalid_argument") {
  // Catches: no validation, a validation written as (p < 0 || p > 1), which lets NaN through
  // (every comparison with NaN is false), and an empty-histogram shortcut taken before the
  // validation (a bad argument is a bad argument even when there is no data).
  const HistogramSnapshot s = eight_with_empty_first_bucket();
  const HistogramSnapshot empty = AtomicHistogram<4>(kBounds).snapshot();
  for (const HistogramSnapshot* snapshot : {&s, &empty}) {
    CAPTURE(snapshot->total());
    CHECK_THROWS_AS((void)snapshot->percentile(-0.01), std::invalid_argument);
    CHECK_THROWS_AS((void)snapshot->percentile(1.01), std::invalid_argument);
    CHECK_THROWS_AS((void)snapshot->percentile(-1.0), std::invalid_argument);
    CHECK_THROWS_AS((void)snapshot->percentile(99.0), std::invalid_argument);
    CHECK_THROWS_AS((void)snapshot->percentile(std::nan("")), std::invalid_argument);
    CHECK_THROWS_AS((void)snapshot->percentile(std::numeric_limits<double>::infinity()),
                    std::invalid_argument);
    CHECK_THROWS_AS((void)snapshot->percentile(-std::numeric_limits<double>::infinity()),
                    std::invalid_argument);
    CHECK_NOTHROW((void)snapshot->percentile(0.0));
    CHECK_NOTHROW((void)snapshot->percentile(-0.0));
    CHECK_NOTHROW((void)snapshot->percentile(1.0));
  }
}

// --- concurrency ---------------------------------------------------------------------------------

TEST_CASE("concurrent records lose no observation and no value") {
  // Catches: a bucket or sum increment written as store(load() + n). Both calls are atomic,
  // so TSan says nothing, but two threads that load the same value store the same result and
  // one observation (or its value) is lost. Also plain (non-atomic) members, which TSan
  // reports. Exact after the join: join makes every write of a thread visible.
  constexpr std::uint64_t rounds = 80'000;  // per thread at least; each round records 5 values
  constexpr std::array<std::uint64_t, 5> values{7, 50, 99, 500, 12'345};  // one per bucket
  AtomicHistogram<4> histogram(kBounds);
  // Every thread walks the buckets in the same order, so threads collide on the same bucket.
  const auto report = lab::hammer(
      lab::stress_threads(), {.min_ops = rounds, .max_ops = 10 * rounds},
      [&](std::size_t, std::uint64_t) {
        for (const std::uint64_t v : values) histogram.record(v);
      });
  const std::uint64_t per_bucket = report.total_ops();
  const HistogramSnapshot s = histogram.snapshot();
  INFO(describe(s));
  CHECK(s.counts == Counts(5, per_bucket));
  CHECK(s.sum == per_bucket * (7 + 50 + 99 + 500 + 12'345));
  CHECK(s.total() == 5 * per_bucket);
  lab::conclude(report.missing);
}

TEST_CASE("snapshots while writers run never show a count above what was recorded") {
  // Catches: a snapshot that resets the buckets as it reads them (exchange(0), as if exporting
  // deltas): counts go backwards between snapshots and observations vanish from the total;
  // and lost updates from a load() + store() increment, which also make a count go backwards.
  // Each writer announces an observation (started[b]) BEFORE it records it, and the reader
  // loads started[] AFTER its snapshot, so no count may exceed its started[]. A later load of
  // the same atomic never reads an older value, so no count may shrink between snapshots.
  constexpr std::uint64_t per_writer = 300'000;
  constexpr std::array<std::uint64_t, 5> values{7, 50, 99, 500, 12'345};
  const std::size_t writers = lab::stress_threads() - 1;
  AtomicHistogram<4> histogram(kBounds);
  std::array<std::atomic<std::uint64_t>, 5> started{};
  // Reader thread only; read after the join.
  std::uint64_t above = 0, backwards = 0;
  HistogramSnapshot last{.upper_bounds = {}, .counts = Counts(5, 0), .sum = 0}, first_bad;
  const auto report = lab::hammer(
      writers,
      {.min_ops = per_writer, .max_ops = 10 * per_writer, .min_reader_steps = 200},
      [&](std::size_t, std::uint64_t i) {
        const std::size_t b = i % 5;
        started[b].fetch_add(1);
        histogram.record(values[b]);
      },
      [&] {
        const HistogramSnapshot s = histogram.snapshot();
        const std::uint64_t before = above + backwards;
        for (std::size_t b = 0; b < 5; ++b) {
          if (s.counts[b] > started[b].load()) ++above;
          if (s.counts[b] < last.counts[b]) ++backwards;
        }
        if (s.sum < last.sum) ++backwards;
        if (above + backwards > before && first_bad.counts.empty()) first_bad = s;
        last = s;
        return s.total() > 0;  // a snapshot that saw writers at work
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps);
  INFO("first bad snapshot: " << describe(first_bad));
  CHECK(above == 0);
  CHECK(backwards == 0);
  const HistogramSnapshot final_snapshot = histogram.snapshot();
  INFO("final: " << describe(final_snapshot));
  std::uint64_t recorded = 0;
  for (std::size_t b = 0; b < 5; ++b) {
    CHECK(final_snapshot.counts[b] == started[b].load());
    recorded += started[b].load();
  }
  CHECK(final_snapshot.total() == recorded);
  CHECK(recorded == report.total_ops());
  lab::conclude(report.missing);
}

TEST_CASE("no snapshot counts an observation whose value is missing from the sum") {
  // Catches: a snapshot that counts an observation whose value its sum lacks: an update order or
  // read order that lets a count run ahead of the sum (lesson 3, "What a snapshot can promise":
  // which update vouches, which read comes first?). Every value recorded here equals its bucket's
  // upper bound (or 10^6 for the overflow bucket), so the counted values add up to exactly
  // sum(counts[b] * value[b]), and the promise is sum >= that. TSan reports nothing (every access
  // is atomic) and x86 does not reorder these operations, so the test counts: what matters is the
  // order of the operations in the source, because threads are preempted or delayed between any two
  // of them. Half of the observations go to the overflow bucket, the one snapshot() reads last: its
  // large value cannot be hidden by the small values other writers add meanwhile, and 64 buckets
  // make a snapshot long enough for writers to record during it.
  constexpr std::uint64_t per_writer = 300'000;
  constexpr std::size_t n = 64;
  std::array<std::uint64_t, n + 1> values{};
  for (std::size_t b = 0; b < n; ++b) values[b] = 10 * (b + 1);
  values[n] = 1'000'000;
  std::array<std::uint64_t, n> bounds{};
  std::copy_n(values.begin(), n, bounds.begin());
  AtomicHistogram<n> histogram(bounds);
  // Reader thread only; read after the join.
  std::uint64_t violations = 0;
  HistogramSnapshot first_bad;
  const auto report = lab::hammer(
      lab::stress_threads(),
      {.min_ops = per_writer, .max_ops = 10 * per_writer, .min_reader_steps = 200},
      [&](std::size_t w, std::uint64_t i) {
        histogram.record(i % 2 == 0 ? values[n] : values[(i / 2 + w) % n]);
      },
      [&] {
        const HistogramSnapshot s = histogram.snapshot();
        std::uint64_t counted = 0;
        for (std::size_t b = 0; b <= n; ++b) counted += s.counts[b] * values[b];
        if (s.sum < counted) {
          if (violations == 0) first_bad = s;
          ++violations;
        }
        return s.total() > 0;  // a snapshot that saw writers at work
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps);
  INFO("snapshots whose sum lacks counted values: " << violations << ", the first: "
                                                    << describe(first_bad));
  CHECK(violations == 0);
  CHECK(histogram.snapshot().total() == report.total_ops());
  lab::conclude(report.missing);
}

TEST_CASE("a snapshot that counts an observation sees what its writer did before") {
  // Catches: a snapshot that counts an observation but not what its writer did before record():
  // orders that build no happens-before edge from writer to reader (lesson 3, "What a snapshot can
  // promise": which write publishes, which read pairs?). Then nothing orders the writer's earlier
  // writes before the reader's reads: a data race, which ThreadSanitizer reports (x86 would hide
  // it, weakly ordered CPUs would not). Writer w owns bucket w; before its k-th record it writes k
  // into a plain (non-atomic) array. A snapshot showing count c in bucket w may then read element
  // c - 1 of that array, and must find c - 1 there.
  constexpr std::size_t max_writers = 8;
  constexpr std::uint64_t per_writer = 100'000;
  constexpr std::uint64_t capacity = 4 * per_writer;
  const std::size_t writers = std::min(lab::stress_threads() - 1, max_writers);
  AtomicHistogram<max_writers> histogram({1, 2, 3, 4, 5, 6, 7, 8});
  // Not zero-filled: only elements a writer has written are ever read.
  std::vector<std::unique_ptr<std::uint64_t[]>> payload;
  for (std::size_t w = 0; w < writers; ++w) {
    payload.push_back(std::make_unique_for_overwrite<std::uint64_t[]>(capacity));
  }
  // Reader thread only; read after the join.
  std::uint64_t wrong = 0, checked = 0;
  const auto report = lab::hammer(
      writers, {.min_ops = per_writer, .max_ops = capacity, .min_reader_steps = 200},
      [&](std::size_t w, std::uint64_t k) {
        payload[w][k] = k;        // plain write, published by the record() below
        histogram.record(w + 1);  // value w + 1 is in bucket w
      },
      [&] {
        const HistogramSnapshot s = histogram.snapshot();
        for (std::size_t w = 0; w < writers; ++w) {
          const std::uint64_t c = s.counts[w];
          if (c == 0) continue;
          if (c > capacity || payload[w][c - 1] != c - 1) ++wrong;  // plain read
          ++checked;
        }
        return s.total() > 0;  // a snapshot that saw writers at work
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps << ", " << checked
                                             << " counts checked");
  CHECK(wrong == 0);
  CHECK(histogram.snapshot().total() == report.total_ops());
  lab::conclude(report.missing);
}
