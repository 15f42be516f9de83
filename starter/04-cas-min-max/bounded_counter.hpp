// bounded_counter.hpp: milestone 4, a counter that never passes its limit, without a lock.
//
// BoundedCounter counts in [0, limit]: try_increment() adds 1 only if that keeps the count at
// or below the limit, try_decrement() subtracts 1 only if the count is above zero, and each
// says whether it did. Typical uses are admission limits: "at most 100 requests in flight",
// "at most 8 open connections per client".
//
// The trap is check-then-act: `if (count.load() < limit) count.fetch_add(1);` is two atomic
// steps, and two threads that both see limit - 1 both add, ending at limit + 1. ThreadSanitizer
// cannot see this (every access is atomic, so there is no data race); only counting can. The
// fix makes the check and the write one step: lessons/04-cas-min-max/README.md, "The trap:
// check-then-act".
//
// Example:
//   metrics::BoundedCounter in_flight(100);
//   if (!in_flight.try_increment()) return reject_busy();   // request thread
//   serve();
//   (void)in_flight.try_decrement();                        // same request, when done
#pragma once

#include <atomic>
#include <cstdint>

#include "lab_todo.hpp"

namespace metrics {

class BoundedCounter {
 public:
  // A counter at 0 that will never exceed `limit`. A limit of 0 admits nothing.
  explicit BoundedCounter(std::uint64_t limit) noexcept : limit_(limit) {}

  // A synchronization object has an identity: a copy would enforce a second, separate limit.
  BoundedCounter(const BoundedCounter&) = delete;
  BoundedCounter& operator=(const BoundedCounter&) = delete;

  // Adds 1 and returns true if the count was below the limit; otherwise changes nothing and
  // returns false. Any thread, lock-free. Under any interleaving the count never exceeds
  // limit(), and false means the counter was full at the moment it was checked (never a
  // spurious refusal because another thread was busy).
  [[nodiscard]] bool try_increment() {
    // TODO: add 1 only while the count is below the limit, under any interleaving: the count
    // never exceeds limit(), and false means the counter was full when it was checked, never
    // that another thread happened to be busy. Lesson 4, "The trap: check-then-act" and "The
    // CAS loop". Questions: two threads both see limit - 1: what stops both from adding? Where
    // must the limit check sit so that it and the write are one step? And what does one failed
    // attempt tell you: "full", or "changed, decide again"?
    LAB_TODO("try_increment(): +1 only below the limit, never past it under any interleaving, "
             "false only when full (lesson 4, \"The trap: check-then-act\"). How do the check "
             "and the write become one step?");
  }

  // Subtracts 1 and returns true if the count was above zero; otherwise changes nothing and
  // returns false. Any thread, lock-free. The count never goes below 0 (never wraps).
  [[nodiscard]] bool try_decrement() {
    // TODO: subtract 1 only while the count is above zero, under any interleaving: the count
    // never wraps below 0, and false means it was 0 when checked. Lesson 4, "The trap:
    // check-then-act". Question: what does try_increment() become when the limit is 0 and the
    // step is -1?
    LAB_TODO("try_decrement(): -1 only above zero, never below it under any interleaving (lesson "
             "4, \"The trap: check-then-act\"). What mirrors try_increment()?");
  }

  // The current count, a value in [0, limit()] that the counter really held. Any thread.
  [[nodiscard]] std::uint64_t get() const {
    // TODO: a value in [0, limit()] that the counter really held, read while others update it.
    // Lesson 4, "Rules". Question: which atomic operation reads without writing?
    LAB_TODO("get(): the current count, read atomically (lesson 4, \"Rules\"). Which operation "
             "reads without writing?");
  }

  // The limit given to the constructor. Any thread; it never changes.
  [[nodiscard]] std::uint64_t limit() const noexcept { return limit_; }

 private:
  const std::uint64_t limit_;
  std::atomic<std::uint64_t> count_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free counter needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
