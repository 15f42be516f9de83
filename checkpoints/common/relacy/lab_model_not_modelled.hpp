// Stand-ins for the constructs a model cannot run (see lab_model_student_begin.hpp): each
// records "not modelled: <construct> at file:line" and what to use instead, and fails the
// execution. The real headers are included first, so the renaming touches only the student's.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace std {

struct lab_model_atomic_flag {
  lab_model_atomic_flag(LAB_MODEL_POS_PARAMS) noexcept { report(lab_func_, lab_file_, lab_line_); }
  template <typename... Args>
  bool test_and_set(Args...) noexcept { return false; }
  template <typename... Args>
  bool test(Args...) const noexcept { return false; }
  template <typename... Args>
  void clear(Args...) noexcept {}
  static void report(const char* func, const char* file, unsigned line) {
    ::lab_model::not_modelled("std::atomic_flag", "use std::atomic<bool>", func, file, line);
  }
};

struct lab_model_mutex {
  void lock(LAB_MODEL_POS_PARAMS) { report(lab_func_, lab_file_, lab_line_); }
  bool try_lock(LAB_MODEL_POS_PARAMS) { report(lab_func_, lab_file_, lab_line_); return true; }
  void unlock() {}
  void lock_shared(LAB_MODEL_POS_PARAMS) { report(lab_func_, lab_file_, lab_line_); }
  void unlock_shared() {}
  static void report(const char* func, const char* file, unsigned line) {
    ::lab_model::not_modelled("a mutex", "the exercise asks for atomics, without locks", func,
                              file, line);
  }
};

template <typename... M>
struct lab_model_lock {
  template <typename A>
  explicit lab_model_lock(A&, LAB_MODEL_POS_PARAMS) {
    lab_model_mutex::report(lab_func_, lab_file_, lab_line_);
  }
  template <typename A, typename B, typename... Rest>
  lab_model_lock(A&, B&, Rest&...) {  // scoped_lock of several: the position is this file's
    lab_model_mutex::report(__builtin_FUNCTION(), __builtin_FILE(), __builtin_LINE());
  }
  void lock() {}
  void unlock() {}
  bool owns_lock() const { return true; }
};
template <typename... Args>
lab_model_lock(Args&...) -> lab_model_lock<Args...>;

struct lab_model_thread {
  using id = thread::id;  // the real one (this header comes before the renaming)
  template <typename F, typename... Args>
  explicit lab_model_thread(F&&, Args&&...) {
    ::lab_model::not_modelled("std::thread", "a model starts its threads itself; call the code",
                              __builtin_FUNCTION(), __builtin_FILE(), __builtin_LINE());
  }
  lab_model_thread() = default;
  bool joinable() const { return false; }
  void join() {}
  void detach() {}
};

// std::this_thread in the student's code. yield() is Relacy's yield: a spinning thread tells
// the scheduler to run another one instead of exploring the same poll again (its step shows in
// a history as "yield(1)" at the student's line); sleep_for/sleep_until too, as a model has no
// clock. get_id() is not modelled.
namespace lab_model_this_thread {
inline void yield(LAB_MODEL_POS_PARAMS) noexcept { ::rl::yield(1, LAB_MODEL_POS); }
template <typename Duration>
void sleep_for(const Duration&, LAB_MODEL_POS_PARAMS) { ::rl::yield(1, LAB_MODEL_POS); }
template <typename TimePoint>
void sleep_until(const TimePoint&, LAB_MODEL_POS_PARAMS) { ::rl::yield(1, LAB_MODEL_POS); }
inline thread::id get_id(LAB_MODEL_POS_PARAMS) {
  ::lab_model::not_modelled("std::this_thread::get_id()",
                            "a model's threads are numbered by run(thread)", lab_func_,
                            lab_file_, lab_line_);
  return {};
}
}  // namespace lab_model_this_thread

}  // namespace std
