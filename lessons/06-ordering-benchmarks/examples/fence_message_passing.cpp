// fence_message_passing.cpp: message passing with fences, and a ThreadSanitizer false positive.
//
// The producer writes a PLAIN payload, then a release fence, then a RELAXED store of the flag.
// The consumer spins on a RELAXED load of the flag, then an acquire fence, then reads the
// payload. That is correct C++: [atomics.fences] says a release fence A synchronizes with an
// acquire fence B when an atomic store X after A is read by an atomic load Y before B. So the
// payload write happens before the payload read, and there is no data race.
//
// ThreadSanitizer (clang 14) does not model standalone fences: it sees a relaxed store and a
// relaxed load, no synchronization, and reports a data race that is not there. The
// `--release-acquire` mode writes the same protocol with a release store and an acquire load
// instead of fences: TSan is silent.
//
//   lesson_06_fence_message_passing                    fences: correct, TSan reports a race
//   lesson_06_fence_message_passing --release-acquire  release/acquire: correct, silent
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

int payload = 0;            // plain data
std::atomic<int> flag{0};   // "payload is ready"

}  // namespace

int main(int argc, char** argv) {
  const bool fences = !(argc > 1 && std::strcmp(argv[1], "--release-acquire") == 0);
  const int message = argc > 2 ? 43 : 42;  // not a constant (the optimizer may not shrink it)
  std::thread producer([fences, message] {
    payload = message;
    if (fences) {
      std::atomic_thread_fence(std::memory_order_release);  // A
      flag.store(1, std::memory_order_relaxed);             // X, after A
    } else {
      flag.store(1, std::memory_order_release);
    }
  });
  std::thread consumer([fences] {
    if (fences) {
      while (flag.load(std::memory_order_relaxed) == 0) std::this_thread::yield();  // Y
      std::atomic_thread_fence(std::memory_order_acquire);                         // B, after Y
    } else {
      while (flag.load(std::memory_order_acquire) == 0) std::this_thread::yield();
    }
    std::printf("%s: payload=%d\n", fences ? "fences" : "release/acquire", payload);
  });
  producer.join();
  consumer.join();
  return 0;
}
