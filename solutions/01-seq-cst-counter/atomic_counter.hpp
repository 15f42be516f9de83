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

namespace metrics {

class AtomicCounter {
 public:
  AtomicCounter() = default;

  // A synchronization object has an identity: copying it would split one count into two.
  AtomicCounter(const AtomicCounter&) = delete;
  AtomicCounter& operator=(const AtomicCounter&) = delete;

  // Adds 1. Any thread, any time. Never loses an update, wraps modulo 2^64.
  void increment() noexcept {
    // Solution: one read-modify-write. fetch_add reads, adds and writes as a single
    // indivisible step (a `lock`-prefixed add on x86-64), so two threads can never both read
    // the same old value; a load() followed by a store() could, and would lose an increment.
    count_.fetch_add(1);
  }

  // Adds `value`. Any thread, any time. Same guarantee as increment().
  void add(std::uint64_t value) noexcept {
    // Solution: the same single RMW with the caller's amount.
    count_.fetch_add(value);
  }

  // Returns the current count. Any thread. The value is one that the counter really held:
  // a 64-bit atomic load is never torn.
  [[nodiscard]] std::uint64_t get() const noexcept {
    // Solution: an atomic load; reading the member as a plain integer would be a data race.
    return count_.load();
  }

  // Sets the count to 0 and returns the value it replaced, as one atomic step. Any thread.
  // Every increment lands either in the returned value or in the counter after the reset:
  // the sum of all reset() results plus the final get() equals everything ever added.
  std::uint64_t reset() noexcept {
    // Solution: exchange() swaps in 0 and hands back the old value in one RMW. A get()
    // followed by a store(0) would drop every increment made between the two calls.
    return count_.exchange(0);
  }

 private:
  std::atomic<std::uint64_t> count_{0};
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "a lock-free counter needs a lock-free 64-bit atomic on this platform");
};

}  // namespace metrics
