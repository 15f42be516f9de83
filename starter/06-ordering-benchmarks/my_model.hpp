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

// The model of one report through its protocol. The second argument of lab_model::Suite is the
// number of modelled threads, yours to choose: which roles does the protocol have, and which
// of them must be free to run at the same time as which?
template <typename Report>
struct ReportModel : lab_model::Suite<ReportModel<Report>, 1> {
  std::optional<Report> report;

  void setup() { report.emplace(); }

  void run(unsigned thread) {
    (void)thread;
    LAB_TODO(
        "ReportModel::run(): a consumer that saw complete() reads, for each part, the value its "
        "producer filled in (lessons/06-ordering-benchmarks/write-a-model.md, \"How to write a "
        "model\"). Which role does each of the model's threads play, which condition does the "
        "consumer assert, and under which circumstances may it assert it, given what the "
        "protocol promises and what it does not?");
  }
};

}  // namespace metrics
#endif
