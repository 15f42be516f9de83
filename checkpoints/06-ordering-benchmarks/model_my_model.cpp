// Model checkpoint of milestone 6's stretch exercise "write a model of your own": the student's
// model (my_model.hpp, metrics::ReportModel) is judged by what it finds, not by its text. It
// runs on four implementations of a two-part report given here: one correct, and three that
// each miss one order. A model worth having holds on the first and finds a violating execution
// on each of the other three, whatever this x86-64 CPU would show.
//
// The protocol (not an exercise of the course): a report has two parts, 0 and 1, each filled
// once by its own producer. fill(part, value) writes that part's payload, then counts the
// part's arrival on a shared counter with a read-modify-write; complete() is true once both
// parts have arrived; a consumer calls complete() and, only if it returns true, read(0) and
// read(1), which must return the values that were filled. The payload words are atomics
// accessed with relaxed orders, so that a stale payload is a VALUE a model can assert on (a
// plain variable would make Relacy report a data race whatever the model asserts); in real
// code they would be plain data.
//
// Search: exhaustive (Relacy's full search): a few hundred executions.
#include "lab_model.hpp"

namespace course_report {

// A two-part report; Arrive0 and Arrive1 are the orders of the arrival count's increment in
// fill() of part 0 and of part 1, Look that of the count's load in complete(). The correct
// report uses seq_cst for all three; each broken one weakens one of them to relaxed. (Whether
// something weaker than seq_cst would also do is not this exercise's question.)
template <std::memory_order Arrive0, std::memory_order Arrive1, std::memory_order Look>
class Report {
 public:
  static constexpr int kParts = 2;

  void fill(int part, int value) {
    // order: relaxed: a payload word is a stand-in for plain data (see the banner); what makes
    // it visible to the consumer, or fails to, is the arrival count.
    parts_[part].store(value, std::memory_order_relaxed);
    arrived_.fetch_add(1, part == 0 ? Arrive0 : Arrive1);
  }
  [[nodiscard]] bool complete() const { return arrived_.load(Look) == kParts; }
  [[nodiscard]] int read(int part) const {
    // order: relaxed: a stand-in for a plain read, as in fill().
    return parts_[part].load(std::memory_order_relaxed);
  }

 private:
  std::atomic<int> parts_[kParts]{0, 0};
  std::atomic<int> arrived_{0};
};

constexpr auto kSeqCst = std::memory_order_seq_cst;
constexpr auto kRelaxed = std::memory_order_relaxed;

using Correct = Report<kSeqCst, kSeqCst, kSeqCst>;
using CompleteMissesAnOrder = Report<kSeqCst, kSeqCst, kRelaxed>;
using FillOfPart0MissesAnOrder = Report<kRelaxed, kSeqCst, kSeqCst>;
using FillOfPart1MissesAnOrder = Report<kSeqCst, kRelaxed, kSeqCst>;

}  // namespace course_report

#include "lab_model_student_begin.hpp"
#include "my_model.hpp"
#include "lab_model_student_end.hpp"

namespace {

constexpr const char* kQuestion =
    "does complete() return true in some execution of your model, which parts does the model "
    "assert on then, and which of its threads can run a fill() at the same time as another "
    "fill() and as the consumer's reads?";

}  // namespace

TEST_CASE("model: your report model holds on the correct report and catches every broken one") {
  // Catches: a model that checks nothing the consumer relies on (it passes on a report that
  // loses a payload), a model that asserts more than the protocol promises (it fails on the
  // correct report), and a model too narrow to see one of the broken reports.
  lab_model::require_holds<metrics::ReportModel<course_report::Correct>>(
      "your model holds on the CORRECT report (if it fails here, it asserts something the "
      "protocol never promised: which executions does the history above show?)",
      lab_model::exhaustive());
  lab_model::require_possible<metrics::ReportModel<course_report::CompleteMissesAnOrder>>(
      "your model finds a violation on the report whose complete() misses an order",
      lab_model::exhaustive(), kQuestion);
  lab_model::require_possible<metrics::ReportModel<course_report::FillOfPart0MissesAnOrder>>(
      "your model finds a violation on the report whose fill() of part 0 misses an order",
      lab_model::exhaustive(), kQuestion);
  lab_model::require_possible<metrics::ReportModel<course_report::FillOfPart1MissesAnOrder>>(
      "your model finds a violation on the report whose fill() of part 1 misses an order",
      lab_model::exhaustive(), kQuestion);
}
