// my_model.hpp: milestone 6 stretch exercise, a model of your own.
//
// Every model checkpoint of this course so far was written for you. Here you write one, for a
// small protocol that is not one of the exercises: a one-shot mailbox. Its producer sends one
// value: send(v) writes the payload, then raises a flag. Its consumer calls ready() and, only if
// that returns true, read(); the protocol promises that a consumer that saw the flag reads the
// value that was sent. (Before the flag is raised, it promises nothing about read().)
//
// The mailbox's code is given, in checkpoints/06-ordering-benchmarks/model_my_model.cpp, in
// three versions: one correct and two that each miss one order. A type `Mailbox` of that shape
// (default-constructible, `void send(int)`, `bool ready() const`, `int read() const`) is the
// template parameter of your model, and the checkpoint runs it on all three: it must HOLD on the
// correct mailbox and FIND a violating execution on each broken one. A model is a
// lab_model::Suite (checkpoints/common/relacy/lab_model.hpp, its banner is the how-to): setup()
// before the threads, run(thread) for each modelled thread, check() after them, and
// LAB_MODEL_ASSERT(condition) for the property.
//
// lessons/06-ordering-benchmarks/write-a-model.md explains how to write and run a model.
//
// This header is compiled only by the model checkpoint (it needs lab_model.hpp, which that
// checkpoint includes first); anywhere else it is empty.
#pragma once

#if __has_include("lab_model.hpp")
#include <optional>

#include "lab_model.hpp"

namespace metrics {

// The model of one message through one mailbox: thread 0 produces, thread 1 consumes.
template <typename Mailbox>
struct MailboxModel : lab_model::Suite<MailboxModel<Mailbox>, 2> {
  static constexpr int kLetter = 42;  // anything but the payload's initial 0
  std::optional<Mailbox> box;

  void setup() { box.emplace(); }

  void run(unsigned thread) {
    if (thread == 0) {
      box->send(kLetter);
    } else if (box->ready()) {
      // model: the promise is conditional: only a consumer that saw the flag may rely on the
      // payload, so the assertion sits under ready(); asserted unconditionally it would fail on
      // the correct mailbox whenever the consumer runs first.
      // model: the check happens inside the consumer's thread, right after its own ready(): in
      // check(), after both threads ended, every mailbox (broken ones too) shows the payload.
      LAB_MODEL_ASSERT(box->read() == kLetter);
    }
  }
};

}  // namespace metrics
#endif
