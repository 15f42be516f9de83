// Checkpoints for milestone 4, part 1: AtomicMinMax (atomic_min_max.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
//
// The concurrency tests cannot rely on ThreadSanitizer: a check-then-store built from atomic
// loads and stores has no data race, it just loses. So they count. A lost minimum needs two
// updates to overlap at the right moment; one long run on one tracker gives that few chances.
// These tests feed thousands of small trackers, one after another, with all threads at once:
// a shared job counter hands out each tracker's values in record order (every value beats all
// the values handed out before it), so every update has to store and the threads keep racing
// to install their records; then every tracker's final bound is checked.
#include <atomic_min_max.hpp>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "lab_test.hpp"

using metrics::AtomicMinMax;

namespace {

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

// Values per tracker, trackers per batch.
constexpr std::uint64_t kJobs = 16;
constexpr std::size_t kTrackers = 4000;

// The value of job n (0-based) of a tracker. Record order: each job beats every earlier one,
// except that the last two are swapped, so the best value (1 for the minimum, kJobs for the
// maximum) is handed out second to last and a thread that gives up on it cannot hide behind
// a later, better value.
std::uint64_t job_value(std::uint64_t n, bool ascending) {
  const std::uint64_t rank = n == kJobs - 2 ? kJobs - 1 : n == kJobs - 1 ? kJobs - 2 : n;
  return ascending ? rank + 1 : kJobs - rank;
}

// One batch: kTrackers fresh trackers, fed by all threads together, each tracker's kJobs
// values handed out by its own job counter. Counts the trackers whose final bound is wrong,
// and as "contended" the trackers whose last two values were updated by different threads.
void record_batch(bool ascending, lab::RaceTally& tally) {
  struct Slot {
    AtomicMinMax tracker;
    std::atomic<std::uint64_t> next_job{0};
    std::array<std::atomic<std::size_t>, 2> last_takers{};  // threads of jobs kJobs-2, kJobs-1
  };
  std::vector<Slot> slots(kTrackers);
  const std::size_t threads = lab::stress_threads();
  lab::StartLine start(threads);
  const auto run = lab::run_together(threads, [&](std::size_t t) {
    start.arrive_and_wait();
    for (Slot& slot : slots) {
      for (std::uint64_t n = slot.next_job.fetch_add(1); n < kJobs;
           n = slot.next_job.fetch_add(1)) {
        if (n >= kJobs - 2) slot.last_takers[n - (kJobs - 2)].store(t);
        slot.tracker.update(job_value(n, ascending));
      }
    }
  });
  const std::uint64_t best = ascending ? kJobs : 1;
  for (const Slot& slot : slots) {
    if ((ascending ? slot.tracker.max() : slot.tracker.min()) != best) ++tally.wrong;
  }
  if (run.overlapped) {  // a batch whose threads did not all run at once proves little
    ++tally.overlapped_batches;
    for (const Slot& slot : slots) {
      if (slot.last_takers[0].load() != slot.last_takers[1].load()) ++tally.contended;
    }
  }
}

// Stop after 4000 contended trackers, or after 2 s with at least 10: a loaded machine runs the
// threads in parallel less often, and there a wrong version loses mostly when one of its
// threads is preempted between its check and its store. Without 10 after 15 s the test is
// inconclusive (lab::conclude).
constexpr lab::RaceGoal kRace{.enough = 4000, .budget = lab::milliseconds(2000), .needed = 10};

}  // namespace

TEST_CASE("a new tracker reads min UINT64_MAX and max 0 and cannot be copied") {
  // Catches: initial bounds the wrong way round (a min that starts at 0 never moves), a
  // signed or 32-bit API, and a copyable tracker (a copy would track a different set).
  CHECK(std::is_same_v<decltype(std::declval<const AtomicMinMax&>().min()), std::uint64_t>);
  CHECK(std::is_same_v<decltype(std::declval<const AtomicMinMax&>().max()), std::uint64_t>);
  CHECK_FALSE(std::is_copy_constructible_v<AtomicMinMax>);
  CHECK_FALSE(std::is_copy_assignable_v<AtomicMinMax>);
  const AtomicMinMax tracker;
  CHECK(tracker.min() == kMaxU64);
  CHECK(tracker.max() == 0);
}

TEST_CASE("update keeps the smallest and the largest value") {
  // Catches: a comparison the wrong way round, a loop that updates only one bound, and
  // "if it is a new minimum it cannot be a new maximum" (the first value is both).
  AtomicMinMax tracker;
  tracker.update(100);
  CHECK(tracker.min() == 100);
  CHECK(tracker.max() == 100);
  tracker.update(50);
  CHECK(tracker.min() == 50);
  CHECK(tracker.max() == 100);
  tracker.update(150);
  CHECK(tracker.min() == 50);
  CHECK(tracker.max() == 150);
  tracker.update(100);  // inside the range: changes nothing
  tracker.update(50);   // equal to a bound: changes nothing
  CHECK(tracker.min() == 50);
  CHECK(tracker.max() == 150);
  tracker.update(0);
  tracker.update(kMaxU64);
  CHECK(tracker.min() == 0);
  CHECK(tracker.max() == kMaxU64);

  AtomicMinMax descending;  // every value a new minimum, none a new maximum after the first
  for (std::uint64_t v = 10; v >= 1; --v) descending.update(v);
  CHECK(descending.min() == 1);
  CHECK(descending.max() == 10);
}

TEST_CASE("reset restores the empty bounds") {
  // Catches: reset() that swaps the two initial values, clears only one bound, or sets both
  // to 0 (then no later value can lower the minimum).
  AtomicMinMax tracker;
  tracker.update(50);
  tracker.update(150);
  tracker.reset();
  CHECK(tracker.min() == kMaxU64);
  CHECK(tracker.max() == 0);
  tracker.update(7);
  CHECK(tracker.min() == 7);
  CHECK(tracker.max() == 7);
  tracker.reset();
  tracker.reset();  // idempotent
  CHECK(tracker.min() == kMaxU64);
  CHECK(tracker.max() == 0);
}

TEST_CASE("concurrent updates keep the true minimum") {
  // Catches: a minimum lost to a racing update: check-then-store (the bound compared in one step,
  // the value stored in another), a CAS loop that decides once and retries without deciding again,
  // or a single CAS attempt. The first two let a thread that decided "mine is smaller" before
  // another thread stored a smaller value overwrite that value afterwards; the third drops a new
  // minimum when another thread changed the bound in between. TSan is silent (lesson 4, "The trap:
  // check-then-act").
  const lab::RaceTally tally = lab::race_until(
      kRace, [](lab::RaceTally& t) { record_batch(false, t); });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " contended trackers, " << tally.elapsed.count()
                  << " ms");
  CHECK_MESSAGE(tally.wrong == 0, tally.wrong << " trackers ended with a minimum that was "
                                                 "not the smallest value passed to update()");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}

TEST_CASE("concurrent updates keep the true maximum") {
  // Catches: the same mistakes in the maximum loop, with rising values.
  const lab::RaceTally tally = lab::race_until(
      kRace, [](lab::RaceTally& t) { record_batch(true, t); });
  INFO("batches " << tally.batches << " (" << tally.overlapped_batches << " overlapped), "
                  << tally.contended << " contended trackers, " << tally.elapsed.count()
                  << " ms");
  CHECK_MESSAGE(tally.wrong == 0, tally.wrong << " trackers ended with a maximum that was "
                                                 "not the largest value passed to update()");
  lab::conclude(tally.missing());  // a pass proves something only if the threads competed
}
