// store_buffering.hpp: milestone 6, the two threads of the store-buffering experiment.
//
// Store buffering ("SB") is the smallest program whose result depends on the memory order:
//
//   thread 1: x = 1; r1 = y;          thread 2: y = 1; r2 = x;          (x == y == 0 before)
//
// Can r1 == 0 and r2 == 0 happen together? With some memory orders the C++ model allows it,
// and x86-64 really produces it: each core parks its store in its store buffer and the load
// behind it runs ahead and reads the old 0 from the cache. Which orders forbid it, and why, is
// the question of the lesson's store-buffering section (lessons/06-ordering-benchmarks/
// README.md); this experiment lets you watch the answer on real hardware.
//
// Why care: "raise my flag, then check yours" is the core of Dekker's and Peterson's locks, of
// "set the stop flag, then check whether the worker sleeps" wake-ups and of hazard pointers.
//
// You write the thread bodies; the harness in checkpoints/06-ordering-benchmarks/
// (store_buffering_harness.hpp) runs them on two cores, starts every trial on both cores at
// the same instant, and counts the trials in which both threads saw 0.
#pragma once

#include <atomic>

#include "lab_todo.hpp"

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
  static int first([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: thread 1 of the pattern in the banner: raise your flag, then report the other
    // thread's flag, each access with the order this variant is instantiated with (the
    // experiment compares exactly those). Lesson 6, the store-buffering section. Question: which
    // template parameter belongs to which access?
    LAB_TODO("StoreBuffering::first(): thread 1 of the banner's pattern, with this variant's "
             "orders (lesson 6, store-buffering section). Which parameter goes with which access?");
  }

  // Thread 2: the mirror image: sets y, returns x.
  static int second([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: thread 2 of the pattern: the mirror image of first(), with the same orders.
    // Lesson 6, the store-buffering section. Question: which flag is yours here?
    LAB_TODO("StoreBuffering::second(): thread 2 of the banner's pattern, the mirror of first() "
             "(lesson 6, store-buffering section). Which flag is yours?");
  }
};

// The three variants the experiment compares.
using RelaxedStoreBuffering = StoreBuffering<std::memory_order_relaxed, std::memory_order_relaxed>;
using ReleaseAcquireStoreBuffering =
    StoreBuffering<std::memory_order_release, std::memory_order_acquire>;
using SeqCstStoreBuffering = StoreBuffering<std::memory_order_seq_cst, std::memory_order_seq_cst>;

// The fourth way: the store and the load themselves as weak as the memory model allows, and a
// fence (std::atomic_thread_fence) that alone must make r1 == r2 == 0 impossible.
struct FencedStoreBuffering {
  // Thread 1: sets x, then returns y. Where a fence goes, and how strong, is the TODO's question.
  static int first([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: thread 1 again, with the weakest order on the store and on the load, and a fence
    // that forbids r1 == r2 == 0 on its own. Lesson 6, the store-buffering section and
    // "Fences against operations". Questions: which reordering must the fence prevent, so
    // where must it stand? Which relation of [atomics.order] would order this thread's store
    // against the other thread's load, and which fences take part in it? (Decide from the
    // standard: what one CPU's instructions do is no proof.)
    LAB_TODO("FencedStoreBuffering::first(): weakest store and load, and a fence that alone "
             "forbids r1 == r2 == 0 (lesson 6, store-buffering section). Where, and how strong?");
  }

  // Thread 2: the mirror image.
  static int second([[maybe_unused]] StoreBufferingFlags& flags) {
    // TODO: thread 2: sets y, then returns x, with the weakest order on the store and on the
    // load. Lesson 6, the store-buffering section. Questions: does this thread need a fence
    // too, and if so, the same one as first()?
    LAB_TODO("FencedStoreBuffering::second(): sets y, returns x, weakest store and load (lesson 6, "
             "store-buffering section). Does this thread need a fence too, and the same one?");
  }
};

}  // namespace metrics
