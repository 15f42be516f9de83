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
//   - the reader does two things, in an order that is yours to decide and justify: it FLIPS the
//     phase (one read-modify-write that returns how many writers entered the old phase) and it
//     switches the active buffer; then it waits until that many writers have left the old phase.
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
// differs from a seqlock, and asks the questions (the reader's step order, the hand-overs)
// whose answers, the memory orders included, are this exercise.
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
#include "lab_todo.hpp"

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
  void record(std::uint64_t value) {
    const std::size_t bucket = find_bucket(value);
    // TODO: the guarantee: any number of writers at once, never waiting, and every observation
    // lands whole (count and value) in exactly one interval, even when take_interval() switches
    // buffers in the middle of this call. A writer enters the current phase, updates the active
    // buffer, and leaves the phase it entered (interval-recorder.md, "The phaser"). Questions:
    // what must a writer that enters after the reader's flip be guaranteed to see, and what must
    // the reader be guaranteed to see once it has counted this writer as gone? Which member
    // tells you which phase you entered, and why must you leave that one and not the current one?
    (void)bucket;
    LAB_TODO("record(): enter the phase, update the active buffer, leave the phase you entered");
  }

  // Everything recorded since the previous call (since construction for the first call), as one
  // consistent histogram, and starts a new interval. One caller at a time (calls must not
  // overlap); concurrently with any number of record() calls. Waits only for the writers that
  // were inside record() when it flipped the phase.
  [[nodiscard]] HistogramSnapshot take_interval() {
    // TODO: the contract above: a new interval begins, and the returned one is read only when no
    // writer can still be adding to it (interval-recorder.md, "The phaser" and
    // "The hand-overs").
    // Questions: in which order must the reader switch the active buffer and flip the phase, and
    // what could a writer that enters between the two do in the other order? How does the flip
    // tell the reader how many writers it has to wait for, and what must that wait guarantee
    // about their updates? What must be cleared, and when, so that the next interval starts
    // empty and the next flip counts correctly?
    LAB_TODO("take_interval(): start a new interval with the phase flip and the buffer switch "
             "(which first, and why?), wait for the old phase's writers, then read and clear "
             "the retired buffer");
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

  // One interval's data: N + 1 bucket counts and the sum.
  struct Buffer {
    std::array<std::atomic<std::uint64_t>, N + 1> counts{};
    std::atomic<std::uint64_t> sum{0};
  };
  // The number of writers that left phase 0 or phase 1.
  struct LeaveCount {
    std::atomic<std::uint64_t> count{0};
  };

  [[nodiscard]] static constexpr std::uint64_t phase_of(std::uint64_t start) noexcept {
    return start >> kPhaseShift;
  }

  static const std::array<std::uint64_t, N>& checked_bounds(
      [[maybe_unused]] const std::array<std::uint64_t, N>& bounds) {
    // TODO: milestone 3's rule for bounds (lesson 3, "The overflow bucket, and strictly
    // increasing bounds"): return `bounds` when they strictly increase, throw
    // std::invalid_argument otherwise. Can you say it exactly as you did in milestone 3?
    LAB_TODO("checked_bounds(): milestone 3's rule for bounds");
  }

  // Given: the phaser's words and the two buffers. You decide how record() and take_interval()
  // use them. They are laid out without padding, so they share cache lines: correct, and slower
  // than it needs to be. Which of them does every writer write, and would your answer to the
  // Slot TODO of sharded_counter.hpp help here? (Your choice: no checkpoint measures it, m6_bench's
  // interval_recorder does.)
  // start_ is written by every writer (enter) and the reader (flip): the phase in the top bit,
  // the number of writers that entered it below. active_ is written only by the reader.
  std::atomic<std::uint64_t> start_{0};
  std::atomic<std::uint32_t> active_{0};  // the index of the active buffer in buffers_
  std::array<LeaveCount, 2> left_{};
  Buffer buffers_[2];
  const std::array<std::uint64_t, N> bounds_;  // read-only after construction
};

}  // namespace metrics
