// lab_todo.hpp: how a starter file says "not done yet" loudly.
//
// Every TODO in starter/ calls LAB_TODO("what to do"). It throws lab::TodoError, whose
// message names the file, the line and the task, e.g.
//   starter/01-seq-cst-counter/atomic_counter.hpp:56: TODO: get(): return a value the ...
// doctest prints that message as the reason the test failed; the test helpers in
// lab_test.hpp carry it out of worker threads too, so nothing hangs and nothing is silent.
//
// TodoError derives from std::exception only, never from std::logic_error or
// std::invalid_argument, so a TODO can never satisfy a CHECK_THROWS_AS(..., std::...).
#pragma once

#include <cstdio>
#include <exception>
#include <string>  // kept: starters may rely on it

namespace lab {

// The message lives in the exception itself, never on the heap: a TODO reached inside a model
// checkpoint runs under Relacy, whose operator new hands out memory that the standard library's
// compiled string code would free with free().
class TodoError : public std::exception {
 public:
  explicit TodoError(const char* message) noexcept {
    std::snprintf(message_, sizeof message_, "%s", message);
  }
  [[nodiscard]] const char* what() const noexcept override { return message_; }

 private:
  char message_[1024];
};

[[noreturn]] inline void todo(const char* file, int line, const char* task) {
  char message[1024];
  std::snprintf(message, sizeof message, "%s:%d: TODO: %s", file, line, task);
  throw TodoError(message);
}

}  // namespace lab

// Use in starter code only; the task asks, never tells (it names the guarantee, the lesson
// section and a question): LAB_TODO("f(): <guarantee> (lesson N, \"Section\"). <question>?");
#define LAB_TODO(task) ::lab::todo(__FILE__, __LINE__, task)
