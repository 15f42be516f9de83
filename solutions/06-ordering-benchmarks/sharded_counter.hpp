// sharded_counter.hpp: milestone 6, a counter whose increments scale with the writer threads.
//
// One std::atomic<std::uint64_t> that every thread increments (milestone 1) is exact, but it
// does not scale: on x86-64 a fetch_add needs its cache line exclusively in the incrementing
// core's cache, so two cores that both count pass the line back and forth and take turns. The
// memory order does not help (on x86-64 every order of fetch_add is the same `lock`
// instruction); only not sharing the line does.
//
// ShardedCounter gives each writer thread a slot of its own, alone on its 64-byte cache line:
// increments touch only the thread's own line, which stays in that core's cache, and get()
// adds the slots up. Reads get slower (one load per slot), writes get as cheap as they can be:
// because a slot has exactly one writer, an increment is a plain load, add and store of the
// slot, not a locked read-modify-write (see add() for why that is still exact).
//
// How a thread finds its slot (given code, my_slot()): the first time a thread uses any
// ShardedCounter it takes a small process-wide index (0, 1, 2, ... the lowest one free) and
// keeps it until it exits; the index is its slot number in every ShardedCounter. Threads beyond
// the slot count (or beyond the 256 indices) have no slot of their own: they share one extra
// "overflow" slot and must update it with fetch_add, so the count stays exact with any number
// of threads, just slower for them. Each thread also caches "counter -> my slot's address" for
// the counter it used last, so the usual increment is: compare an id, then add through a
// pointer.
//
// There is deliberately no reset(): a slot's owner writes it with load + store, so a reset from
// another thread could be overwritten and lost. Subtract two get() results instead.
//
// Example:
//   metrics::ShardedCounter requests;   // typically one per metric, shared by all threads
//   requests.increment();               // request threads: under 1 ns, no cache-line ping-pong
//   const std::uint64_t n = requests.get();   // exporter: sums every slot
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace metrics {

namespace detail {

// --- Small per-thread indices (given: you do not need to change this part) ------------------

inline constexpr std::size_t kMaxThreadIndices = 256;
inline constexpr std::size_t kNoThreadIndex = static_cast<std::size_t>(-2);  // use overflow
inline constexpr std::size_t kUnregistered = static_cast<std::size_t>(-1);   // not asked yet

// The set of indices in use, one bit each. Constant-initialized, so it exists before any
// thread can ask for an index, and trivially destructible, so it outlives every thread.
class ThreadIndexPool {
 public:
  // Takes the lowest free index, or kNoThreadIndex when all are in use.
  std::size_t acquire() noexcept {
    for (std::size_t w = 0; w < words_.size(); ++w) {
      // order: relaxed: only a guess at the free bits; the CAS below decides.
      std::uint64_t bits = words_[w].load(std::memory_order_relaxed);
      while (bits != ~std::uint64_t{0}) {
        const std::uint64_t bit = std::uint64_t{1} << std::countr_one(bits);
        // order: acquire on success pairs with the release in release() of the thread that
        // held this index before: all it wrote to its slots happens before our first access.
        if (words_[w].compare_exchange_weak(bits, bits | bit, std::memory_order_acquire,
                                            // order: relaxed on failure: we retry with `bits`.
                                            std::memory_order_relaxed)) {
          return w * 64 + static_cast<std::size_t>(std::countr_zero(bit));
        }
      }
    }
    return kNoThreadIndex;
  }

  // Gives an index back (at thread exit).
  void release(std::size_t index) noexcept {
    // order: release: publishes this thread's slot writes to the next owner (see acquire()).
    words_[index / 64].fetch_and(~(std::uint64_t{1} << (index % 64)), std::memory_order_release);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kMaxThreadIndices / 64> words_{};
};

inline constinit ThreadIndexPool thread_index_pool{};

// This thread's index, kUnregistered before its first use. Constant-initialized and trivially
// destructible, so reading it is one instruction (no thread_local init guard on the hot path).
inline constinit thread_local std::size_t this_thread_index = kUnregistered;

// The counter this thread used last (by id, never reused) and the address of its slot there.
struct SlotCache {
  std::uint64_t counter_id = 0;  // 0: empty
  std::atomic<std::uint64_t>* slot = nullptr;
};
inline constinit thread_local SlotCache slot_cache{};

// Returns the index to the pool when the thread exits. Later uses by the same thread (from
// other thread_local destructors) go to the overflow slot.
struct ThreadIndexLease {
  std::size_t index = thread_index_pool.acquire();
  ThreadIndexLease() noexcept { this_thread_index = index; }
  ~ThreadIndexLease() {
    slot_cache = SlotCache{};  // the slots of this index are no longer ours
    if (index != kNoThreadIndex) thread_index_pool.release(index);
    this_thread_index = kNoThreadIndex;
  }
  ThreadIndexLease(const ThreadIndexLease&) = delete;
  ThreadIndexLease& operator=(const ThreadIndexLease&) = delete;
};

// Slow path, once per thread: takes an index and arranges for its release at thread exit.
[[gnu::noinline]] inline std::size_t register_this_thread() noexcept {
  thread_local const ThreadIndexLease lease;
  return this_thread_index;
}

}  // namespace detail

class ShardedCounter {
 public:
  // The size of a cache line, the unit in which cores own memory. The portable spelling is
  // std::hardware_destructive_interference_size, but libstdc++ 12 defines it only when the
  // compiler provides __GCC_DESTRUCTIVE_SIZE (GCC 12 does, clang 14 does not), so with clang it
  // does not exist. 64 bytes is the line of every x86-64 CPU and of most AArch64 cores. Two
  // caveats (lesson 6, "Padding: 64 or 128 bytes?"): on cores with 128-byte lines (Apple's
  // M-series) every adjacent pair of 64-byte slots shares a line, so this padding only
  // halves the sharing there; and Intel's L2 spatial prefetcher fetches lines in 128-byte
  // aligned pairs, which is why folly and crossbeam pad to 128 on x86-64.
  static constexpr std::size_t kCacheLine = 64;

  // One thread's share of the count, alone on its cache line.
  struct alignas(kCacheLine) Slot {
    // Solution: alignas(kCacheLine) makes every Slot start on its own line and rounds its size
    // up to a full line, so no two slots (and nothing else) ever share a line: a thread writing
    // its slot never steals the line that holds another thread's slot (false sharing).
    std::atomic<std::uint64_t> value{0};
  };

  // Creates a counter with `slots` exclusive slots plus the overflow slot. Throws
  // std::invalid_argument unless 1 <= slots <= 256 (the number of thread indices).
  explicit ShardedCounter(std::size_t slots = default_slot_count())
      : slot_count_(checked_slot_count(slots)),
        id_(next_id_.fetch_add(1, std::memory_order_relaxed)),  // order: relaxed: a unique number
        slots_(std::make_unique<Slot[]>(slot_count_)) {}

  ShardedCounter(const ShardedCounter&) = delete;
  ShardedCounter& operator=(const ShardedCounter&) = delete;

  // Adds 1. Any thread, any time, lock-free; wait-free for a thread with its own slot (a load
  // and a store, no retry). Never loses an update.
  void increment() noexcept { add(1); }

  // Adds `value`. Any thread, any time, lock-free; wait-free for a thread with its own slot (a
  // load and a store, no retry; the first call of a thread takes an index with a CAS loop, and
  // threads without a slot share a fetch_add). Never loses an update.
  void add(std::uint64_t value) noexcept {
    if (std::atomic<std::uint64_t>* mine = my_slot()) [[likely]] {
      // Solution: this slot has exactly one writer, this thread (an index is held by one
      // thread at a time, and the pool's release/acquire hands a slot's last value to its next
      // owner). With one writer nobody can change the slot between our load and our store, so
      // load + store is exactly fetch_add, without the locked instruction (on x86-64 a `lock`ed
      // RMW also drains the store buffer: see the lesson for its measured cost). Readers only
      // load; an atomic store is never torn, so they see the old or the new total, never a mix.
      // order: relaxed: we read our own last store (or, via the pool, the previous owner's).
      const std::uint64_t current = mine->load(std::memory_order_relaxed);
      // order: relaxed: the counter publishes nothing but its own value.
      mine->store(current + value, std::memory_order_relaxed);
    } else {
      // Solution: the overflow slot is shared by every thread without a slot of its own, so
      // it needs a real read-modify-write: two load + store pairs could interleave and lose
      // an increment.
      // order: relaxed: the counter publishes nothing but its own value.
      overflow_.value.fetch_add(value, std::memory_order_relaxed);
    }
  }

  // Returns the sum of every slot. Any thread. Exact once the writers have finished (joined, or
  // otherwise happened before this call). While writers run, the result counts every increment
  // that happens before the call and possibly some concurrent ones (no real-time bound: an add
  // that has returned may not be visible yet), and successive calls from one thread never go
  // backwards (each slot only grows, and a thread never reads an older value of a slot than one
  // it read before).
  [[nodiscard]] std::uint64_t get() const noexcept {
    // Solution: add up the overflow slot and every exclusive slot. Reading only this thread's
    // slot (or slot 0) would miss the other threads' increments.
    // order: relaxed: no other data is published with the count; join (or any other
    // happens-before) makes finished writers' stores visible to these loads.
    std::uint64_t total = overflow_.value.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < slot_count_; ++i) {
      // order: relaxed: as above.
      total += slots_[i].value.load(std::memory_order_relaxed);
    }
    return total;
  }

  // The number of exclusive slots (the overflow slot not included).
  [[nodiscard]] std::size_t slot_count() const noexcept { return slot_count_; }

  // The address of slot `i`'s counter, for tests that check the cache-line layout;
  // i == slot_count() is the overflow slot. Throws std::out_of_range beyond that.
  [[nodiscard]] const void* slot_address(std::size_t i) const {
    if (i < slot_count_) return &slots_[i].value;
    if (i == slot_count_) return &overflow_.value;
    throw std::out_of_range("ShardedCounter::slot_address: no slot " + std::to_string(i));
  }

  // One slot per hardware thread, at least 8 (room for a few more threads than cores).
  [[nodiscard]] static std::size_t default_slot_count() noexcept {
    return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 8,
                                   detail::kMaxThreadIndices);
  }

 private:
  // This thread's own slot in this counter, or nullptr if it has none (more threads than
  // slots). Given code: the fast path is one compare with the thread's cache.
  std::atomic<std::uint64_t>* my_slot() noexcept {
    const detail::SlotCache& cache = detail::slot_cache;
    if (cache.counter_id == id_) [[likely]] return cache.slot;
    return my_slot_slow();
  }

  [[gnu::noinline]] std::atomic<std::uint64_t>* my_slot_slow() noexcept {
    std::size_t index = detail::this_thread_index;
    if (index == detail::kUnregistered) index = detail::register_this_thread();
    if (index >= slot_count_) return nullptr;
    detail::slot_cache = detail::SlotCache{id_, &slots_[index].value};
    return &slots_[index].value;
  }

  static std::size_t checked_slot_count(std::size_t slots) {
    if (slots == 0 || slots > detail::kMaxThreadIndices) {
      throw std::invalid_argument("ShardedCounter: slots must be in [1, 256], got " +
                                  std::to_string(slots));
    }
    return slots;
  }

  // Source of counter ids: never 0 (the empty cache), never reused, so a cache entry cannot
  // point into a destroyed counter that happened to live at the same address.
  static inline std::atomic<std::uint64_t> next_id_{1};

  // Read-only after construction: these may share a line, nobody writes it.
  std::size_t slot_count_;
  std::uint64_t id_;
  std::unique_ptr<Slot[]> slots_;
  // Written by every thread that has no slot of its own; a padded Slot has a line of its own.
  Slot overflow_;
};

}  // namespace metrics
