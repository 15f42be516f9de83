// sharded_histogram.hpp: milestone 6, a histogram whose record() scales with the writer threads.
//
// Milestone 3's AtomicHistogram is lock-free, but every record() makes two locked
// read-modify-writes on lines that every writer writes: the one shared sum, and a bucket
// counter that sits next to the other buckets. With two writers each record() waits for those
// lines to come back from the other core, and the histogram becomes slower than a mutex-guarded
// one (lessons/06-ordering-benchmarks/scaling-histograms.md measures it). Lock-free is a
// progress guarantee, not a speed guarantee.
//
// ShardedHistogram applies ShardedCounter's cure to the whole histogram: every writer thread
// has a slot of its own (N + 1 bucket counts and a sum) on cache lines that no other writer
// touches. record() updates only the calling thread's slot; snapshot() adds the slots up and
// returns milestone 3's HistogramSnapshot, with milestone 3's promises (see snapshot()).
// Threads beyond the slot count share one overflow slot: exact with any number of threads,
// just slower for them.
//
// Slots are found like ShardedCounter's: the thread's process-wide index (from
// sharded_counter.hpp) is its slot number, and a small per-thread cache maps "histogram id ->
// my slot" so that the usual record() finds its slot with one compare. What it then does to
// that slot, which has exactly one writer, is the record() TODO's question.
//
// Example:
//   metrics::ShardedHistogram<4> latency_us({1'000, 10'000, 100'000, 1'000'000});
//   latency_us.record(2'500);                        // request threads: a few ns, no sharing
//   const metrics::HistogramSnapshot s = latency_us.snapshot();   // exporter: sums the slots
//   s.percentile(0.99);
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "atomic_histogram.hpp"
#include "lab_todo.hpp"
#include "sharded_counter.hpp"

namespace metrics {

namespace detail {

// --- Finding this thread's slot (given: you do not need to change this part) ---------------

// Per thread: the slots this thread used last, direct-mapped by histogram id (ids are never
// reused, so a destroyed histogram's entry can never match a live one). Four entries, so a
// thread that records into a few histograms in turn does not take the slow path every time.
struct HistogramSlotCache {
  struct Entry {
    std::uint64_t histogram_id = 0;  // 0: empty
    void* slot = nullptr;
  };
  std::array<Entry, 4> entries{};
  bool closed = false;  // the thread is exiting: its index is about to be released
};
inline constinit thread_local HistogramSlotCache histogram_slot_cache{};

// Empties this thread's cache when the thread exits, BEFORE the thread index is given back
// (it is constructed after the index lease, so it is destroyed before it): a record() from a
// later thread_local destructor then takes the overflow slot instead of a slot whose index a
// new thread may already own.
struct HistogramSlotCacheCloser {
  ~HistogramSlotCacheCloser() {
    histogram_slot_cache = HistogramSlotCache{};
    histogram_slot_cache.closed = true;
  }
};

inline void close_histogram_cache_at_thread_exit() noexcept {
  thread_local const HistogramSlotCacheCloser closer;
}

inline constinit std::atomic<std::uint64_t> next_histogram_id{1};

}  // namespace detail

template <std::size_t N>
class ShardedHistogram {
 public:
  // The cache line, as for ShardedCounter (see kCacheLine there for why it is not
  // std::hardware_destructive_interference_size). The lesson measures 64 against 128 bytes.
  static constexpr std::size_t kCacheLine = ShardedCounter::kCacheLine;

  // One thread's share of the histogram: its own bucket counts and sum. The slot begins on a
  // line of its own and its size is a whole number of lines, so no two slots share a line.
  struct Slot {
    // TODO: no two slots may share a cache line (lessons/06-ordering-benchmarks/
    // scaling-histograms.md, "The sharded design"). Questions: where in memory does slot i end
    // and slot i + 1 begin, and how many bytes is that? What decides where a Slot may start?
    // The "slots are on cache lines of their own" checkpoint measures the layout.
    std::array<std::atomic<std::uint64_t>, N + 1> counts{};  // N buckets + overflow (+Inf)
    std::atomic<std::uint64_t> sum{0};
  };

  // Creates an empty histogram with the given inclusive upper bounds and `slots` exclusive
  // slots plus the overflow slot.
  // Throws std::invalid_argument unless the bounds are strictly increasing (as AtomicHistogram)
  // and 1 <= slots <= 256 (the number of thread indices).
  explicit ShardedHistogram(const std::array<std::uint64_t, N>& upper_bounds,
                            std::size_t slots = ShardedCounter::default_slot_count())
      : bounds_(checked_bounds(upper_bounds)),
        slot_count_(checked_slot_count(slots)),
        // order: relaxed: only a unique number is needed.
        id_(detail::next_histogram_id.fetch_add(1, std::memory_order_relaxed)),
        slots_(std::make_unique<Slot[]>(slot_count_)) {}

  ShardedHistogram(const ShardedHistogram&) = delete;
  ShardedHistogram& operator=(const ShardedHistogram&) = delete;

  // Counts `value` in its bucket and adds it to the sum. Any thread, any time, lock-free;
  // wait-free for a thread with its own slot once it has its index (the first call of a thread
  // takes one with a CAS loop, in the given code). Never loses an observation. Touches only
  // the calling thread's slot (or, for threads beyond the slot count, the shared overflow
  // slot).
  void record([[maybe_unused]] std::uint64_t value) {
    // TODO: count `value` in its bucket and add it to the sum, in my_slot() (this thread's own
    // slot) or, when that is nullptr, in the overflow slot that several threads share; keep
    // every promise snapshot() makes below. Lesson: scaling-histograms.md, "The sharded design"
    // and "Why the snapshot keeps milestone 3's promises". Questions: how many threads write an
    // owned slot, and what does that allow instead of a read-modify-write? What does the shared
    // overflow slot need instead? Which of the two updates comes first, and which one must
    // publish the other to a snapshot that sees it? Write an `// order:` reason for each.
    LAB_TODO("record(): update this thread's slot (or the shared overflow slot) so that a "
             "snapshot never counts an observation without its value (scaling-histograms.md, "
             "\"The sharded design\"). How many writers does each slot have?");
  }

  // The bucket `value` belongs to: the index of the first upper bound >= value, or N (the
  // overflow bucket) when value is above every bound. Any thread. Same result as
  // AtomicHistogram::find_bucket.
  [[nodiscard]] std::size_t find_bucket([[maybe_unused]] std::uint64_t value) const {
    // TODO: the same bucket as milestone 3's find_bucket (the first bound >= value, N past
    // every bound). Milestone 3's search is correct; scaling-histograms.md, "A bucket search
    // without branches", measures what its branches cost. Questions: with random values, how
    // often does a branch of a binary search guess wrong? Can each step choose a half without
    // jumping?
    LAB_TODO("find_bucket(): the first bound >= value, N past every bound (scaling-histograms.md, "
             "\"A bucket search without branches\"). Does your search need to branch?");
  }

  // Copies the bounds and adds up every slot's counts and sums. Any thread, concurrently with
  // record(). The promises of milestone 3's snapshot, slot by slot:
  //  - every counts[i] includes every record() into bucket i that happens before the call, and
  //    never more than the record() calls that had started (C++ promises nothing in real time
  //    beyond that; on real hardware each slot's count is one it held between the call and the
  //    return); a later snapshot taken by the same thread never shows a smaller count;
  //  - every observation the counts include is also in the sum, and whatever a thread did
  //    before record(v) is visible to the thread whose snapshot counts that observation;
  //  - once every writer has finished (for example, its thread joined), the snapshot is exact.
  [[nodiscard]] HistogramSnapshot snapshot() const {
    // TODO: a HistogramSnapshot of the bounds and of every slot's counts and sum added up, the
    // overflow slot included, keeping the promises above. Lesson: scaling-histograms.md, "Why
    // the snapshot keeps milestone 3's promises". Questions: within one slot, which must you
    // read first, the counts or the sum, and why? Which load must synchronize with record(),
    // and with which of its operations? Write an `// order:` reason for each load.
    LAB_TODO("snapshot(): add up every slot, the overflow slot too, so that the sum includes "
             "every counted observation (scaling-histograms.md, \"Why the snapshot keeps "
             "milestone 3's promises\"). Counts or sum first?");
  }

  // The number of exclusive slots (the overflow slot not included).
  [[nodiscard]] std::size_t slot_count() const noexcept { return slot_count_; }

  // The address of slot `i`, for tests that check the cache-line layout; i == slot_count() is
  // the overflow slot. Each slot occupies sizeof(Slot) bytes from there. Throws
  // std::out_of_range beyond that.
  [[nodiscard]] const void* slot_address(std::size_t i) const {
    if (i < slot_count_) return &slots_[i];
    if (i == slot_count_) return &overflow_;
    throw std::out_of_range("ShardedHistogram::slot_address: no slot " + std::to_string(i));
  }

 private:
  // This thread's own slot, or nullptr if it has none. Given code: the fast path is one
  // compare with an entry of the thread's cache.
  Slot* my_slot() noexcept {
    const detail::HistogramSlotCache::Entry& entry =
        detail::histogram_slot_cache.entries[id_ % detail::histogram_slot_cache.entries.size()];
    if (entry.histogram_id == id_) [[likely]] {
      Slot* const mine = static_cast<Slot*>(entry.slot);
      // Only my_slot_slow() fills an entry, and never with nullptr: saying so lets the compiler
      // drop record()'s nullptr test from this path.
      if (mine == nullptr) __builtin_unreachable();
      return mine;
    }
    return my_slot_slow();
  }

  [[gnu::noinline]] Slot* my_slot_slow() noexcept {
    detail::HistogramSlotCache& cache = detail::histogram_slot_cache;
    if (cache.closed) return nullptr;  // the thread is exiting
    std::size_t index = detail::this_thread_index;
    if (index == detail::kUnregistered) index = detail::register_this_thread();
    if (index >= slot_count_) return nullptr;
    detail::close_histogram_cache_at_thread_exit();
    cache.entries[id_ % cache.entries.size()] = {id_, &slots_[index]};
    return &slots_[index];
  }

  static const std::array<std::uint64_t, N>& checked_bounds(
      [[maybe_unused]] const std::array<std::uint64_t, N>& bounds) {
    // TODO: the same contract as milestone 3's constructor: returns `bounds` when they strictly
    // increase, throws std::invalid_argument otherwise (lesson 3, "The overflow bucket, and
    // strictly increasing bounds"). Question: can you say it exactly as you did in milestone 3?
    LAB_TODO("checked_bounds(): milestone 3's rule for bounds (lesson 3, \"The overflow bucket, "
             "and strictly increasing bounds\"). Are equal neighbours allowed?");
  }

  static std::size_t checked_slot_count(std::size_t slots) {
    if (slots == 0 || slots > detail::kMaxThreadIndices) {
      throw std::invalid_argument("ShardedHistogram: slots must be in [1, 256], got " +
                                  std::to_string(slots));
    }
    return slots;
  }

  // Read-only after construction: these may share a line, nobody writes it.
  std::array<std::uint64_t, N> bounds_;
  std::size_t slot_count_;
  std::uint64_t id_;
  std::unique_ptr<Slot[]> slots_;
  // Written by every thread without a slot of its own; a Slot has lines of its own.
  Slot overflow_;
};

}  // namespace metrics
