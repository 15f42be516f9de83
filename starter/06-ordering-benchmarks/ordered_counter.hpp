// ordered_counter.hpp: milestone 6, the milestone-1 counter with its memory order as a parameter.
//
// OrderedCounter<Order> is AtomicCounter from milestone 1 with one change: every
// read-modify-write uses Order, and get() uses the load order that matches it. It exists so that one benchmark can compare the same counter under relaxed,
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

#include "lab_todo.hpp"

namespace metrics {

template <std::memory_order Order>
class OrderedCounter {
  static_assert(Order != std::memory_order_consume,
                "memory_order_consume is discouraged (P0371) and every compiler treats it as "
                "acquire: use std::memory_order_acquire");

 public:
  // The order of every read-modify-write of this counter.
  static constexpr std::memory_order rmw_order = Order;

  // The order get() loads with: the strongest load order that Order contains. Passing an order
  // that a load cannot take to load() is undefined behaviour: g++ -O2 warns
  // (-Winvalid-memory-model), clang 14 says nothing, and libstdc++ aborts only when built with
  // -D_GLIBCXX_ASSERTIONS (which -D_GLIBCXX_DEBUG implies).
  [[nodiscard]] static std::memory_order load_order() {
    // TODO: for every Order, the strongest order a load may take that Order contains. Lesson 6,
    // "The exercise" (item 1), and lesson 2, "Happens-before in five rules". Questions: which
    // halves can an order have, and which half can a load never have? Which orders are already
    // valid for a load as they are? (Make the function constexpr noexcept once it no longer
    // calls LAB_TODO.)
    LAB_TODO("load_order(): the strongest valid load order contained in Order (lesson 6, \"The "
             "exercise\"). Which half of an order can a load never have?");
  }

  OrderedCounter() = default;
  OrderedCounter(const OrderedCounter&) = delete;
  OrderedCounter& operator=(const OrderedCounter&) = delete;

  // Adds 1. Any thread, any time. Never loses an update, whatever Order is.
  void increment() {
    // TODO: milestone 1's increment() (nothing lost, whatever Order is), done with the order
    // under test. Lesson 6, "The exercise" (item 1). Question: where does an atomic operation
    // take its memory order?
    LAB_TODO("increment(): +1, never lost, using the order under test (lesson 6, \"The "
             "exercise\"). Where does an operation take its order?");
  }

  // Adds `value`. Any thread, any time. Same guarantee as increment().
  void add([[maybe_unused]] std::uint64_t value) {
    // TODO: milestone 1's add(), with the order under test. Lesson 6, "The exercise" (item 1).
    // Question: is this the same kind of operation as increment()?
    LAB_TODO("add(): +value, never lost, using the order under test (lesson 6, \"The "
             "exercise\"). Same kind of operation as increment()?");
  }

  // Returns the current count. Any thread.
  [[nodiscard]] std::uint64_t get() const {
    // TODO: the current count, read with the load order that matches the order under test.
    // Lesson 6, "The exercise" (item 1). Question: why can get() not simply use Order?
    LAB_TODO("get(): the current count, with the load order that matches Order (lesson 6, \"The "
             "exercise\"). Why not Order itself?");
  }

  // Sets the count to 0 and returns the value it replaced, as one atomic step. Any thread.
  std::uint64_t reset() {
    // TODO: milestone 1's reset() (old value back, 0 left, nothing lost), with the order under
    // test. Lesson 6, "The exercise" (item 1). Question: is this a load, a store, or a
    // read-modify-write, and so which order may it take?
    LAB_TODO("reset(): old count back and 0 left in one step, with the order under test (lesson "
             "6, \"The exercise\"). Load, store or read-modify-write?");
  }

 private:
  std::atomic<std::uint64_t> count_{0};
};

}  // namespace metrics
