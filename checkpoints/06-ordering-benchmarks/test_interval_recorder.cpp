// Checkpoints for milestone 6, stretch exercise: IntervalRecorder (interval_recorder.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points (stretch
// points) and mutants.json keeps a wrong implementation that it must fail.
//
// The phaser's mistakes are made of atomic operations, so ThreadSanitizer reports none of them
// except a missing hand-over (the payload test): the load test counts instead. Writers record
// values whose totals are known exactly, the reader takes intervals while they run and checks
// that each one is consistent (its sum is exactly the values its counts say), and after the
// writers join, the intervals add up to exactly what was recorded, with nothing left over.
#include <interval_recorder.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "lab_test.hpp"

using metrics::HistogramSnapshot;
using metrics::IntervalRecorder;

namespace {

std::uint64_t count_of(const HistogramSnapshot& s) {
  return std::accumulate(s.counts.begin(), s.counts.end(), std::uint64_t{0});
}

std::string describe(const HistogramSnapshot& s) {
  std::ostringstream out;
  out << "counts {";
  for (std::size_t i = 0; i < s.counts.size(); ++i) out << (i ? ", " : "") << s.counts[i];
  out << "}, sum " << s.sum;
  return out.str();
}

}  // namespace

TEST_CASE("IntervalRecorder counts on one thread and each interval starts empty") {
  // Catches: an interval that is not cleared after it is read (the next one counts everything
  // again), buckets found as anything but milestone 3's "first bound >= value", and a recorder
  // that can be copied.
  CHECK_FALSE(std::is_copy_constructible_v<IntervalRecorder<4>>);
  CHECK_FALSE(std::is_copy_assignable_v<IntervalRecorder<4>>);
  IntervalRecorder<4> recorder({10, 50, 100, 500});
  const HistogramSnapshot empty = recorder.take_interval();
  CHECK(empty.upper_bounds == std::vector<std::uint64_t>{10, 50, 100, 500});
  CHECK(empty.counts == std::vector<std::uint64_t>{0, 0, 0, 0, 0});
  CHECK(empty.sum == 0);
  for (const std::uint64_t v : {5, 10, 11, 50, 100, 101, 500, 501, 7000}) recorder.record(v);
  const HistogramSnapshot first = recorder.take_interval();
  INFO("first interval: " << describe(first));
  CHECK(first.counts == std::vector<std::uint64_t>{2, 2, 1, 2, 2});
  CHECK(first.sum == 5 + 10 + 11 + 50 + 100 + 101 + 500 + 501 + 7000);
  const HistogramSnapshot nothing = recorder.take_interval();
  INFO("an interval with no record() since the last one: " << describe(nothing));
  CHECK(nothing.counts == std::vector<std::uint64_t>{0, 0, 0, 0, 0});
  CHECK(nothing.sum == 0);
  // Several rounds, so that each of the two buffers is used, read and reused more than once.
  for (std::uint64_t round = 1; round <= 5; ++round) {
    for (std::uint64_t i = 0; i < round; ++i) recorder.record(60);
    recorder.record(1'000);
    const HistogramSnapshot s = recorder.take_interval();
    INFO("round " << round << ": " << describe(s));
    CHECK(s.counts == std::vector<std::uint64_t>{0, 0, round, 0, 1});
    CHECK(s.sum == 60 * round + 1'000);
  }
}

TEST_CASE("IntervalRecorder rejects bounds that are not strictly increasing") {
  // Catches: a constructor that accepts equal or unsorted bounds (the bucket search needs
  // strictly increasing ones, and an equal pair leaves a bucket unreachable), as milestone 3's.
  using R4 = IntervalRecorder<4>;
  CHECK_THROWS_AS(R4({10, 50, 50, 500}), std::invalid_argument);
  CHECK_THROWS_AS(R4({10, 5, 100, 500}), std::invalid_argument);
  CHECK_THROWS_AS(R4({10, 50, 100, 0}), std::invalid_argument);
  IntervalRecorder<1> one({7});
  one.record(7);
  one.record(8);
  const HistogramSnapshot s = one.take_interval();
  CHECK(s.counts == std::vector<std::uint64_t>{1, 1});
  CHECK(s.sum == 15);
}

TEST_CASE("no interval is torn or lost while writers record") {
  // Catches: an interval that is torn or loses an observation: take_interval() steps that let a
  // writer entering the new phase reach the old buffer, or a read of a buffer an old-phase writer
  // may still fill (lesson 6, "The phaser"). Which step comes first, and whom must the reader wait
  // for? Either way an interval is torn (its sum is not the values its counts say) or an
  // observation lands in a buffer after it was read and is missing from the totals. Every value
  // equals its bucket's bound (10^6 for the overflow bucket), so a consistent interval has sum ==
  // sum(counts[b] * value[b]) exactly. TSan reports nothing: every access is atomic.
  constexpr std::size_t n = 8;
  std::array<std::uint64_t, n + 1> values{};
  for (std::size_t b = 0; b < n; ++b) values[b] = 10 * (b + 1);
  values[n] = 1'000'000;
  std::array<std::uint64_t, n> bounds{};
  std::copy_n(values.begin(), n, bounds.begin());
  IntervalRecorder<n> recorder(bounds);
  // Buckets 0 and n, the first and the last a reader reads (whichever way round it reads
  // them): a record that straddles the read of its buffer is then most likely torn.
  const auto bucket_of = [](std::size_t w, std::uint64_t i) { return (i + w) % 2 == 0 ? 0 : n; };
  const auto value_of = [&](std::size_t w, std::uint64_t i) { return values[bucket_of(w, i)]; };

  // Two writers and the reader: more threads than CPUs would mostly measure how long the
  // reader waits for a writer that was preempted inside record().
  const std::size_t writers = 2;
  // Each writer publishes how many of its record() calls have returned; a record() that
  // returned before the reader read this (release/acquire: it happens before the next
  // take_interval() call) must be in that interval or an earlier one.
  // done[w] is writer w's count. The counts sit side by side and may share a cache line: that
  // costs little next to the lines every record() writes anyway (the phaser's words, the active
  // buffer), and this test counts outcomes, it does not time anything.
  std::vector<std::atomic<std::uint64_t>> done(writers);
  std::vector<std::uint64_t> seen(n + 1, 0);  // reader only; read after the join
  std::uint64_t seen_total = 0, seen_sum = 0, torn = 0, late = 0, intervals = 0;
  HistogramSnapshot first_torn;
  const auto consistent = [&](const HistogramSnapshot& s) {
    std::uint64_t counted = 0;
    for (std::size_t b = 0; b <= n; ++b) counted += s.counts[b] * values[b];
    return counted == s.sum;
  };
  const auto report = lab::hammer(
      writers, {.min_ops = 200'000, .min_reader_steps = 2'000, .min_sightings = 100},
      [&](std::size_t w, std::uint64_t i) {
        recorder.record(value_of(w, i));
        // order: release: the reader's acquire below then knows this record() returned.
        done[w].store(i + 1, std::memory_order_release);
      },
      [&] {
        std::uint64_t returned = 0;
        // order: acquire: pairs with the writers' release: those calls happen before the
        // take_interval() below.
        for (const auto& d : done) returned += d.load(std::memory_order_acquire);
        const HistogramSnapshot s = recorder.take_interval();
        ++intervals;
        if (!consistent(s)) {
          if (torn == 0) first_torn = s;
          ++torn;
        }
        for (std::size_t b = 0; b <= n; ++b) seen[b] += s.counts[b];
        seen_sum += s.sum;
        seen_total += count_of(s);
        if (seen_total < returned) ++late;
        return count_of(s) > 0;  // an interval that saw the writers at work
      });
  // After the join, one more interval holds everything that is left, and the next is empty.
  const HistogramSnapshot rest = recorder.take_interval();
  const HistogramSnapshot after = recorder.take_interval();
  std::vector<std::uint64_t> expected(n + 1, 0);
  std::uint64_t expected_sum = 0;
  for (std::size_t w = 0; w < writers; ++w) {
    for (std::uint64_t i = 0; i < report.ops[w]; ++i) {
      const std::uint64_t v = value_of(w, i);
      ++expected[bucket_of(w, i)];
      expected_sum += v;
    }
  }
  for (std::size_t b = 0; b <= n; ++b) seen[b] += rest.counts[b];
  seen_sum += rest.sum;
  INFO("intervals taken while writers ran: " << intervals << " (" << report.reader_steps
                                             << " steps)");
  INFO("torn intervals (sum is not the counted values): " << torn
                                                          << ", the first: " << describe(first_torn));
  INFO("intervals missing a record() that returned before they were taken: " << late);
  CHECK_MESSAGE(late == 0, "a record() that returned before take_interval() was called is not "
                           "in that interval nor an earlier one: did it add to a buffer that "
                           "had already been read?");
  CHECK_MESSAGE(torn == 0, "an interval's counts and sum describe different observations: was "
                           "it read while a writer could still add to it? (interval-recorder.md, "
                           "\"The phaser\")");
  INFO("all intervals together: " << seen_sum << " summed, " << std::accumulate(seen.begin(), seen.end(), std::uint64_t{0})
                                  << " counted; recorded: " << expected_sum << " in "
                                  << report.total_ops() << " calls");
  CHECK_MESSAGE(seen == expected, "the intervals together do not hold every record() exactly "
                                  "once: did a writer add to a buffer after it was read?");
  CHECK(seen_sum == expected_sum);
  INFO("the interval after the last one: " << describe(after));
  CHECK_MESSAGE(count_of(after) == 0, "observations were left in a buffer that is not the "
                                      "active one");
  CHECK(after.sum == 0);
  lab::conclude(report.missing);
}

TEST_CASE("an interval that counts an observation sees what its writer did before") {
  // Catches: an interval that counts an observation but not what its writer did before record(): a
  // hand-over from leaving writer to waiting reader that orders nothing (lesson 6, "The
  // hand-overs": which operation publishes, and which pairs with it?). Then nothing orders the
  // writer's earlier writes before the reader's reads: a data race, which ThreadSanitizer reports
  // (x86 hides it, weakly ordered CPUs and the compiler need not). Writer w owns bucket w; before
  // its k-th record it writes k into a plain (non-atomic) array. Once the intervals so far hold c
  // observations in bucket w, the reader may read element c - 1 and must find c - 1 there.
  constexpr std::size_t max_writers = 8;
  constexpr std::uint64_t capacity = 2'000'000;
  const std::size_t writers = std::min(lab::stress_threads() - 1, max_writers);
  IntervalRecorder<max_writers> recorder({1, 2, 3, 4, 5, 6, 7, 8});
  // Not zero-filled: only elements a writer has written are ever read.
  std::vector<std::unique_ptr<std::uint64_t[]>> payload;
  for (std::size_t w = 0; w < writers; ++w) {
    payload.push_back(std::make_unique_for_overwrite<std::uint64_t[]>(capacity));
  }
  std::vector<std::uint64_t> total(writers, 0);  // reader only; read after the join
  std::uint64_t wrong = 0, checked = 0;
  const auto report = lab::hammer(
      writers, {.min_ops = 50'000, .max_ops = capacity, .min_reader_steps = 200},
      [&](std::size_t w, std::uint64_t k) {
        payload[w][k] = k;       // plain write, published by the record() below
        recorder.record(w + 1);  // value w + 1 is in bucket w
      },
      [&] {
        const HistogramSnapshot s = recorder.take_interval();
        bool saw = false;
        for (std::size_t w = 0; w < writers; ++w) {
          if (s.counts[w] == 0) continue;
          saw = true;
          total[w] += s.counts[w];
          const std::uint64_t c = total[w];
          if (c > capacity || payload[w][c - 1] != c - 1) ++wrong;  // plain read
          ++checked;
        }
        return saw;
      });
  const HistogramSnapshot rest = recorder.take_interval();
  for (std::size_t w = 0; w < writers; ++w) total[w] += rest.counts[w];
  INFO("intervals taken while writers ran: " << report.reader_steps);
  CHECK(wrong == 0);
  CHECK(std::accumulate(total.begin(), total.end(), std::uint64_t{0}) == report.total_ops());
  if (checked <= 100) lab::conclude("the reader saw the writers' observations only " +
                                    std::to_string(checked) + " times");
  lab::conclude(report.missing);
}
