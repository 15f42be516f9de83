// m6_stress.hpp: keeps the threads of a milestone-6 stress test busy until they overlap.
//
// A fixed number of increments per thread is not enough on a busy machine: under
// ThreadSanitizer a thread can finish 100000 cheap increments before the last thread has even
// started, and then nothing concurrent was tested. So every worker announces that it started
// and keeps working (at least `min_calls` calls, and at least `min_time` if given) until every
// participant has announced itself, with a time limit so that a participant that died (a
// starter TODO) cannot make it spin forever. Each worker returns how many calls it made, so
// tests assert exact totals. The minimum time matters on a busy machine: a lost update needs
// two threads running at the same moment, and the longer they run, the more such moments.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>

#include "lab_test.hpp"

namespace m6 {

class OverlapGate {
 public:
  explicit OverlapGate(std::size_t participants,
                       std::chrono::milliseconds min_time = std::chrono::milliseconds(0),
                       std::chrono::milliseconds limit = std::chrono::milliseconds(3000))
      : participants_(participants),
        not_before_(std::chrono::steady_clock::now() + min_time),
        deadline_(std::chrono::steady_clock::now() + limit) {}

  // Call once from each participant when it starts working.
  void arrive() noexcept { arrived_.fetch_add(1); }

  // Workers also keep going until `counter` (advanced by another participant, e.g. a reader
  // counting its steps) reaches `at_least`, or the time limit passes.
  void require_progress(const std::atomic<std::uint64_t>& counter, std::uint64_t at_least) noexcept {
    progress_ = &counter;
    min_progress_ = at_least;
  }

  // Calls op(i) for i = 0, 1, ... until at least min_calls calls were made, the minimum time
  // has passed and every participant has arrived (or the time limit passed). Returns the
  // number of calls.
  template <class Op>
  std::uint64_t work(std::uint64_t min_calls, Op&& op) {
    arrive();
    std::uint64_t i = 0;
    for (; i < min_calls || !done(i); ++i) op(i);
    return i;
  }

  [[nodiscard]] bool all_arrived() const noexcept {
    return arrived_.load() >= participants_ || std::chrono::steady_clock::now() > deadline_;
  }

 private:
  // Checked every 1024 calls: reading the clock costs more than an increment.
  [[nodiscard]] bool done(std::uint64_t calls) const noexcept {
    if (calls % 1024 != 0) return false;
    const auto now = std::chrono::steady_clock::now();
    return now > deadline_ ||
           (now >= not_before_ && arrived_.load() >= participants_ &&
            (progress_ == nullptr || progress_->load() >= min_progress_));
  }

  std::atomic<std::size_t> arrived_{0};
  const std::size_t participants_;
  const std::atomic<std::uint64_t>* progress_ = nullptr;
  std::uint64_t min_progress_ = 0;
  const std::chrono::steady_clock::time_point not_before_;
  const std::chrono::steady_clock::time_point deadline_;
};

// Every thread alternately calls counter.increment() and counter.add(t + 1) under `gate`;
// returns whether the threads overlapped and how much they added in all, for an exact check.
struct MixedRun {
  bool overlapped = false;
  std::uint64_t added = 0;
};

template <class Counter>
MixedRun add_from_all_threads(Counter& counter, std::size_t threads, std::uint64_t per_thread,
                              OverlapGate& gate) {
  std::vector<std::uint64_t> added(threads, 0);  // added[t]: written by thread t only
  const auto run = lab::run_together(threads, [&](std::size_t t) {
    gate.work(per_thread, [&](std::uint64_t i) {
      if (i % 2 == 0) {
        counter.increment();
        added[t] += 1;
      } else {
        counter.add(t + 1);
        added[t] += t + 1;
      }
    });
  });
  return {run.overlapped, std::accumulate(added.begin(), added.end(), std::uint64_t{0})};
}

}  // namespace m6
