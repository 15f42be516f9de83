// Model checkpoints of milestone 2: MetricsCollector's orders judged by the C++ memory model
// (Relacy, through the stand-in <atomic> of checkpoints/common/relacy/), not by this x86-64
// CPU, which never reorders the loads and stores these promises are about.
//
// Search: exhaustive (Relacy's full search) for both; see the numbers in docs/grading.md.
#include "lab_model.hpp"

#include "lab_model_student_begin.hpp"
#include "metrics_collector.hpp"
#include "lab_model_student_end.hpp"

namespace {

// Two writers each record a request and then an error; a reader takes a snapshot meanwhile.
struct ErrorsNeverExceedRequests : lab_model::Suite<ErrorsNeverExceedRequests, 3> {
  std::optional<metrics::MetricsCollector> c;
  void setup() { c.emplace(); }
  void run(unsigned thread) {
    if (thread < 2) {
      c->record_request();
      c->record_error();
    } else {
      const metrics::MetricsSnapshot s = c->snapshot();
      LAB_MODEL_ASSERT(s.errors <= s.requests);
    }
  }
};

// A writer writes plain data, then records an error; a reader whose snapshot counts that error
// reads the data: a data race (Relacy reports it) unless the collector keeps its contract.
struct CountedErrorPublishes : lab_model::Suite<CountedErrorPublishes, 2> {
  std::optional<metrics::MetricsCollector> c;
  rl::var<int> payload;
  void setup() {
    c.emplace();
    payload($) = 0;
  }
  void run(unsigned thread) {
    if (thread == 0) {
      payload($) = 42;
      c->record_request();
      c->record_error();
    } else {
      const metrics::MetricsSnapshot s = c->snapshot();
      if (s.errors == 1) {
        LAB_MODEL_ASSERT(payload($) == 42);
        LAB_MODEL_ASSERT(s.requests == 1);
      }
    }
  }
};

}  // namespace

TEST_CASE("model: no snapshot shows more errors than requests") {
  // Catches: an order too weak for the invariant (a write that publishes nothing a reader relies
  // on, or a snapshot that reads the counters in an order that lets a request and its error
  // both land between two loads); x86 hides the first, the C++ memory model allows both.
  lab_model::require_holds<ErrorsNeverExceedRequests>(
      "every snapshot has errors <= requests (2 writers: request then error; 1 reader)",
      lab_model::exhaustive());
}

TEST_CASE("model: a snapshot that counts an error sees what its writer did before") {
  // Catches: a snapshot() that counts an error but not what its writer did before it (nothing
  // orders the writer's earlier writes before the reader that counts the error); the model
  // reports the reader's plain read as a data race.
  lab_model::require_holds<CountedErrorPublishes>(
      "a snapshot that counts an error sees the writer's earlier writes (its data and its "
      "request)",
      lab_model::exhaustive());
}
