// model_check.hpp: runs one Relacy model and says what it found (the lessons' model examples).
//
// Relacy (Dmitry Vyukov's model checker for the C++ memory model; Debian relacy-dev) runs a
// small test many times under its own scheduler, as fibers of one OS thread, and explores
// every interleaving of the threads' atomic operations. A load reads the latest store or, where
// happens-before and coherence allow, at most the ONE store before it in a full search (a
// bounded staleness, not every value C++ allows: get_load_index, relacy/thread.hpp:203-255).
// When an assertion fails, Relacy prints that execution's history, one step per line; a load
// that read an older value is marked [NOT CURRENT].
//
//   check_model<Test>(what)   prints "model: <what>", runs Test with a full search (every
//                             execution Relacy enumerates for this test), prints the history
//                             of the first failing execution if there is one, then one line
//                             with the verdict and the number of executions. Returns the exit
//                             status: 0 when the property holds, 1 when Relacy found a
//                             violation.
//
// Include it after the standard headers: <relacy/relacy.hpp> redefines new, delete and the
// std::memory_order_* names as macros. The tests use rl::atomic and rl::mo_* directly, with
// RL_INFO ("here": function, file, line) on every operation so the history names the line.
#ifndef LAB_LESSONS_MODEL_CHECK_HPP
#define LAB_LESSONS_MODEL_CHECK_HPP

#include <cstdio>
#include <iostream>

#include <relacy/relacy.hpp>

namespace lesson {

template <class Test>
int check_model(const char* what) {
  std::printf("model: %s\n", what);
  std::fflush(stdout);
  rl::test_params params;
  params.search_type = rl::sched_full;  // every execution it enumerates for this small test
  // Relacy prints to std::cout. Not into a std::ostringstream: Relacy replaces the allocator
  // while it simulates, and a buffer that grows meanwhile is freed by the wrong allocator.
  const bool holds = rl::simulate<Test>(params);
  std::cout.flush();
  std::printf("%s after %llu executions\n",
              holds ? "holds: no execution violates it" : "violated: Relacy found the execution above",
              static_cast<unsigned long long>(params.stop_iteration));
  return holds ? 0 : 1;
}

}  // namespace lesson

#endif  // LAB_LESSONS_MODEL_CHECK_HPP
