// ordered_counter.hpp: milestone 6, the milestone-1 counter with its memory order as a parameter.
//
// OrderedCounter<Order> is AtomicCounter from milestone 1 with one change: every
// read-modify-write (fetch_add, exchange) uses Order, and get() uses the load order that
// matches it. It exists so that one benchmark can compare the same counter under relaxed,
// acq_rel and seq_cst, and so that the lesson can show what each order compiles to. Spoiler
// for x86-64: all three increments are the same locked add (`lock add`; `lock xadd` where
// the result is used), so they cost the same there.
//
// The order changes what an increment publishes, never whether it is lost: every order keeps
// the RMW atomic, so OrderedCounter<std::memory_order_relaxed> counts exactly like
// OrderedCounter<std::memory_order_seq_cst>.
//
// Example:
//   metrics::OrderedCounter<std::memory_order_relaxed> hits;   // nothing is published with it
//   hits.increment();                                          // from any thread
//   const std::uint64_t n = hits.get();
#pragma once

#include <atomic>
#include <cstdint>

namespace metrics {

template <std::memory_order Order>
class OrderedCounter {
  static_assert(Order != std::memory_order_consume,
                "memory_order_consume is discouraged (P0371) and every compiler treats it as "
                "acquire: use std::memory_order_acquire");

 public:
  // The order of every read-modify-write of this counter.
  static constexpr std::memory_order rmw_order = Order;

  // The order get() loads with: the strongest load order that Order contains. A load cannot
  // release, so release maps to relaxed and acq_rel to acquire. Passing release or acq_rel to
  // load() is undefined behaviour: g++ -O2 warns (-Winvalid-memory-model), clang 14 says
  // nothing, and libstdc++ aborts only when built with -D_GLIBCXX_ASSERTIONS (which
  // -D_GLIBCXX_DEBUG implies).
  [[nodiscard]] static constexpr std::memory_order load_order() noexcept {
    // Solution: drop the release half, keep the acquire half; relaxed, acquire and seq_cst
    // are already valid load orders.
    switch (Order) {
      case std::memory_order_release:
        return std::memory_order_relaxed;
      case std::memory_order_acq_rel:
        return std::memory_order_acquire;
      default:
        return Order;
    }
  }

  OrderedCounter() = default;
  OrderedCounter(const OrderedCounter&) = delete;
  OrderedCounter& operator=(const OrderedCounter&) = delete;

  // Adds 1. Any thread, any time. Never loses an update, whatever Order is.
  void increment() noexcept {
    // Solution: the milestone-1 fetch_add with the order as the second argument.
    // order: Order, the parameter under test.
    count_.fetch_add(1, Order);
  }

  // Adds `value`. Any thread, any time. Same guarantee as increment().
  void add(std::uint64_t value) noexcept {
    // Solution: the same single RMW with the caller's amount.
    // order: Order, the parameter under test.
    count_.fetch_add(value, Order);
  }

  // Returns the current count. Any thread.
  [[nodiscard]] std::uint64_t get() const noexcept {
    // Solution: a load with load_order(): the same strength as the RMWs, minus "release".
    // order: load_order(), the load half of Order.
    return count_.load(load_order());
  }

  // Sets the count to 0 and returns the value it replaced, as one atomic step. Any thread.
  std::uint64_t reset() noexcept {
    // Solution: exchange is a read-modify-write, so it takes Order itself.
    // order: Order, the parameter under test.
    return count_.exchange(0, Order);
  }

 private:
  std::atomic<std::uint64_t> count_{0};
};

}  // namespace metrics
