// fence_model.cpp: fence_message_passing.cpp's fences, checked by a model checker (lesson 06,
// "Checking orders with a model checker").
// lab-model: relacy
//
// The producer writes a plain payload, then a release fence, then a relaxed store of the
// flag; the consumer loads the flag (relaxed), then an acquire fence, then reads the payload.
// ThreadSanitizer does not model standalone fences and reports a race that is not there;
// Relacy does model them ([atomics.fences]), and so does this check. The payload is a plain
// variable (rl::var): a read that nothing orders after the write is a DATA RACE.
//
//   lesson_06_fence_model                 fences as in fence_message_passing.cpp: holds
//   lesson_06_fence_model --fence-first   the acquire fence BEFORE the flag's load: violated
#include <cstring>

#include "model_check.hpp"

namespace {

template <bool kFenceFirst>
struct FencedMessage : rl::test_suite<FencedMessage<kFenceFirst>, 2> {
  rl::var<int> payload;
  rl::atomic<int> flag{0};

  void before() { payload(RL_INFO) = 0; }

  void thread(unsigned index) {
    if (index == 0) {  // the producer
      payload(RL_INFO) = 42;
      rl::atomic_thread_fence(rl::mo_release, RL_INFO);
      flag(RL_INFO).store(1, rl::mo_relaxed);
      return;
    }
    if (kFenceFirst) rl::atomic_thread_fence(rl::mo_acquire, RL_INFO);
    const int seen = flag(RL_INFO).load(rl::mo_relaxed);
    if (!kFenceFirst) rl::atomic_thread_fence(rl::mo_acquire, RL_INFO);
    if (seen == 1) RL_ASSERT(payload(RL_INFO) == 42);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "a consumer that sees flag == 1 reads payload == 42, without a data race";
  if (argc > 1 && std::strcmp(argv[1], "--fence-first") == 0) {
    // Deliberately broken: an acquire fence orders the loads AFTER it. Do not copy this.
    return lesson::check_model<FencedMessage<true>>(what);
  }
  return lesson::check_model<FencedMessage<false>>(what);
}
