// publish_model.cpp: relaxed_publish.cpp's flag, checked by a model checker (lesson 02,
// "Checking orders with a model checker").
// lab-model: relacy
//
// relaxed_publish.cpp fills in a Config and raises `ready`; the consumer waits for `ready`
// and reads the Config. Here the producer's write is an atomic `port` written relaxed (a
// plain int would make Relacy report a DATA RACE, as ThreadSanitizer does; an atomic lets the
// history show the value the consumer read). The property: a consumer that sees ready == true
// reads port == 8080. On x86 the relaxed version never fails in a test; under the C++ memory
// model it may, and Relacy shows the execution.
//
//   lesson_02_publish_model            relaxed store and load of the flag: violated
//   lesson_02_publish_model --fixed    release store, acquire load: holds
//   lesson_02_publish_model --release-sequence
//       release store of 1, then a relaxed store of 2 by the same thread; the consumer
//       asserts only when its acquire load reads 2. Relacy says it holds: it follows C++11,
//       whose release sequence went on through the releasing thread's later stores. C++20
//       (P0982R1) ended that: only read-modify-writes continue a release sequence, so in C++20
//       reading 2 synchronizes with nothing and the assertion may fail.
#include <cstring>

#include "model_check.hpp"

namespace {

template <rl::memory_order StoreOrder, rl::memory_order LoadOrder>
struct Publish : rl::test_suite<Publish<StoreOrder, LoadOrder>, 2> {
  rl::atomic<int> port{0};
  rl::atomic<bool> ready{false};

  void thread(unsigned index) {
    if (index == 0) {  // the producer
      port(RL_INFO).store(8080, rl::mo_relaxed);
      ready(RL_INFO).store(true, StoreOrder);
    } else if (ready(RL_INFO).load(LoadOrder)) {  // the consumer, once it sees the flag
      RL_ASSERT(port(RL_INFO).load(rl::mo_relaxed) == 8080);
    }
  }
};

// The release sequence as C++11 had it (see the top of the file).
struct SameThreadStore : rl::test_suite<SameThreadStore, 2> {
  rl::atomic<int> port{0};
  rl::atomic<int> ready{0};

  void thread(unsigned index) {
    if (index == 0) {
      port(RL_INFO).store(8080, rl::mo_relaxed);
      ready(RL_INFO).store(1, rl::mo_release);
      ready(RL_INFO).store(2, rl::mo_relaxed);  // C++11: still in the release sequence
    } else if (ready(RL_INFO).load(rl::mo_acquire) == 2) {
      RL_ASSERT(port(RL_INFO).load(rl::mo_relaxed) == 8080);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "a consumer that sees ready == true reads port == 8080";
  if (argc > 1 && std::strcmp(argv[1], "--release-sequence") == 0) {
    return lesson::check_model<SameThreadStore>(
        "a consumer that reads ready == 2 (stored relaxed after a release store of 1) reads "
        "port == 8080");
  }
  if (argc > 1 && std::strcmp(argv[1], "--fixed") == 0) {
    return lesson::check_model<Publish<rl::mo_release, rl::mo_acquire>>(what);
  }
  // Deliberately broken: the relaxed flag publishes nothing. Do not copy this.
  return lesson::check_model<Publish<rl::mo_relaxed, rl::mo_relaxed>>(what);
}
