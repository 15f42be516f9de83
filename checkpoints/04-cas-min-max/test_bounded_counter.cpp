// Checkpoints for milestone 4, part 2: BoundedCounter (bounded_counter.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
//
// The classic wrong answer, a load compared with the limit and then a separate increment, is made
// of atomic operations only, so ThreadSanitizer has nothing to report: these tests count. Such a
// bug loses only when two threads cross the limit at the same moment, so the tests make the limit
// (or zero) be crossed thousands of times while threads race for it: many small counters filled (or
// drained) one after another by all threads together, or a counter kept at its limit by threads
// that take and give back slots while a reader watches. lab::race_until repeats each experiment
// until the threads have really competed often enough (see lab_test.hpp).
#include <bounded_counter.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lab_test.hpp"

using metrics::BoundedCounter;

namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// `count` counters of limit `limit` (BoundedCounter is neither copyable nor movable; a deque
// builds them in place and never moves them).
std::deque<BoundedCounter> make_counters(std::size_t count, std::uint64_t limit) {
  std::deque<BoundedCounter> counters;
  for (std::size_t i = 0; i < count; ++i) counters.emplace_back(limit);
  return counters;
}

constexpr std::size_t kCounters = 10000;          // small counters per fill/drain batch
constexpr std::uint64_t kSmallLimit = 4;
// Stop after 4000 critical moments that two threads competed for, or after 2 s with at least
// 10; without 10 after 15 s the test is inconclusive (lab::conclude).
constexpr lab::RaceGoal kRace{.enough = 4000, .budget = lab::milliseconds(2000), .needed = 10};

// One batch of the fill (or drain) experiment: kCounters counters of limit kSmallLimit, all
// empty (or all full), worked by every thread together, one counter after another. A thread
// moves on when its try_increment (try_decrement) fails, so the threads stay on the same
// counter and race for its last slot. At most kSmallLimit successes per thread and counter, so
// that even a broken counter cannot keep a thread busy for 2^64 steps. Counts as wrong every
// counter not left exactly full (empty), and a total number of successes other than
// kCounters * kSmallLimit; as contended every share of a counter that a thread got without
// getting the whole counter (so some other thread competed for it).
void fill_or_drain_batch(bool drain, lab::RaceTally& tally) {
  std::deque<BoundedCounter> counters = make_counters(kCounters, kSmallLimit);
  if (drain) {
    for (BoundedCounter& counter : counters) {
      for (std::uint64_t n = 0; n < kSmallLimit; ++n) {
        if (!counter.try_increment()) ++tally.wrong;
      }
    }
  }
  const std::size_t threads = lab::stress_threads();
  std::vector<std::uint64_t> successes(threads, 0), shared(threads, 0);
  lab::StartLine start(threads);
  const auto run = lab::run_together(threads, [&](std::size_t t) {
    start.arrive_and_wait();
    for (BoundedCounter& counter : counters) {
      std::uint64_t mine = 0;
      while (mine < kSmallLimit && (drain ? counter.try_decrement() : counter.try_increment())) {
        ++mine;
      }
      successes[t] += mine;
      if (mine > 0 && mine < kSmallLimit) ++shared[t];
    }
  });
  std::uint64_t total = 0;
  for (std::size_t t = 0; t < threads; ++t) total += successes[t];
  if (run.overlapped) {  // a batch whose threads did not all run at once proves little
    ++tally.overlapped_batches;
    for (std::size_t t = 0; t < threads; ++t) tally.contended += shared[t];
  }
  const std::uint64_t expected_count = drain ? 0 : kSmallLimit;
  for (const BoundedCounter& counter : counters) {
    if (counter.get() != expected_count) ++tally.wrong;
  }
  if (total != kCounters * kSmallLimit) ++tally.wrong;
}

// One batch of "never refused" attempts: every thread calls try_increment (try_decrement when
// `drain`) per_thread times on one counter with room for every attempt (filled first when
// draining), so no call may return false; each false counts as wrong. A call during which the
// count moved by more than its own step competed with another thread.
void never_refused_batch(bool drain, lab::RaceTally& r) {
  constexpr std::uint64_t per_thread = 50'000;
  const std::size_t threads = lab::stress_threads();
  BoundedCounter counter(per_thread * threads);  // room for every attempt
  if (drain) {
    for (std::uint64_t n = 0; n < per_thread * threads; ++n) {
      if (!counter.try_increment()) ++r.wrong;
    }
  }
  std::vector<std::uint64_t> refused(threads, 0), contended(threads, 0);
  lab::StartLine start(threads);
  const auto run = lab::run_together(threads, [&](std::size_t t) {
    start.arrive_and_wait();
    for (std::uint64_t i = 0; i < per_thread; ++i) {
      const std::uint64_t before = counter.get();
      if (!(drain ? counter.try_decrement() : counter.try_increment())) ++refused[t];
      // Someone else changed the count while we were inside the call: we had to compete.
      const std::uint64_t after = counter.get();
      if ((drain ? before - after : after - before) > 1) ++contended[t];
    }
  });
  for (std::size_t t = 0; t < threads; ++t) r.wrong += refused[t];
  if (run.overlapped) {
    ++r.overlapped_batches;
    for (std::size_t t = 0; t < threads; ++t) r.contended += contended[t];
  }
  if (counter.get() != (drain ? 0 : per_thread * threads)) ++r.wrong;
}

// Races never_refused_batch() until the threads competed, then checks that no call of
// try_increment (try_decrement when `drain`) was refused.
void check_never_refused(bool drain) {
  const lab::RaceTally tally = lab::race_until(
      kRace, [drain](lab::RaceTally& r) { never_refused_batch(drain, r); });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " contended calls, " << tally.elapsed.count() << " ms");
  CHECK_MESSAGE(tally.wrong == 0, (drain ? "try_decrement returned false above zero "
                                         : "try_increment returned false below the limit ")
                                      << tally.wrong << " times");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}

}  // namespace

TEST_CASE("a bounded counter starts at zero below its limit and cannot be copied") {
  // Catches: a signed or 32-bit API, an implicit conversion from an integer, a copyable
  // counter (a copy would enforce a second, separate limit), a limit() that is not the
  // constructor's argument.
  CHECK(std::is_same_v<decltype(std::declval<const BoundedCounter&>().get()), std::uint64_t>);
  CHECK(std::is_same_v<decltype(std::declval<const BoundedCounter&>().limit()), std::uint64_t>);
  CHECK(std::is_same_v<decltype(std::declval<BoundedCounter&>().try_increment()), bool>);
  CHECK(std::is_same_v<decltype(std::declval<BoundedCounter&>().try_decrement()), bool>);
  CHECK_FALSE(std::is_convertible_v<std::uint64_t, BoundedCounter>);
  CHECK_FALSE(std::is_copy_constructible_v<BoundedCounter>);
  CHECK_FALSE(std::is_copy_assignable_v<BoundedCounter>);
  const BoundedCounter counter(5);
  CHECK(counter.limit() == 5);
  CHECK(counter.get() == 0);
  const BoundedCounter huge(kMaxU64);
  CHECK(huge.limit() == kMaxU64);
  CHECK(huge.get() == 0);
}

TEST_CASE("try_increment succeeds up to the limit and then fails") {
  // Catches: an off-by-one check (current > limit admits limit + 1), and a failed
  // try_increment that still changes the count.
  BoundedCounter counter(3);
  CHECK(counter.try_increment());
  CHECK(counter.try_increment());
  CHECK(counter.get() == 2);
  CHECK(counter.try_increment());
  CHECK(counter.get() == 3);
  CHECK_FALSE(counter.try_increment());
  CHECK_FALSE(counter.try_increment());
  CHECK(counter.get() == 3);
  CHECK(counter.try_decrement());
  CHECK(counter.get() == 2);
  CHECK(counter.try_increment());  // a freed slot can be taken again
  CHECK_FALSE(counter.try_increment());
  CHECK(counter.get() == 3);
}

TEST_CASE("try_decrement at zero fails and leaves zero") {
  // Catches: a decrement without the zero check (0 - 1 wraps to 18446744073709551615), and a
  // failed try_decrement that still changes the count.
  BoundedCounter counter(2);
  CHECK_FALSE(counter.try_decrement());
  CHECK(counter.get() == 0);
  CHECK(counter.try_increment());
  CHECK(counter.try_increment());
  CHECK(counter.try_decrement());
  CHECK(counter.try_decrement());
  CHECK(counter.get() == 0);
  CHECK_FALSE(counter.try_decrement());
  CHECK_FALSE(counter.try_decrement());
  CHECK(counter.get() == 0);
}

TEST_CASE("a limit of zero admits nothing") {
  // Catches: a check written as current <= limit_ - 1, which wraps to UINT64_MAX when the
  // limit is 0 and then admits everything.
  BoundedCounter counter(0);
  CHECK(counter.limit() == 0);
  CHECK_FALSE(counter.try_increment());
  CHECK(counter.get() == 0);
  CHECK_FALSE(counter.try_decrement());
  CHECK(counter.get() == 0);
}

TEST_CASE("concurrent try_increment succeeds exactly limit times") {
  // Catches: check-then-act (load, compare with the limit, then fetch_add). Two threads that
  // both see limit - 1 both add; the counter ends at limit + 1 and both report success.
  const lab::RaceTally tally = lab::race_until(
      kRace, [](lab::RaceTally& t) { fill_or_drain_batch(false, t); });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " shared counters, " << tally.elapsed.count() << " ms");
  CHECK_MESSAGE(tally.wrong == 0, tally.wrong << " counters (or totals) were not exactly at "
                                                 "the limit after every thread had filled them");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}

TEST_CASE("try_increment below the limit never fails under contention") {
  // Catches: a try_increment() that refuses although the counter is far from full: one failed
  // compare-exchange taken as "full" when another thread only changed the count (lesson 4, "The CAS
  // loop": what does a failed attempt tell you?).
  check_never_refused(false);
}

TEST_CASE("try_decrement above zero never fails under contention") {
  // Catches: a try_decrement() that refuses although the counter is far from zero: one failed
  // compare-exchange taken as "empty" when another thread only changed the count (lesson 4, "The
  // CAS loop"). The caller then keeps a slot it meant to give back.
  check_never_refused(true);
}

TEST_CASE("get never exceeds the limit while threads take and release slots") {
  // Catches: check-then-act in try_increment (the count reaches limit + 1), and "add first,
  // undo if over" (fetch_add, then fetch_sub when the old value was at the limit), which ends
  // right but shows limit + 1 to everyone who looks in between. The writers are greedy: each
  // takes slots until it is refused, then gives one back, so the counter sits at its limit and
  // every attempt is made right at the edge, even when only one writer is running. Each writer
  // checks the count after every attempt (it holds slots, so a count above the limit stays
  // visible), and a reader checks too.
  // Each batch lasts at least 50 ms after every thread has started and until the writers have
  // seen each other work 20 times: on a busy machine a batch of a fixed size can run each
  // writer's share within one time slice, and then no two writers ever compete.
  constexpr lab::OverlapGoal kBatch{.min_ops = 2'000, .min_time = lab::milliseconds(50),
                                    .min_sightings = 20, .give_up = lab::milliseconds(5000)};
  constexpr std::uint64_t limit = 4;
  std::uint64_t reader_steps = 0, releases_refused = 0;
  const lab::RaceTally tally = lab::race_until(kRace, [&](lab::RaceTally& r) {
    const std::size_t writers = lab::stress_threads() - 1;
    BoundedCounter counter(limit);
    struct Tally {
      std::uint64_t contended = 0, above_limit = 0, release_failed = 0, held = 0;
    };
    std::vector<Tally> tallies(writers);  // tallies[w]: writer w only, read after the join
    std::uint64_t reader_saw_above = 0;   // reader thread only, read after the join
    const auto report = lab::hammer(
        writers, kBatch,
        [&](std::size_t w, std::uint64_t) {
          Tally& mine = tallies[w];
          const std::uint64_t before = counter.get();
          const bool taken = counter.try_increment();
          const std::uint64_t after = counter.get();
          if (after > limit) ++mine.above_limit;
          // Another thread changed the count while we were inside try_increment.
          if (after != before + (taken ? 1 : 0)) ++mine.contended;
          if (taken) {
            ++mine.held;
          } else if (mine.held > 0) {
            if (counter.try_decrement()) {
              --mine.held;
            } else {
              ++mine.release_failed;  // we hold a slot, so the count cannot be 0
            }
          }
        },
        [&] {
          if (counter.get() > limit) ++reader_saw_above;
        });
    for (Tally& t : tallies) {  // give back every slot still held
      for (; t.held > 0; --t.held) {
        if (!counter.try_decrement()) ++t.release_failed;
      }
    }
    reader_steps += report.reader_steps;
    r.wrong += reader_saw_above;
    for (const Tally& t : tallies) {
      r.wrong += t.above_limit + t.release_failed;
      releases_refused += t.release_failed;
    }
    if (report.missing.empty()) {  // a batch whose threads did not meet proves little
      ++r.overlapped_batches;
      for (const Tally& t : tallies) r.contended += t.contended;
    }
    if (counter.get() != 0) ++r.wrong;  // every slot taken was given back
  });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " contended calls, reader steps " << reader_steps << ", "
                  << tally.elapsed.count() << " ms");
  const std::uint64_t over_the_limit = tally.wrong - releases_refused;
  CHECK_MESSAGE(over_the_limit == 0,
                over_the_limit
                    << " times try_increment let the count be seen above the limit (or a slot "
                       "stayed taken after every holder had given it back)");
  CHECK_MESSAGE(releases_refused == 0,
                "try_decrement refused " << releases_refused
                                         << " times although the caller held a slot, so the "
                                            "count was above zero");
  std::string missing = tally.missing();  // a pass proves something only if threads competed
  if (reader_steps <= 100) {
    missing += (missing.empty() ? "" : "; ") + std::string("the reader looked only ") +
               std::to_string(reader_steps) + " times";
  }
  lab::conclude(missing);
}

TEST_CASE("concurrent try_decrement stops exactly at zero") {
  // Catches: check-then-act in try_decrement (load, compare with 0, then fetch_sub): two
  // threads that both see 1 both subtract and the count wraps to UINT64_MAX; and "subtract
  // first, undo if it was 0", which lets another thread see the wrapped value as "not empty".
  const lab::RaceTally tally = lab::race_until(
      kRace, [](lab::RaceTally& t) { fill_or_drain_batch(true, t); });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " shared counters, " << tally.elapsed.count() << " ms");
  CHECK_MESSAGE(tally.wrong == 0, tally.wrong << " counters (or totals) were not exactly 0 "
                                                 "after every thread had drained them");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}
