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

namespace metrics {

// The two flags, each alone on a cache line: the experiment's layout, given.
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
  static int first(StoreBufferingFlags& flags) noexcept {
    // Solution: store our flag, then load the other one, each with the order under test.
    // order: StoreOrder, the parameter under test.
    flags.x.store(1, StoreOrder);
    // order: LoadOrder, the parameter under test.
    return flags.y.load(LoadOrder);
  }

  // Thread 2: the mirror image: sets y, returns x.
  static int second(StoreBufferingFlags& flags) noexcept {
    // Solution: the mirror image of first().
    // order: StoreOrder, the parameter under test.
    flags.y.store(1, StoreOrder);
    // order: LoadOrder, the parameter under test.
    return flags.x.load(LoadOrder);
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
  static int first(StoreBufferingFlags& flags) noexcept {
    // Solution: the fence sits between the store and the load; it is what orders them.
    // order: relaxed: the seq_cst fence below orders this store before the load.
    flags.x.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // order: relaxed: ordered after the store by the fence.
    return flags.y.load(std::memory_order_relaxed);
  }

  // Thread 2: the mirror image.
  static int second(StoreBufferingFlags& flags) noexcept {
    // Solution: the mirror image of first().
    // order: relaxed: the seq_cst fence below orders this store before the load.
    flags.y.store(1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    // order: relaxed: ordered after the store by the fence.
    return flags.x.load(std::memory_order_relaxed);
  }
};

}  // namespace metrics
