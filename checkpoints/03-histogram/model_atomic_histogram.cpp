// Model checkpoints of milestone 3: AtomicHistogram's orders judged by the C++ memory model
// (Relacy, through the stand-in <atomic> of checkpoints/common/relacy/), not by this x86-64
// CPU. Search: exhaustive (Relacy's full search) for both.
#include "lab_model.hpp"

#include "lab_model_student_begin.hpp"
#include "atomic_histogram.hpp"
#include "lab_model_student_end.hpp"

namespace {

constexpr std::array<std::uint64_t, 1> kBounds{10};  // bucket 0: <= 10; bucket 1: overflow

// Two writers record 1 (bucket 0) and 100 (overflow); a reader's snapshot meanwhile must hold
// in its sum every value it counts in a bucket.
struct CountedValuesAreInTheSum : lab_model::Suite<CountedValuesAreInTheSum, 3> {
  std::optional<metrics::AtomicHistogram<1>> h;
  void setup() { h.emplace(kBounds); }
  void run(unsigned thread) {
    if (thread == 0) {
      h->record(1);
    } else if (thread == 1) {
      h->record(100);
    } else {
      const metrics::HistogramSnapshot s = h->snapshot();
      LAB_MODEL_ASSERT(s.counts.size() == 2);
      LAB_MODEL_ASSERT(s.sum >= s.counts[0] * 1 + s.counts[1] * 100);
    }
  }
  void check() { h.reset(); }
};

// A writer writes plain data, then records; a reader whose snapshot counts the observation
// reads the data: a data race (Relacy reports it) unless the histogram keeps its contract.
struct CountedObservationPublishes : lab_model::Suite<CountedObservationPublishes, 2> {
  std::optional<metrics::AtomicHistogram<1>> h;
  rl::var<int> payload;
  void setup() {
    h.emplace(kBounds);
    payload($) = 0;
  }
  void run(unsigned thread) {
    if (thread == 0) {
      payload($) = 42;
      h->record(5);
    } else {
      const metrics::HistogramSnapshot s = h->snapshot();
      LAB_MODEL_ASSERT(s.counts.size() == 2);
      if (s.counts[0] == 1) {
        LAB_MODEL_ASSERT(payload($) == 42);
        LAB_MODEL_ASSERT(s.sum == 5);
      }
    }
  }
  void check() { h.reset(); }
};

}  // namespace

TEST_CASE("model: no snapshot counts an observation whose value is missing from the sum") {
  // Catches: a snapshot that counts an observation whose value its sum lacks: an order (of
  // statements or of memory) that breaks the promise (lesson 3, "What a snapshot can promise", and its upload_progress
  // example: which update plays files_done?).
  lab_model::require_holds<CountedValuesAreInTheSum>(
      "every snapshot's sum holds the value of every observation it counts (2 writers, "
      "1 reader)",
      lab_model::exhaustive());
}

TEST_CASE("model: a snapshot that counts an observation sees what its writer did before") {
  // Catches: a counted observation that does not publish what its writer did before it: nothing
  // orders record()'s earlier writes before the snapshot that counts it.
  lab_model::require_holds<CountedObservationPublishes>(
      "a snapshot that counts an observation sees the writer's earlier writes (its data and "
      "its value in the sum)",
      lab_model::exhaustive());
}
