// Checkpoints for milestone 6: ShardedHistogram (sharded_histogram.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail. The tests compute totals
// themselves instead of calling HistogramSnapshot::total(), so that they judge this milestone's
// code, not milestone 3's.
#include <sharded_histogram.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <limits>
#include <memory>
#include <numeric>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "lab_test.hpp"

using metrics::HistogramSnapshot;
using metrics::ShardedHistogram;

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

std::uint64_t count_of(const HistogramSnapshot& s) {
  return std::accumulate(s.counts.begin(), s.counts.end(), std::uint64_t{0});
}

std::string describe(const HistogramSnapshot& s) {
  std::ostringstream out;
  out << "counts {";
  for (std::size_t i = 0; i < s.counts.size(); ++i) out << (i ? ", " : "") << s.counts[i];
  out << "} sum " << s.sum;
  return out.str();
}

// The bucket milestone 3 defines, one bound at a time: the first bound >= value, else N.
template <std::size_t N>
std::size_t reference_bucket(const std::array<std::uint64_t, N>& bounds, std::uint64_t value) {
  for (std::size_t i = 0; i < N; ++i) if (value <= bounds[i]) return i;
  return N;
}

}  // namespace

TEST_CASE("ShardedHistogram finds and counts buckets as milestone 3 does") {
  // Catches: a find_bucket() off by one at the bounds (a value equal to a bound filed in the next
  // bucket), values above the last bound not in the overflow bucket, a sum that misses values, and
  // a copyable histogram.
  CHECK_FALSE(std::is_copy_constructible_v<ShardedHistogram<4>>);
  CHECK_FALSE(std::is_copy_assignable_v<ShardedHistogram<4>>);
  // Every size from 1 to 9 bounds, every bound, one below and one above it: a branch-free
  // search has a different shape for each N.
  const auto check_all = [](const auto& bounds) {
    constexpr std::size_t n = std::tuple_size_v<std::decay_t<decltype(bounds)>>;
    ShardedHistogram<n> histogram(bounds);
    std::vector<std::uint64_t> values{0, kMax};
    for (const std::uint64_t b : bounds) values.insert(values.end(), {b - 1, b, b + 1});
    for (const std::uint64_t v : values) {
      INFO("N = " << n << ", value " << v);
      CHECK(histogram.find_bucket(v) == reference_bucket(bounds, v));
    }
  };
  check_all(std::array<std::uint64_t, 1>{10});
  check_all(std::array<std::uint64_t, 2>{10, 50});
  check_all(std::array<std::uint64_t, 3>{10, 50, 100});
  check_all(std::array<std::uint64_t, 4>{10, 50, 100, 500});
  check_all(std::array<std::uint64_t, 5>{1, 10, 50, 100, 500});
  check_all(std::array<std::uint64_t, 7>{1, 2, 10, 50, 100, 500, 1000});
  check_all(std::array<std::uint64_t, 8>{1, 2, 5, 10, 20, 50, 100, 200});
  check_all(std::array<std::uint64_t, 9>{1, 2, 5, 10, 20, 50, 100, 200, kMax - 1});

  ShardedHistogram<4> histogram({10, 50, 100, 500});
  const HistogramSnapshot empty = histogram.snapshot();
  CHECK(empty.upper_bounds == std::vector<std::uint64_t>{10, 50, 100, 500});
  CHECK(empty.counts == std::vector<std::uint64_t>{0, 0, 0, 0, 0});
  CHECK(empty.sum == 0);
  for (const std::uint64_t v : {5, 10, 11, 50, 100, 101, 500, 501, 7000}) histogram.record(v);
  const HistogramSnapshot s = histogram.snapshot();
  INFO(describe(s));
  CHECK(s.counts == std::vector<std::uint64_t>{2, 2, 1, 2, 2});
  CHECK(s.sum == 5 + 10 + 11 + 50 + 100 + 101 + 500 + 501 + 7000);
}

TEST_CASE("ShardedHistogram rejects bad bounds and a slot count outside 1 to 256") {
  // Catches: a constructor (checked_bounds()) that accepts unsorted or equal bounds (the binary
  // search needs strictly increasing ones) or 0 slots (no thread would have a slot), as
  // AtomicHistogram's.
  using H4 = ShardedHistogram<4>;
  CHECK_THROWS_AS(H4({10, 50, 50, 500}), std::invalid_argument);
  CHECK_THROWS_AS(H4({10, 5, 100, 500}), std::invalid_argument);
  CHECK_THROWS_AS(H4({10, 50, 100, 0}), std::invalid_argument);
  CHECK_THROWS_AS(H4({10, 50, 100, 500}, 0), std::invalid_argument);
  CHECK_THROWS_AS(H4({10, 50, 100, 500}, 257), std::invalid_argument);
  H4 one({10, 50, 100, kMax}, 1);
  CHECK(one.slot_count() == 1);
  CHECK_THROWS_AS((void)one.slot_address(2), std::out_of_range);
  one.record(kMax);
  const HistogramSnapshot s = one.snapshot();
  CHECK(s.counts == std::vector<std::uint64_t>{0, 0, 0, 1, 0});
  CHECK(s.sum == kMax);
}

TEST_CASE("ShardedHistogram slots are on cache lines of their own") {
  // Catches: slots that share a cache line (false sharing): the end of one thread's slot and the
  // start of the next one's on one 64-byte line, passed back and forth between two recording
  // threads (scaling-histograms.md, "The sharded design": where may a slot start?). Correct, but
  // slower than one shared histogram. Checked on the type and on real addresses.
  using H = ShardedHistogram<10>;
  H histogram({1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}, 8);
  histogram.record(3);
  INFO("alignof(Slot) = " << alignof(H::Slot) << ", sizeof(Slot) = " << sizeof(H::Slot)
                          << ": a slot must start on a line and fill whole lines");
  CHECK(alignof(H::Slot) >= 64);
  CHECK(sizeof(H::Slot) % 64 == 0);
  std::set<std::uintptr_t> lines;
  std::size_t expected = 0;
  for (std::size_t i = 0; i <= histogram.slot_count(); ++i) {  // the last is the overflow slot
    const auto begin = reinterpret_cast<std::uintptr_t>(histogram.slot_address(i));
    for (std::uintptr_t line = begin / 64; line <= (begin + sizeof(H::Slot) - 1) / 64; ++line) {
      lines.insert(line);
      ++expected;
    }
  }
  CHECK(lines.size() == expected);  // no line holds parts of two slots
}

TEST_CASE("ShardedHistogram record touches only the calling thread's slot") {
  // Catches: every thread recording into one shared slot (slot 0, or the overflow slot) with
  // fetch_add: exact, but it is milestone 3's contended histogram again. Three threads, alive
  // at the same time, record 1000, 2000 and 3000 observations; each must land in a slot of its
  // own.
  using H = ShardedHistogram<4>;
  H histogram({10, 50, 100, 500}, 8);
  constexpr std::size_t threads = 3;
  std::latch all_recorded(threads);
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        struct Arrive {  // also when record() throws (a TODO): nobody waits forever
          std::latch& latch;
          ~Arrive() { latch.arrive_and_wait(); }
        } arrive{all_recorded};
        for (std::uint64_t i = 0; i < 1000 * (t + 1); ++i) histogram.record(t * 100 + 1);
      });
    }
  }
  const HistogramSnapshot s = histogram.snapshot();
  REQUIRE(count_of(s) == 6000);
  std::multiset<std::uint64_t> per_slot;
  for (std::size_t i = 0; i <= histogram.slot_count(); ++i) {
    const auto* slot = static_cast<const H::Slot*>(histogram.slot_address(i));
    std::uint64_t n = 0;
    for (const auto& count : slot->counts) n += count.load();
    if (n != 0) per_slot.insert(n);
  }
  INFO("observations per non-empty slot: " << [&] {
    std::ostringstream out;
    for (const auto n : per_slot) out << n << ' ';
    return out.str();
  }());
  CHECK(per_slot == std::multiset<std::uint64_t>{1000, 2000, 3000});
}

TEST_CASE("ShardedHistogram is exact after the writers join") {
  // Catches: a snapshot that reads one slot (the caller's, or slot 0) instead of adding them
  // all, forgets the overflow slot, or adds a slot's sum but not its counts.
  const std::size_t threads = lab::stress_threads();
  constexpr std::array<std::uint64_t, 4> bounds{10, 50, 100, 500};
  constexpr std::array<std::uint64_t, 5> values{7, 50, 99, 500, 12345};
  ShardedHistogram<4> histogram(bounds, threads + 4);
  const auto report = lab::hammer(threads, {.min_ops = 50'000},
                                  [&](std::size_t t, std::uint64_t i) {
                                    histogram.record(values[(i + t) % values.size()]);
                                  });
  std::vector<std::uint64_t> counts(5, 0);
  std::uint64_t sum = 0;
  for (std::size_t t = 0; t < threads; ++t) {
    for (std::uint64_t i = 0; i < report.ops[t]; ++i) {
      const std::uint64_t v = values[(i + t) % values.size()];
      ++counts[reference_bucket(bounds, v)];
      sum += v;
    }
  }
  const HistogramSnapshot s = histogram.snapshot();
  CHECK(s.counts == counts);
  CHECK(s.sum == sum);
  lab::conclude(report.missing);
}

TEST_CASE("ShardedHistogram with more threads than slots is still exact") {
  // Catches: observations or values lost when threads without a slot of their own share one: an
  // update of a shared slot that is not one indivisible step (scaling-histograms.md, "The sharded
  // design": how many writers does each slot have?). Threads beyond the slot count share the overflow slot (or,
  // in a "thread index % slots" design, another thread's slot); two of them can read the same
  // value, and an observation or a value is lost. TSan does not reliably report the race, so the
  // test counts, long enough to make a loss near certain.
  const std::size_t threads = lab::stress_threads() + 2;
  ShardedHistogram<2> histogram({10, 100}, 2);
  const auto report =
      lab::hammer(threads, {.min_ops = 200'000, .min_time = lab::milliseconds(200)},
                  [&](std::size_t t, std::uint64_t) { histogram.record(t); });
  std::uint64_t sum = 0;
  for (std::size_t t = 0; t < threads; ++t) sum += report.ops[t] * t;
  const HistogramSnapshot s = histogram.snapshot();
  INFO(describe(s));
  CHECK(count_of(s) == report.total_ops());
  CHECK(s.counts[0] == report.total_ops());  // every value t < 10
  CHECK(s.sum == sum);
  lab::conclude(report.missing);
}

TEST_CASE("no sharded snapshot counts an observation whose value is missing from the sum") {
  // Catches: a sharded snapshot that counts an observation whose value its sum lacks: an update
  // order in record() or a read order in snapshot() that lets a slot's count run ahead of its sum
  // (lesson 6, "Why the snapshot keeps milestone 3's promises"). As in milestone 3, every value
  // equals its bucket's bound (10^6 for the overflow bucket), so the counted values add up to
  // exactly sum(counts[b] * value[b]) and the promise is sum >= that; half of the observations go
  // to the overflow bucket, read last, and 64 buckets make a snapshot long enough for writers to
  // record during it. TSan reports nothing (every access is atomic), so the test counts. Counts
  // must never go backwards either.
  constexpr std::size_t n = 64;
  std::array<std::uint64_t, n + 1> values{};
  for (std::size_t b = 0; b < n; ++b) values[b] = 10 * (b + 1);
  values[n] = 1'000'000;
  std::array<std::uint64_t, n> bounds{};
  std::copy_n(values.begin(), n, bounds.begin());
  const std::size_t writers = lab::stress_threads();
  ShardedHistogram<n> histogram(bounds, writers + 4);
  std::uint64_t violations = 0, backwards = 0;  // reader only; read after the join
  HistogramSnapshot first_bad, last;
  last.counts.assign(n + 1, 0);
  const auto report = lab::hammer(
      writers, {.min_ops = 300'000, .min_reader_steps = 2'000},
      [&](std::size_t w, std::uint64_t i) {
        histogram.record(i % 2 == 0 ? values[n] : values[(i / 2 + w) % n]);
      },
      [&] {
        const HistogramSnapshot s = histogram.snapshot();
        std::uint64_t counted = 0;
        for (std::size_t b = 0; b <= n; ++b) {
          counted += s.counts[b] * values[b];
          if (s.counts[b] < last.counts[b]) ++backwards;
        }
        if (s.sum < counted) {
          if (violations == 0) first_bad = s;
          ++violations;
        }
        last = s;
        return count_of(s) > 0;  // a snapshot that saw writers at work
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps);
  INFO("snapshots whose sum lacks counted values: " << violations
                                                    << ", the first: " << describe(first_bad));
  CHECK(violations == 0);
  CHECK(backwards == 0);
  CHECK(count_of(histogram.snapshot()) == report.total_ops());
  lab::conclude(report.missing);
}

namespace {

// The payload check of the two tests below. Writer w owns bucket w; before its k-th record it
// writes k into a plain (non-atomic) array. A snapshot showing count c in bucket w may then read
// element c - 1 of that array, and must find c - 1 there. `slots`: the histogram's slot count.
// At least three writers (stress_threads() is at least 4).
void check_counted_observations_publish(std::size_t slots) {
  constexpr std::size_t max_writers = 8;
  constexpr std::uint64_t capacity = 2'000'000;
  const std::size_t writers = std::min(lab::stress_threads() - 1, max_writers);
  ShardedHistogram<max_writers> histogram({1, 2, 3, 4, 5, 6, 7, 8}, slots);
  // Not zero-filled: only elements a writer has written are ever read.
  std::vector<std::unique_ptr<std::uint64_t[]>> payload;
  for (std::size_t w = 0; w < writers; ++w) {
    payload.push_back(std::make_unique_for_overwrite<std::uint64_t[]>(capacity));
  }
  std::uint64_t wrong = 0, checked = 0;  // reader only; read after the join
  const auto report = lab::hammer(
      writers, {.min_ops = 50'000, .max_ops = capacity, .min_reader_steps = 200},
      [&](std::size_t w, std::uint64_t k) {
        payload[w][k] = k;        // plain write, published by the record() below
        histogram.record(w + 1);  // value w + 1 is in bucket w
      },
      [&] {
        const HistogramSnapshot s = histogram.snapshot();
        bool saw = false;
        for (std::size_t w = 0; w < writers; ++w) {
          const std::uint64_t c = s.counts[w];
          if (c == 0) continue;
          saw = true;
          if (c > capacity || payload[w][c - 1] != c - 1) ++wrong;  // plain read
          ++checked;
        }
        return saw;
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps);
  CHECK(wrong == 0);
  CHECK(count_of(histogram.snapshot()) == report.total_ops());
  if (checked <= 100) lab::conclude("the reader saw the writers' observations only " +
                                    std::to_string(checked) + " times");
  lab::conclude(report.missing);
}

}  // namespace

TEST_CASE("a sharded snapshot that counts an observation sees what its writer did before") {
  // Catches: a sharded snapshot that counts an observation but not what its writer did before
  // record(): orders that build no happens-before edge from writer to reader (lesson 6, "Why the
  // snapshot keeps milestone 3's promises": which write publishes?). Then nothing orders the
  // writer's earlier writes before the reader's reads: a data race, which ThreadSanitizer reports
  // (x86 would hide it, weakly ordered CPUs would not). Every writer has a slot of its own.
  check_counted_observations_publish(10);  // a slot for each of up to 8 writers
}

TEST_CASE("a sharded snapshot that counts an overflow observation sees what its writer did before") {
  // Catches: the same missing edge on the overflow slot, the one slot that threads without a slot
  // of their own share (scaling-histograms.md, "The sharded design"): a snapshot that counts an
  // observation recorded there but not what its writer did before record(). With one slot and
  // at least three writers alive at once, at least two record into the overflow slot.
  check_counted_observations_publish(1);
}
