// my_model.hpp: milestone 6 stretch exercise, a model of your own.
//
// Every model checkpoint of this course so far was written for you. Here you write one, for a
// small protocol that is not one of the exercises: a report of two parts gathered from two
// producers. Each part has its own producer, which calls fill(part, value) once: fill() writes
// that part's payload, then counts the part's arrival on a counter shared by both parts. A
// consumer calls complete() and, only if that returns true, read(0) and read(1); the protocol
// promises that a consumer that saw complete() reads, for each part, the value its producer
// filled in. (Before both parts have arrived, it promises nothing about read().)
//
// The report's code is given, in checkpoints/06-ordering-benchmarks/model_my_model.cpp, in
// four versions: one correct and three that each miss one order. A type `Report` of that shape
// (default-constructible, `void fill(int part, int value)`, `bool complete() const`,
// `int read(int part) const`, parts 0 and 1, every payload 0 until filled) is the template
// parameter of your model, and the checkpoint runs it on all four: it must HOLD on the correct
// report and FIND a violating execution on each broken one. A model is a lab_model::Suite
// (checkpoints/common/relacy/lab_model.hpp, its banner is the how-to): setup() before the
// threads, run(thread) for each modelled thread, check() after them, and
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

// The model of one report: threads 0 and 1 each fill their own part, thread 2 consumes.
// model: three threads, one per role of the protocol: a producer per part, because each part
// has its own producer, and the order between two threads is what a missing order breaks; two
// fills in one thread are ordered by program order, so the first part's payload would be
// published by the second part's arrival and a broken fill() of the first part never shows.
template <typename Report>
struct ReportModel : lab_model::Suite<ReportModel<Report>, 3> {
  // model: values other than the payloads' initial 0, so that a stale payload is a value the
  // assertion tells apart; two different ones, so that a model that mixes up the parts fails.
  static constexpr int kFilled[2] = {17, 29};
  std::optional<Report> report;

  void setup() { report.emplace(); }

  void run(unsigned thread) {
    if (thread < 2) {
      report->fill(static_cast<int>(thread), kFilled[thread]);
    } else if (report->complete()) {
      // model: the promise is conditional: only a consumer that saw complete() may rely on the
      // payloads, so the assertions sit under complete(), and the reads come after it; asserted
      // unconditionally (or on reads made before complete()) they would fail on the correct
      // report whenever the consumer runs before a producer.
      // model: the check happens inside the consumer's thread, right after its own complete():
      // in check(), after all threads ended, every report (broken ones too) shows both payloads.
      // model: both parts are asserted, each against its own value: the promise is made for
      // each part, and a fill() that misses an order breaks only its own part.
      LAB_MODEL_ASSERT(report->read(0) == kFilled[0]);
      LAB_MODEL_ASSERT(report->read(1) == kFilled[1]);
    }
  }
};

}  // namespace metrics
#endif
