// atomic_counter.hpp: milestone 1, a counter that many threads may bump at once.
//
// AtomicCounter is the smallest useful lock-free metric: a 64-bit count that any number of
// threads increment concurrently while others read or reset it, without a lock and without
// losing a single update. Every operation is one atomic read-modify-write or load, and all of
// them use the default order, memory_order_seq_cst: this milestone is about atomicity (no lost
// updates, no torn values); milestone 2 is where we start choosing weaker orders.
//
// Example:
//   metrics::AtomicCounter served;
//   served.increment();                          // from any thread
//   const std::uint64_t last_minute = served.reset();  // exporter thread
#pragma once

#include <atomic>
#include <cstdint>

#include "lab_todo.hpp"

namespace metrics {

class AtomicCounter {
 public:
  AtomicCounter() = default;

  // A synchronization object has an identity: copying it would split one count into two.
  AtomicCounter(const AtomicCounter&) = delete;
  AtomicCounter& operator=(const AtomicCounter&) = delete;

  // Adds 1. Any thread, any time. Never loses an update, wraps modulo 2^64.
  void increment() {
    // TODO: add 1 so that no increment is ever lost, however many threads call this at once.
    // Lesson 1, "The concept: one indivisible step" (and "The bug TSan cannot see").
    // Question: if reading the count and writing the count + 1 were two separate atomic steps,
    // what could another thread do between them, and would TSan tell you?
    LAB_TODO("increment(): add 1 and never lose a concurrent increment (lesson 1, \"The concept: "
             "one indivisible step\"). How many atomic steps may the read and the write take?");
  }

  // Adds `value`. Any thread, any time. Same guarantee as increment().
  void add([[maybe_unused]] std::uint64_t value) {
    // TODO: add `value`, with the same guarantee as increment(): nothing lost, all 64 bits kept.
    // Lesson 1, "Rules" (rule 4). Question: does adding any amount need a different kind of
    // operation than adding 1?
    LAB_TODO("add(): add `value` and never lose a concurrent update (lesson 1, \"Rules\"). Is "
             "this a different kind of operation from increment()?");
  }

  // Returns the current count. Any thread. The value is one that the counter really held:
  // a 64-bit atomic load is never torn.
  [[nodiscard]] std::uint64_t get() const {
    // TODO: return a value the counter really held, while other threads may be writing it.
    // Lesson 1, "Rules" (rules 1 and 2). Question: what makes reading a variable that other
    // threads write at the same moment well defined, and never torn?
    LAB_TODO("get(): return a value the counter really held, even while threads write it (lesson "
             "1, \"Rules\"). What makes a concurrent read well defined?");
  }

  // Sets the count to 0 and returns the value it replaced, as one atomic step. Any thread.
  // Every increment lands either in the returned value or in the counter after the reset:
  // the sum of all reset() results plus the final get() equals everything ever added.
  std::uint64_t reset() {
    // TODO: hand back the count and leave 0 in its place, so that every increment lands either
    // in the returned value or in the counter afterwards. Lesson 1, "The concept: one
    // indivisible step" (rule 4 in "Rules"). Question: where does an increment go that lands
    // between reading the old value and writing the 0, if those are two steps?
    LAB_TODO("reset(): return the old count and leave 0, losing no increment that races with it "
             "(lesson 1, \"Rules\", rule 4). What happens between a read and a separate write?");
  }

 private:
  std::atomic<std::uint64_t> count_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free counter needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
