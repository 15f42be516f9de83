// race.hpp: repeat a race experiment until it has really raced (test helper, milestone 4).
//
// A check-then-act bug (load, decide, then store or fetch_add) is made of atomic operations
// only, so ThreadSanitizer has nothing to report: a test has to catch the wrong result. And
// the wrong result needs luck: two threads inside the same few instructions at once (on two
// cores), or a thread preempted right there while the others move on. How often that happens
// depends on the machine and on its load, so a fixed amount of work is either too slow on an
// idle machine or too weak on a busy one.
//
// lab::race_until() runs one batch after another (each batch starts its threads with
// lab::run_together and counts what it saw) until the batches have produced `enough` contended
// events (a test-specific sign that threads really competed at the critical moment, e.g. the
// last two values of a tracker came from different threads), or a batch found a violation,
// or the time budget is spent. The busier the machine, the fewer real races per second, and
// the longer the test runs (under TSan on a 2-core machine at load average 8 to 14: from
// about 0.1 s to the 2 s budget).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace lab {

// The first thing every thread of a batch does: arrive_and_wait() returns once all `threads`
// threads have arrived, so no thread can finish its work before the last one has started.
// (lab::run_together releases its threads with a latch, but on a busy machine a released
// thread may get a CPU milliseconds later, and without ThreadSanitizer a whole batch of work
// takes less than that.) It waits by polling and yielding, never by sleeping.
class StartLine {
 public:
  explicit StartLine(std::size_t threads) : threads_(threads) {}
  StartLine(const StartLine&) = delete;
  StartLine& operator=(const StartLine&) = delete;

  void arrive_and_wait() {
    arrived_.fetch_add(1);
    while (arrived_.load() < threads_) std::this_thread::yield();
  }

 private:
  const std::size_t threads_;
  std::atomic<std::size_t> arrived_{0};
};

struct RaceTally {
  std::uint64_t batches = 0;
  std::uint64_t overlapped_batches = 0;  // batches whose threads all ran at the same time
  std::uint64_t contended = 0;           // critical moments that two threads competed for
  std::uint64_t wrong = 0;               // invariant violations (must stay 0)
  std::chrono::milliseconds elapsed{0};
};

// Calls batch(tally) until tally.wrong > 0, tally.contended >= enough, or `budget` has
// elapsed; at least once. batch() adds its own counts to the tally.
template <class Batch>
RaceTally race_until(std::uint64_t enough, std::chrono::milliseconds budget, Batch&& batch) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  RaceTally tally;
  do {
    batch(tally);
    ++tally.batches;
    tally.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start);
  } while (tally.wrong == 0 && tally.contended < enough && tally.elapsed < budget);
  return tally;
}

}  // namespace lab
