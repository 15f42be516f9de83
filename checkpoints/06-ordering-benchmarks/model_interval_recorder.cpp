// Model checkpoint of milestone 6's stretch exercise: IntervalRecorder's phaser judged by the
// C++ memory model (Relacy, through the stand-in <atomic> of checkpoints/common/relacy/), not by
// this x86-64 CPU and not by luck. Its mistakes live between two adjacent steps of
// take_interval() (a writer that enters just there) or in an order x86 never shows wrong, so a
// run-time test meets them a few times a minute at best; the model tries many interleavings,
// each load reading the latest store or, where the model allows, up to two before it.
//
// Search: bounded (Relacy's random scheduler, see the TEST_CASE) over a writer that records once
// and a reader that takes one interval, with the rest collected after both.
#include "lab_model.hpp"

#include "lab_model_student_begin.hpp"
#include "interval_recorder.hpp"
#include "lab_model_student_end.hpp"

namespace {

constexpr std::uint64_t kValue = 7;  // bucket 1 of {5, 10}

// A writer writes plain data and records one value; a reader takes an interval meanwhile.
// After both, a second interval (taken after the record() call, which therefore happens before
// it) must hold whatever the first did not; each interval must be consistent; and a reader
// whose interval holds the observation must see the writer's plain data.
struct OneRecordOneInterval : lab_model::Suite<OneRecordOneInterval, 2> {
  std::optional<metrics::IntervalRecorder<2>> recorder;
  rl::var<int> payload;
  metrics::HistogramSnapshot first;
  void setup() {
    recorder.emplace(std::array<std::uint64_t, 2>{5, 10});
    payload($) = 0;
  }
  void run(unsigned thread) {
    if (thread == 0) {
      payload($) = 42;
      recorder->record(kValue);
    } else {
      first = recorder->take_interval();
      if (first.total() == 1) LAB_MODEL_ASSERT(payload($) == 42);
    }
  }
  void check() {
    const metrics::HistogramSnapshot second = recorder->take_interval();
    // Each interval is consistent: as many values in the sum as observations in the counts.
    LAB_MODEL_ASSERT(first.sum == first.total() * kValue);
    LAB_MODEL_ASSERT(second.sum == second.total() * kValue);
    // The record() happened before the second take_interval(): it is in one of the two.
    LAB_MODEL_ASSERT(first.total() + second.total() == 1);
    // And nothing is left behind in the other buffer.
    LAB_MODEL_ASSERT(recorder->take_interval().total() == 0);
  }
};

}  // namespace

TEST_CASE("model: an interval is whole and a record lands in exactly one") {
  // Catches: an interval that is torn, or a record in no interval or in a later one: reader steps
  // that let a late writer reach the old buffer, a read before the old phase's writers have left,
  // or a hand-over that orders nothing (lesson 6, "The phaser").
  lab_model::require_holds<OneRecordOneInterval>(
      "a writer records once while the reader takes an interval: each interval's sum matches "
      "its counts, the record is in that interval or the next one taken after it, never later, "
      "and an interval that holds it sees the writer's earlier writes",
      lab_model::bounded(20000, "the reader waits in a loop, and a full search explores that loop reading stale values without end"));
}
