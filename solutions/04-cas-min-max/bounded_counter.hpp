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
// fix makes the check and the write one step: a compare-exchange that installs count + 1 only
// if the count is still the value that was checked, retried with the fresh value otherwise.
//
// Example:
//   metrics::BoundedCounter in_flight(100);
//   if (!in_flight.try_increment()) return reject_busy();   // request thread
//   serve();
//   (void)in_flight.try_decrement();                        // same request, when done
#pragma once

#include <atomic>
#include <cstdint>

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
  [[nodiscard]] bool try_increment() noexcept {
    // Solution: a CAS loop. The check (current < limit) and the write (current + 1) are tied
    // together by compare_exchange_weak, which succeeds only if the count is still `current`.
    // If another thread changed it, the CAS fails, stores the value it found in `current`,
    // and the loop checks the limit again with that fresh value.
    // order: relaxed: the count is the only data, and all RMWs on one atomic are totally
    // ordered whatever their order argument, so the limit holds without any fence.
    std::uint64_t current = count_.load(std::memory_order_relaxed);
    do {
      if (current >= limit_) return false;
      // order: relaxed on success and failure, as above.
    } while (!count_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed,
                                           std::memory_order_relaxed));
    return true;
  }

  // Subtracts 1 and returns true if the count was above zero; otherwise changes nothing and
  // returns false. Any thread, lock-free. The count never goes below 0 (never wraps).
  [[nodiscard]] bool try_decrement() noexcept {
    // Solution: the mirror image of try_increment(): check for zero and write current - 1 in
    // one compare-exchange, re-checking with the fresh value after every failed attempt.
    // order: relaxed, as in try_increment().
    std::uint64_t current = count_.load(std::memory_order_relaxed);
    do {
      if (current == 0) return false;
      // order: relaxed, as in try_increment().
    } while (!count_.compare_exchange_weak(current, current - 1, std::memory_order_relaxed,
                                           std::memory_order_relaxed));
    return true;
  }

  // The current count, a value in [0, limit()] that the counter really held. Any thread.
  [[nodiscard]] std::uint64_t get() const noexcept {
    // Solution: one atomic load.
    // order: relaxed: a statistic; nothing else is read because of it.
    return count_.load(std::memory_order_relaxed);
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
