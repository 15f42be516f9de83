// broken_release_sequence.cpp: a data race that ThreadSanitizer misses (lesson 02, section 4).
//
// T1 writes a plain payload and stores x = 1 with release. T2 waits until it sees x == 1, then
// stores x = 2 with a RELAXED plain store (not an RMW). T3 waits for x == 2 with acquire and
// reads the payload. In C++20 a release sequence continues only through read-modify-writes
// ([intro.races]), so T2's store ends T1's release sequence: T3's acquire synchronizes with
// nothing, and T3's read of the payload races with T1's write. Undefined behaviour.
//
// ThreadSanitizer (clang 14) stays silent here: it does not end the release sequence at
// another thread's relaxed store. With `--rmw` T2 uses fetch_add (an RMW, which does continue
// the sequence), and the program is correct.
//   lesson_02_broken_release_sequence          broken: a real race, TSan silent
//   lesson_02_broken_release_sequence --rmw    correct
#include <atomic>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

int payload = 0;
std::atomic<int> x{0};

}  // namespace

int main(int argc, char** argv) {
  const bool rmw = argc > 1 && std::strcmp(argv[1], "--rmw") == 0;
  const int message = argc > 2 ? 43 : 42;  // not a constant
  std::thread t1([message] {
    payload = message;
    x.store(1, std::memory_order_release);
  });
  std::thread t2([rmw] {
    while (x.load(std::memory_order_relaxed) != 1) std::this_thread::yield();
    if (rmw) {
      x.fetch_add(1, std::memory_order_relaxed);  // an RMW continues t1's release sequence
    } else {
      x.store(2, std::memory_order_relaxed);      // a plain store ends it
    }
  });
  std::thread t3([rmw] {
    while (x.load(std::memory_order_acquire) != 2) std::this_thread::yield();
    std::printf("%s: payload=%d\n", rmw ? "fetch_add (correct)" : "store (data race)", payload);
  });
  t1.join();
  t2.join();
  t3.join();
  return 0;
}
