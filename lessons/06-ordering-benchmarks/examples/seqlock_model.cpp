// seqlock_model.cpp: a seqlock, checked by a model checker (interval-recorder.md, "A seqlock,
// and where its fences go").
// lab-model: relacy
//
// A seqlock protects data that one writer changes now and then and readers read often, without
// making readers write anything: the writer makes a sequence number odd, writes the data, and
// makes it even again; a reader reads the sequence, the data, the sequence again, and keeps
// what it read only when both reads saw the same even number. Boehm ("Can Seqlocks Get Along
// With Programming Language Memory Models?", MSPC 2012) shows what it takes in C++: the data
// must be atomics (a reader reads it while the writer writes it; with plain variables that is a
// data race, undefined behaviour even when the read is thrown away), read and written relaxed,
// and then two fences carry the order: a release fence in the writer after the "odd" store,
// and an acquire fence in the reader after the data loads.
//
// The property: a read the reader keeps is never torn (both halves from the same write).
// One writer writes {1, 1} over {0, 0}; one reader makes one attempt.
//
//   lesson_06_seqlock_model fenced             both fences: holds in every execution
//   lesson_06_seqlock_model no-reader-fence    violated: a kept read of {1, 0}
//   lesson_06_seqlock_model no-writer-fence    violated: a kept read of {1, 0}
//   lesson_06_seqlock_model plain-data         the data as plain ints: a data race
//
// Relacy (Debian relacy-dev) runs the threads as fibers and explores every interleaving, each
// load reading the latest store or, where the C++ memory model allows, the one before it: x86
// would never show these failures (it keeps loads in order, and stores in order).
#include <cstdio>
#include <cstring>
#include <iostream>

#include <relacy/relacy.hpp>  // after the standard headers: it redefines new, delete, assert

namespace {

enum class Variant { kFenced, kNoReaderFence, kNoWriterFence };

template <Variant V>
struct Seqlock : rl::test_suite<Seqlock<V>, 2> {
  rl::atomic<unsigned> seq;
  rl::atomic<int> data[2];

  void before() {
    seq(RL_INFO).store(0, rl::mo_relaxed);
    data[0](RL_INFO).store(0, rl::mo_relaxed);
    data[1](RL_INFO).store(0, rl::mo_relaxed);
  }

  void thread(unsigned index) {
    if (index == 0) {  // the writer
      const unsigned s = seq(RL_INFO).load(rl::mo_relaxed);  // the only writer
      seq(RL_INFO).store(s + 1, rl::mo_relaxed);             // odd: a write is under way
      if (V != Variant::kNoWriterFence) rl::atomic_thread_fence(rl::mo_release, RL_INFO);
      data[0](RL_INFO).store(1, rl::mo_relaxed);
      data[1](RL_INFO).store(1, rl::mo_relaxed);
      seq(RL_INFO).store(s + 2, rl::mo_release);             // even again: done
    } else {  // the reader: one attempt
      const unsigned s1 = seq(RL_INFO).load(rl::mo_acquire);
      const int r0 = data[0](RL_INFO).load(rl::mo_relaxed);
      const int r1 = data[1](RL_INFO).load(rl::mo_relaxed);
      if (V != Variant::kNoReaderFence) rl::atomic_thread_fence(rl::mo_acquire, RL_INFO);
      const unsigned s2 = seq(RL_INFO).load(rl::mo_relaxed);
      if (s1 % 2 == 0 && s1 == s2) {  // the reader keeps this read
        RL_ASSERT(r0 == r1);          // never torn
      }
    }
  }
};

// The data as plain variables: correct on paper, a data race in C++.
struct SeqlockPlainData : rl::test_suite<SeqlockPlainData, 2> {
  rl::atomic<unsigned> seq;
  rl::var<int> data[2];

  void before() {
    seq(RL_INFO).store(0, rl::mo_relaxed);
    data[0](RL_INFO) = 0;
    data[1](RL_INFO) = 0;
  }

  void thread(unsigned index) {
    if (index == 0) {
      const unsigned s = seq(RL_INFO).load(rl::mo_relaxed);
      seq(RL_INFO).store(s + 1, rl::mo_relaxed);
      rl::atomic_thread_fence(rl::mo_release, RL_INFO);
      data[0](RL_INFO) = 1;
      data[1](RL_INFO) = 1;
      seq(RL_INFO).store(s + 2, rl::mo_release);
    } else {
      const unsigned s1 = seq(RL_INFO).load(rl::mo_acquire);
      const int r0 = data[0](RL_INFO);
      const int r1 = data[1](RL_INFO);
      rl::atomic_thread_fence(rl::mo_acquire, RL_INFO);
      const unsigned s2 = seq(RL_INFO).load(rl::mo_relaxed);
      if (s1 % 2 == 0 && s1 == s2) RL_ASSERT(r0 == r1);
    }
  }
};

template <typename Test>
bool simulate(rl::test_params& params) {
  return rl::simulate<Test>(params);
}

struct Model {
  const char* name;
  bool (*run)(rl::test_params&);
};

const Model kModels[] = {
    {"fenced", simulate<Seqlock<Variant::kFenced>>},
    {"no-reader-fence", simulate<Seqlock<Variant::kNoReaderFence>>},
    {"no-writer-fence", simulate<Seqlock<Variant::kNoWriterFence>>},
    {"plain-data", simulate<SeqlockPlainData>},
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s fenced|no-reader-fence|no-writer-fence|plain-data\n", argv[0]);
    return 2;
  }
  for (const Model& m : kModels) {
    if (std::strcmp(argv[1], m.name) != 0) continue;
    // Relacy prints a failing execution's history to std::cout, step by step.
    rl::test_params params;
    params.search_type = rl::sched_full;  // every interleaving; loads at most 1 store stale
    const bool ok = m.run(params);
    std::cout.flush();
    std::printf("%s: %s after %llu executions\n", m.name,
                ok ? "holds" : "VIOLATED", static_cast<unsigned long long>(params.stop_iteration));
    return ok ? 0 : 1;
  }
  std::fprintf(stderr, "%s: no model named '%s'\n", argv[0], argv[1]);
  return 2;
}
