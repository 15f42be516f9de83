// store_buffering.hpp: milestone 6, the two threads of the store-buffering experiment.
//
// Store buffering ("SB") is the smallest program whose result depends on the memory order:
//
//   thread 1: x = 1; r1 = y;          thread 2: y = 1; r2 = x;          (x == y == 0 before)
//
// If every access is seq_cst, all four are in one total order that respects each thread's
// program order, so whichever store comes first is seen by the other thread's load: r1 == 0
// and r2 == 0 together is impossible. With release stores and acquire loads (or relaxed ones)
// that outcome is allowed, and x86-64 really produces it: each core parks its store in its
// store buffer and the load behind it runs ahead and reads the old 0 from the cache.
//
// Why care: "raise my flag, then check yours" is the core of Dekker's and Peterson's locks, of
// "set the stop flag, then check whether the worker sleeps" wake-ups and of hazard pointers.
// Release/acquire does not make it work; seq_cst on both operations, or a seq_cst fence
// between them, does. It is the one pattern in this course that needs seq_cst.
//
// You write the thread bodies; the harness in checkpoints/06-ordering-benchmarks/
// (store_buffering_harness.hpp) runs them on two cores, starts every trial on both cores at
// the same instant, and counts the trials in which both threads saw 0.
#pragma once

#include <atomic>

#include "lab_todo.hpp"

namespace metrics {

// The two flags, each alone on a cache line (see sharded_counter.hpp for the 64).
struct StoreBufferingFlags {
  alignas(64) std::atomic<int> x{0};
  alignas(64) std::atomic<int> y{0};
};

// The two threads of SB with the given orders. The harness calls first() on one core and
// second() on another, at the same time, with x == y == 0 before each trial.
template <std::memory_order StoreOrder, std::memory_order LoadOrder>
struct StoreBuffering {
  static_assert(StoreOrder == std::memory_order_relaxed ||
                    StoreOrder == std::memory_order_release ||
                    StoreOrder == std::memory_order_seq_cst,
                "a store takes relaxed, release or seq_cst");
  static_assert(LoadOrder == std::memory_order_relaxed ||
                    LoadOrder == std::memory_order_acquire ||
                    LoadOrder == std::memory_order_seq_cst,
                "a load takes relaxed, acquire or seq_cst");

  // Thread 1: sets x to 1 with StoreOrder, then returns what it reads from y with LoadOrder.
  static int first([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: flags.x.store(1, StoreOrder); then return flags.y.load(LoadOrder). Use the template
    // parameters, not orders of your own: the experiment compares exactly these orders.
    LAB_TODO("StoreBuffering::first(): store 1 to x with StoreOrder, return y loaded with LoadOrder");
  }

  // Thread 2: the mirror image: sets y, returns x.
  static int second([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: the mirror image of first(): store y, load x.
    LAB_TODO("StoreBuffering::second(): store 1 to y with StoreOrder, return x loaded with LoadOrder");
  }
};

// The three variants the experiment compares.
using RelaxedStoreBuffering = StoreBuffering<std::memory_order_relaxed, std::memory_order_relaxed>;
using ReleaseAcquireStoreBuffering =
    StoreBuffering<std::memory_order_release, std::memory_order_acquire>;
using SeqCstStoreBuffering = StoreBuffering<std::memory_order_seq_cst, std::memory_order_seq_cst>;

// The fourth way: relaxed store and load with a seq_cst fence between them. Two seq_cst fences
// are ordered in the single total order too, and a store before the earlier fence is visible to
// a load after the later one, so r1 == r2 == 0 is impossible here as well.
struct FencedStoreBuffering {
  // Thread 1: x = 1 (relaxed), a seq_cst fence, then returns y (relaxed).
  static int first([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: relaxed store of x, std::atomic_thread_fence(std::memory_order_seq_cst), relaxed
    // load of y. Where exactly must the fence go?
    LAB_TODO("FencedStoreBuffering::first(): relaxed store x, seq_cst fence, relaxed load y");
  }

  // Thread 2: the mirror image.
  static int second([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: the mirror image of first().
    LAB_TODO("FencedStoreBuffering::second(): relaxed store y, seq_cst fence, relaxed load x");
  }
};

}  // namespace metrics
