// lab_todo.hpp: how a starter file says "not done yet" loudly.
//
// Every TODO in starter/ calls LAB_TODO("what to do"). It throws lab::TodoError, whose
// message names the file, the line and the task, e.g.
//   starter/01-seq-cst-counter/atomic_counter.hpp:48: TODO: return the count with load()
// doctest prints that message as the reason the test failed; the test helpers in
// lab_test.hpp carry it out of worker threads too, so nothing hangs and nothing is silent.
//
// TodoError derives from std::exception only, never from std::logic_error or
// std::invalid_argument, so a TODO can never satisfy a CHECK_THROWS_AS(..., std::...).
#pragma once

#include <exception>
#include <string>

namespace lab {

class TodoError : public std::exception {
 public:
  explicit TodoError(std::string message) : message_(std::move(message)) {}
  [[nodiscard]] const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

[[noreturn]] inline void todo(const char* file, int line, const char* task) {
  throw TodoError(std::string(file) + ":" + std::to_string(line) + ": TODO: " + task);
}

}  // namespace lab

// Use in starter code only; the task asks, never tells (it names the guarantee, the lesson
// section and a question): LAB_TODO("f(): <guarantee> (lesson N, \"Section\"). <question>?");
#define LAB_TODO(task) ::lab::todo(__FILE__, __LINE__, task)
