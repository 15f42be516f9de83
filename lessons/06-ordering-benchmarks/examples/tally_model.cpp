// tally_model.cpp: a model whose promise is checked after the threads (lesson 06, stretch
// "a model of your own", write-a-model.md).
// lab-model: relacy
//
// Two threads each add 1 to a shared tally. The promise: once both have finished, the tally is
// 2 (no update is lost). The correct version adds with one read-modify-write; the broken one
// (--load-store) loads, adds and stores, two steps another thread can come between. Relacy
// calls after() once every thread has ended; that is where this promise can be decided.
//
//   lesson_06_tally_model               fetch_add: holds
//   lesson_06_tally_model --load-store  load, then store: violated
//   lesson_06_tally_model --in-thread   the load-store version, asserting tally >= 1 in each thread
#include <cstring>

#include "model_check.hpp"

namespace {

enum class Variant { kFetchAdd, kLoadStore, kInThread };

template <Variant V>
struct Tally : rl::test_suite<Tally<V>, 2> {
  rl::atomic<int> tally{0};

  void thread(unsigned /*index*/) {
    if (V == Variant::kFetchAdd) {
      tally(RL_INFO).fetch_add(1, rl::mo_relaxed);
      return;
    }
    const int seen = tally(RL_INFO).load(rl::mo_relaxed);
    tally(RL_INFO).store(seen + 1, rl::mo_relaxed);
    if (V == Variant::kInThread) RL_ASSERT(tally(RL_INFO).load(rl::mo_relaxed) >= 1);
  }

  void after() {
    if (V != Variant::kInThread) RL_ASSERT(tally(RL_INFO).load(rl::mo_relaxed) == 2);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "after both threads have added 1, the tally is 2 (2 threads)";
  if (argc > 1 && std::strcmp(argv[1], "--load-store") == 0) {
    // Deliberately broken: a load and a store are two steps. Do not copy this.
    return lesson::check_model<Tally<Variant::kLoadStore>>(what);
  }
  if (argc > 1 && std::strcmp(argv[1], "--in-thread") == 0) {
    return lesson::check_model<Tally<Variant::kInThread>>(
        "each thread, right after its own add, sees tally >= 1 (2 threads, load-store version)");
  }
  return lesson::check_model<Tally<Variant::kFetchAdd>>(what);
}
