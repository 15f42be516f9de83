// lab_model.hpp: the support of the model checkpoints (mN_model_checks executables).
//
// A model checkpoint runs a small test of the student's own, unchanged header under Relacy,
// which explores the interleavings, each load reading the latest store or a slightly older one
// that the C++ memory model allows (the bound: docs/model-checks.md), not what this x86-64 CPU
// does. The header comes through the stand-in <atomic> in this folder (see the file `atomic`).
// A violated property prints, on stdout:
//
//   model: <the property in words>
//   <Relacy's own report: the failing execution's history, one step a line, unchanged>
//
// and fails the doctest TEST_CASE (exit code 1, as every checkpoint). A starter's LAB_TODO
// fails it with the TODO's own message; a construct the model cannot run fails it with
// "not modelled: <construct> at file:line" and what to use instead. Never a pass.
//
// HOWTO: a model test file of milestone N (checkpoints/NN-name/model_x.cpp):
//
//   #include "lab_model.hpp"             // first: the stand-in <atomic>, Relacy, doctest
//   #include "lab_model_student_begin.hpp"
//   #include "the_students_header.hpp"
//   #include "lab_model_student_end.hpp"
//
//   struct MyModel : lab_model::Suite<MyModel, 2> {     // 2 modelled threads
//     std::optional<metrics::Thing> thing;              // built in setup(): a TODO is caught
//     rl::var<int> payload;                             // plain data Relacy checks for races
//     void setup() { thing.emplace(); }
//     void run(unsigned thread) { ... }                 // each thread's steps
//     void check() { LAB_MODEL_ASSERT(...); }           // after all threads
//   };
//   TEST_CASE("model: ...") {
//     lab_model::require_holds<MyModel>("the property in words", lab_model::exhaustive());
//   }
//
// then list model_x.cpp under MODEL_TESTS in the folder's lab_milestone() call and the
// TEST_CASE in manifest.json with "model": true. Search: lab_model::exhaustive() (Relacy's
// full search, every execution) where it ends within 10 s on the course machine, otherwise
// lab_model::bounded(iterations, "reason") (random scheduler, fixed seeds: deterministic).
#pragma once

#include <atomic>  // the stand-in (this folder is first on the model executables' include path)

#include <cstdio>
#include <optional>
#include <streambuf>
#include <string>

#include <doctest/doctest.h>

#include "lab_todo.hpp"

namespace lab_model {

// A starter's LAB_TODO inside a model. lab::todo() builds a std::string, and inside a model
// Relacy's operator new and the standard library's own allocations would meet; this one
// throws only the literal's pointers, and the message is formatted after the execution.
struct Todo {
  const char* file;
  int line;
  const char* task;
};
[[noreturn]] inline void todo(const char* file, int line, const char* task) {
  throw Todo{file, line, task};
}

// The first TODO a starter reached inside a model.
struct TodoRecord {
  bool seen = false;
  char text[1024] = {};
};
inline TodoRecord& todo_record() {
  static TodoRecord record;
  return record;
}

// Runs one part of the model; a starter's TODO ends the execution and is reported after it.
// (The execution ends AFTER the handler: Relacy leaves a fiber without unwinding it, and the
// C++ runtime's record of the exception being handled belongs to the one OS thread.)
template <typename F>
void guarded(F&& part) {
  bool todo = false;
  try {
    part();
  } catch (const Todo& e) {
    TodoRecord& r = todo_record();
    if (!r.seen) {
      r.seen = true;
      std::snprintf(r.text, sizeof r.text, "%s:%d: TODO: %s", e.file, e.line, e.task);
    }
    todo = true;
  }
  if (todo) rl::ctx().fail_test("TODO", rl::test_result_user_assert_failed, RL_INFO);
}

// The base of every model: Derived defines setup(), run(thread) and check().
template <typename Derived, int Threads>
struct Suite : rl::test_suite<Derived, Threads> {
  void before() { guarded([this] { self().setup(); }); }
  void thread(unsigned index) { guarded([this, index] { self().run(index); }); }
  void after() { guarded([this] { self().check(); }); }
  void setup() {}
  void check() {}

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

// How a model is searched.
struct Search {
  rl::scheduler_type_e kind = rl::sched_full;
  rl::iteration_t iterations = 100'000'000;  // full search: a cap it never reaches
  const char* reason = "";
};
// Every execution Relacy's full search scheduler enumerates (a load reads at most 1 store back).
inline Search exhaustive() { return {}; }
// A fixed number of executions of the random scheduler (deterministic: Relacy seeds each
// execution by its index); `reason` says why the full search is out of reach.
inline Search bounded(rl::iteration_t iterations, const char* reason) {
  return {rl::sched_random, iterations, reason};
}

// Where Relacy writes its report. Relacy writes while its own operator new is active, so the
// stream must not allocate (an ostringstream would grow inside libstdc++ and free through
// Relacy's delete: a crash with g++): a fixed buffer, cut at its end.
struct ReportBuffer : std::streambuf {
  char text[1 << 20];
  std::size_t length = 0;
  int overflow(int c) override {
    if (c != traits_type::eof() && length < sizeof text - 1) text[length++] = char(c);
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) overflow(static_cast<unsigned char>(s[i]));
    return n;
  }
};
inline ReportBuffer& report_buffer() {
  static ReportBuffer buffer;
  return buffer;
}
inline ReportBuffer& progress_buffer() {  // Relacy's progress lines: not shown
  static ReportBuffer buffer;
  return buffer;
}

struct Result {
  bool violated = false;
  bool in_stand_in = false;  // the failing execution failed in the stand-in <atomic>
  rl::iteration_t executions = 0;
  std::string report;  // Relacy's output
};

// Runs the model; rethrows a starter's TODO and fails on a construct it cannot model.
template <typename Model>
Result run(const Search& search) {
  todo_record() = {};
  not_modelled_record() = {};
  stand_in_failed() = false;
  ReportBuffer& buffer = report_buffer();
  buffer.length = 0;
  std::ostream out(&buffer);
  ReportBuffer& ignored = progress_buffer();
  std::ostream progress(&ignored);
  rl::test_params params;
  params.search_type = search.kind;
  params.iteration_count = search.iterations;
  params.output_stream = &out;
  params.progress_stream = &progress;
  params.progress_output_period = 1'000'000;
  const bool ok = rl::simulate<Model>(params);
  if (todo_record().seen) throw lab::TodoError(todo_record().text);
  if (not_modelled_record().seen) {
    std::printf("%s\n", not_modelled_record().text);
    FAIL(not_modelled_record().text);
  }
  ignored.length = 0;
  return Result{!ok, !ok && stand_in_failed(), params.stop_iteration,
                std::string(buffer.text, buffer.length)};
}

inline const char* search_name(const Search& s) {
  return s.kind == rl::sched_full ? "exhaustive" : "bounded";
}

// The model must hold in every explored execution.
template <typename Model>
void require_holds(const char* property, const Search& search) {
  const Result r = run<Model>(search);
  if (r.violated) {
    std::printf("model: %s\n%s", property, r.report.c_str());
    std::fflush(stdout);
    FAIL("model: " << std::string(property) << " -- violated in the execution printed above (execution "
                   << r.executions << " of a " << std::string(search_name(search)) << " search)");
  }
  CHECK_FALSE(r.violated);  // an assertion that ran: the grader's record needs at least one
  MESSAGE("model: " << std::string(property) << ": holds in " << r.executions << " executions ("
                    << std::string(search_name(search)) << " search)");
}

// The model must find an execution where the property fails: the C++ memory model allows the
// outcome (e.g. store buffering's r1 == r2 == 0 with relaxed orders). `question` is what the
// failure asks the student (the default fits a model of the student's code; a model the
// student wrote asks about the model).
template <typename Model>
void require_possible(const char* outcome, const Search& search,
                      const char* question = "are the orders stronger than asked for?") {
  const Result r = run<Model>(search);
  if (r.in_stand_in) {
    std::printf("model: %s\n%s", outcome, r.report.c_str());
    std::fflush(stdout);
    FAIL("model: " << std::string(outcome) << " -- the search stopped at an execution that "
                   "failed in the code under test (printed above: an order the operation may "
                   "not take), not at the outcome");
  }
  if (!r.violated) {
    std::printf("model: %s\n", outcome);
    FAIL("model: " << std::string(outcome) << " -- the C++ memory model allows it, but no execution of "
                   << r.executions << " showed it: " << std::string(question));
  }
  CHECK(r.violated);  // an assertion that ran: the grader's record needs at least one
  MESSAGE("model: " << std::string(outcome) << ": found in execution " << r.executions);
}

}  // namespace lab_model

// The starters' LAB_TODO, in the model build (see lab_model::todo).
#undef LAB_TODO
#define LAB_TODO(task) ::lab_model::todo(__FILE__, __LINE__, task)

// An assertion inside a model (a failed one prints the history).
#define LAB_MODEL_ASSERT(x) RL_ASSERT(x)
