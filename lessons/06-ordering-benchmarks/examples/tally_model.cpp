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
//   lesson_06_tally_model --one-thread  the load-store version, both adds made by one thread
#include <cstring>

#include "model_check.hpp"

namespace {

enum class Variant { kFetchAdd, kLoadStore, kInThread, kOneThread };

template <Variant V>
struct Tally : rl::test_suite<Tally<V>, 2> {
  rl::atomic<int> tally{0};

  void thread(unsigned index) {
    if (V == Variant::kFetchAdd) {
      tally(RL_INFO).fetch_add(1, rl::mo_relaxed);
      return;
    }
    if (V == Variant::kOneThread) {  // thread 0 adds twice, thread 1 does nothing
      if (index == 0) {
        add_with_load_store();
        add_with_load_store();
      }
      return;
    }
    add_with_load_store();
    if (V == Variant::kInThread) RL_ASSERT(tally(RL_INFO).load(rl::mo_relaxed) >= 1);
  }

  void add_with_load_store() {
    const int seen = tally(RL_INFO).load(rl::mo_relaxed);
    tally(RL_INFO).store(seen + 1, rl::mo_relaxed);
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
  if (argc > 1 && std::strcmp(argv[1], "--one-thread") == 0) {
    return lesson::check_model<Tally<Variant::kOneThread>>(
        "after one thread has added 1 twice, the tally is 2 (load-store version)");
  }
  return lesson::check_model<Tally<Variant::kFetchAdd>>(what);
}
