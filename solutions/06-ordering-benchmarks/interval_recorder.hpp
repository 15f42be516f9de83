// interval_recorder.hpp: milestone 6 stretch exercise, a histogram whose snapshot is one.
//
// Every snapshot of this course so far is "not a photograph of one instant": milestone 3's
// snapshot() reads the buckets one after another while writers keep recording, so two buckets
// may come from different moments, the sum may hold observations the counts do not, and
// "everything recorded between two snapshots" is not a thing you can read off it. An exporter
// that wants per-interval histograms (the latencies of the last 10 seconds, each observation in
// exactly one interval) needs a consistent cut.
//
// IntervalRecorder gives one without ever making a writer wait. It keeps two buffers (bucket
// counts and a sum each): writers record into the ACTIVE one; take_interval() makes the other
// one active, waits until every writer that may still be writing into the old one has left, and
// then reads and clears the old one, which nobody writes any more. The waiting is done by a
// writer-reader phaser, the design of HdrHistogram's Recorder (Gil Tene's WriterReaderPhaser):
//   - a writer ENTERS the current phase with one read-modify-write on a shared word that holds
//     the phase and the number of writers that entered it, and LEAVES with one read-modify-write
//     on the "writers that left" count of the phase it entered;
//   - the reader switches the active buffer, FLIPS the phase (one read-modify-write that returns
//     how many writers entered the old phase), and waits until that many have left it.
// So record() never waits (five atomic operations, none a loop: wait-free where a
// read-modify-write is one instruction, as on x86-64 and AArch64 with LSE), and only the reader
// ever waits, for at most the writers that were already inside record().
//
// What a take_interval() promises: every record() call lands in exactly one interval; a
// record() that happens before a take_interval() call (same thread, or a thread that
// synchronized with the caller, e.g. one it joined) is in that interval or an earlier one, and a
// record() that the call happens before is in a later one; within an interval, the counts and
// the sum describe the same set of observations (nothing torn); and whatever a writer did before
// record(v) is visible to the thread whose take_interval() holds v. One reader at a time: calls of take_interval() must not
// overlap (one exporter thread, or callers that serialize them).
//
// lessons/06-ordering-benchmarks/interval-recorder.md explains the phaser's idea and how it
// differs from a seqlock, and asks the questions whose answers, the memory orders included,
// are this exercise (this solution's `// order:` notes answer them).
//
// Example:
//   metrics::IntervalRecorder<4> latency_us({1'000, 10'000, 100'000, 1'000'000});
//   latency_us.record(2'500);                                   // request threads, any number
//   const metrics::HistogramSnapshot last_10s = latency_us.take_interval();  // every 10 s
//   last_10s.percentile(0.99);
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <thread>

#include "atomic_histogram.hpp"

namespace metrics {

template <std::size_t N>
class IntervalRecorder {
 public:
  // Creates an empty recorder with the given inclusive upper bounds (buckets as milestone 3's
  // AtomicHistogram: N bounds, N + 1 buckets, the last one the overflow bucket).
  // Throws std::invalid_argument unless the bounds are strictly increasing.
  explicit IntervalRecorder(const std::array<std::uint64_t, N>& upper_bounds)
      : bounds_(checked_bounds(upper_bounds)) {}

  // A synchronization object has an identity: a copy would split the intervals in two.
  IntervalRecorder(const IntervalRecorder&) = delete;
  IntervalRecorder& operator=(const IntervalRecorder&) = delete;

  // Counts `value` in its bucket and adds it to the sum of the current interval. Any number of
  // threads at once, concurrently with take_interval(). Never waits: a fixed number of atomic
  // operations and no loop (wait-free where a read-modify-write is one instruction).
  void record(std::uint64_t value) noexcept {
    const std::size_t bucket = find_bucket(value);
    // Solution: enter the phase. The read-modify-write counts this writer in the phase it finds
    // and tells it which phase that is (the top bit).
    // order: acquire: a writer that enters after the reader's flip must see the buffer switch
    // (and the reset of this phase's leave count) the reader made before flipping.
    const std::uint64_t ticket = start_.fetch_add(1, std::memory_order_acquire);
    // order: acquire: a writer that entered just before the flip may already read the new
    // buffer; it must then see that buffer cleared (the reader cleared it before storing it).
    Buffer& buffer = buffers_[active_.load(std::memory_order_acquire)];
    // Solution: the buffer has many writers at once: each update is one read-modify-write.
    // order: relaxed: published to the reader by the release of leaving, below.
    buffer.sum.fetch_add(value, std::memory_order_relaxed);
    // order: relaxed: as above.
    buffer.counts[bucket].fetch_add(1, std::memory_order_relaxed);
    // Solution: leave the phase entered, not the current one (the reader may have flipped).
    // order: release: the reader's acquire load of this count then sees both adds above (and
    // whatever this thread did before record()).
    left_[phase_of(ticket)].count.fetch_add(1, std::memory_order_release);
  }

  // Everything recorded since the previous call (since construction for the first call), as one
  // consistent histogram, and starts a new interval. One caller at a time (calls must not
  // overlap); concurrently with any number of record() calls. Waits only for the writers that
  // were inside record() when it flipped the phase.
  [[nodiscard]] HistogramSnapshot take_interval() {
    // Solution: the reader is the only thread that changes the phase bit and the active buffer,
    // so it reads its own last writes (coherence): relaxed.
    // order: relaxed: only this reader changes the phase bit (coherence).
    const std::uint64_t old_phase = phase_of(start_.load(std::memory_order_relaxed));
    const std::uint64_t new_phase = old_phase ^ 1U;
    // order: relaxed: only this reader stores active_ (coherence).
    const std::uint32_t retired_index = active_.load(std::memory_order_relaxed);
    Buffer& retired = buffers_[retired_index];

    // Solution: no writer of the new phase exists yet (the previous call waited for every
    // writer of that phase value), so its leave count can be reset before the flip.
    // order: relaxed: the release flip below publishes it to every writer that enters.
    left_[new_phase].count.store(0, std::memory_order_relaxed);
    // Solution: switch the buffer FIRST, then flip. A writer that enters the new phase must find
    // the new buffer; flipped first, a writer could enter the new phase (not waited for) and
    // still write into the retired buffer while it is read.
    // order: release: a writer that loads the new index (acquire) sees that buffer cleared.
    active_.store(retired_index ^ 1U, std::memory_order_release);
    // order: release: the writers that enter the new phase read this value (or a later add of
    // its release sequence) with acquire and so see the buffer switch and the reset above.
    const std::uint64_t entered =
        start_.exchange(new_phase << kPhaseShift, std::memory_order_release) & kCountMask;

    // Solution: wait for every writer that entered the old phase to leave it. They may hold
    // the retired buffer; writers of the new phase cannot.
    // order: acquire: pairs with each writer's release when it leaves, so their adds to the
    // retired buffer happen before the reads below.
    for (unsigned polls = 0; left_[old_phase].count.load(std::memory_order_acquire) != entered;
         ++polls) {
      if (polls >= kPollsBeforeYield) std::this_thread::yield();  // a writer was preempted
    }

    // Solution: nobody writes the retired buffer now: read it and clear it for its next turn.
    HistogramSnapshot result;
    result.upper_bounds.assign(bounds_.begin(), bounds_.end());
    result.counts.resize(N + 1);
    for (std::size_t b = 0; b <= N; ++b) {
      // order: relaxed: the acquire wait above ordered every writer of this buffer before us;
      // the next writer comes after the release store that makes it active again.
      result.counts[b] = retired.counts[b].exchange(0, std::memory_order_relaxed);
    }
    // order: relaxed: as above.
    result.sum = retired.sum.exchange(0, std::memory_order_relaxed);
    return result;
  }

  // The bucket `value` belongs to: the index of the first upper bound >= value, or N (the
  // overflow bucket) when value is above every bound. As milestone 3's AtomicHistogram.
  // Linear on purpose: this file's exercise is the phaser, not the search (the bucket searches
  // are milestone 3's exercise and the sharded histogram's), and a recorder has a handful of
  // bounds, so a scan that stops at the first bound not below `value` costs a few compares.
  [[nodiscard]] std::size_t find_bucket(std::uint64_t value) const noexcept {
    const auto first_not_below = std::find_if(
        bounds_.begin(), bounds_.end(), [value](std::uint64_t bound) { return bound >= value; });
    return static_cast<std::size_t>(first_not_below - bounds_.begin());
  }

 private:
  static constexpr unsigned kPhaseShift = 63;
  static constexpr std::uint64_t kCountMask = (std::uint64_t{1} << kPhaseShift) - 1;
  static constexpr unsigned kPollsBeforeYield = 64;

  // One interval's data: N + 1 bucket counts and the sum, on lines of their own.
  struct alignas(64) Buffer {
    std::array<std::atomic<std::uint64_t>, N + 1> counts{};
    std::atomic<std::uint64_t> sum{0};
  };
  // The number of writers that left phase 0 or phase 1, each on a line of its own.
  struct alignas(64) LeaveCount {
    std::atomic<std::uint64_t> count{0};
  };

  [[nodiscard]] static constexpr std::uint64_t phase_of(std::uint64_t start) noexcept {
    return start >> kPhaseShift;
  }

  static const std::array<std::uint64_t, N>& checked_bounds(
      const std::array<std::uint64_t, N>& bounds) {
    // Solution: as AtomicHistogram: a neighbouring pair that is not strictly increasing.
    if (std::adjacent_find(bounds.begin(), bounds.end(), std::greater_equal<>{}) !=
        bounds.end()) {
      throw std::invalid_argument("IntervalRecorder: upper bounds must be strictly increasing");
    }
    return bounds;
  }

  // Written by every writer (enter) and the reader (flip): the phase in the top bit, the number
  // of writers that entered it below. active_ shares its line: every writer reads it right after
  // entering, and only the reader writes it.
  alignas(64) std::atomic<std::uint64_t> start_{0};
  std::atomic<std::uint32_t> active_{0};  // the index of the active buffer in buffers_
  std::array<LeaveCount, 2> left_{};
  Buffer buffers_[2];
  const std::array<std::uint64_t, N> bounds_;  // read-only after construction
};

}  // namespace metrics
