// Model checkpoint of milestone 6's stretch exercise "write a model of your own": the student's
// model (my_model.hpp, metrics::MailboxModel) is judged by what it finds, not by its text. It
// runs on three implementations of a one-shot mailbox given here: one correct, and two that
// each miss one order. A model worth having holds on the first and finds a violating execution
// on each of the other two, whatever this x86-64 CPU would show.
//
// The protocol (not an exercise of the course): send(v) writes the payload, then raises the
// flag; a consumer calls ready() and, only if it returns true, read(), which must return the
// payload that was sent. The payload word is an atomic accessed with relaxed orders, so that a
// stale payload is a VALUE a model can assert on (a plain variable would make Relacy report a
// data race whatever the model asserts); in real code it would be plain data.
//
// Search: exhaustive (Relacy's full search): a handful of executions.
#include "lab_model.hpp"

namespace course_mailbox {

// A one-shot mailbox; Raise is the order of the flag's store in send(), Look that of its load in
// ready().
template <std::memory_order Raise, std::memory_order Look>
class Mailbox {
 public:
  void send(int value) {
    payload_.store(value, std::memory_order_relaxed);
    full_.store(true, Raise);
  }
  [[nodiscard]] bool ready() const { return full_.load(Look); }
  [[nodiscard]] int read() const { return payload_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> payload_{0};
  std::atomic<bool> full_{false};
};

using Correct = Mailbox<std::memory_order_release, std::memory_order_acquire>;
using SendMissesAnOrder = Mailbox<std::memory_order_relaxed, std::memory_order_acquire>;
using ReadyMissesAnOrder = Mailbox<std::memory_order_release, std::memory_order_relaxed>;

}  // namespace course_mailbox

#include "lab_model_student_begin.hpp"
#include "my_model.hpp"
#include "lab_model_student_end.hpp"

TEST_CASE("model: your mailbox model holds on the correct mailbox and catches both broken ones") {
  // Catches: a model that checks nothing the consumer relies on (it passes on a mailbox that
  // loses the payload), and a model that asserts more than the protocol promises (it fails on
  // the correct mailbox).
  lab_model::require_holds<metrics::MailboxModel<course_mailbox::Correct>>(
      "your model holds on the CORRECT mailbox (if it fails here, it asserts something the "
      "protocol never promised: which executions does the history above show?)",
      lab_model::exhaustive());
  lab_model::require_possible<metrics::MailboxModel<course_mailbox::SendMissesAnOrder>>(
      "your model finds a violation on the mailbox whose send() misses an order (a model that "
      "passes on it does not check what a consumer that saw the flag relies on)",
      lab_model::exhaustive(),
      "what does your model assert about the payload once the flag was seen, and do its threads "
      "run send() and a read at the same time?");
  lab_model::require_possible<metrics::MailboxModel<course_mailbox::ReadyMissesAnOrder>>(
      "your model finds a violation on the mailbox whose ready() misses an order (a model that "
      "passes on it does not check what a consumer that saw the flag relies on)",
      lab_model::exhaustive(),
      "what does your model assert about the payload once the flag was seen, and do its threads "
      "run send() and a read at the same time?");
}
