// m6_bench: what atomics really cost on this machine (Google Benchmark).
//
// Built by the `bench` preset (Release, no sanitizer); `scripts/lab bench` builds it, runs it
// with JSON output and plots ns/op against threads. By hand:
//   cmake --preset bench -DLAB_TRACK_DIR=$PWD/solutions && cmake --build --preset bench --target m6_bench
//   build/bench/checkpoints/06-ordering-benchmarks/m6_bench --benchmark_filter='sharded|shared'
//
// Families (the part of a benchmark's name before the first '/'):
//   One thread, one uncontended atomic (the cost of each operation and order by itself):
//     fetch_add, store, load, cas, ordered_counter
//   1..N threads on ONE shared instance (reported time = wall time / all threads' operations,
//   so perfect scaling halves it from 1 to 2 threads):
//     shared_atomic, m1_atomic_counter, mutex, unpadded_slots, sharded, padded_slots,
//     unpadded_slots_fetch_add, padded_slots_fetch_add, m2_collector, m3_histogram, m4_min_max
//     (padded_slots and padded_slots_fetch_add lay their slots out as your ShardedCounter::Slot)
//   Histograms that scale (lessons/06-ordering-benchmarks/scaling-histograms.md): the same 10
//   bounds and values through
//     atomic_histogram (milestone 3's AtomicHistogram<10>), sharded_histogram (ShardedHistogram<10>),
//     slot_histogram_128, slot_histogram_64, slot_histogram_branchy (bare per-thread slots laid
//     out as your ShardedHistogram<10>::Slot, without the slot lookup, to separate the bucket
//     search and where the slots start), padded_slots_128
//   interval_recorder (the stretch exercise's IntervalRecorder<10>: record() enters and leaves
//   a phase around milestone 3's two adds), and on one thread its reader, take_interval():
//   interval_take/idle (no writer) and interval_take/one_writer (one thread records meanwhile);
//   and, on one thread, the bucket searches by themselves: bucket_search/lower_bound,
//   bucket_search/branch_free, bucket_search/linear; and where the values come from:
//   value_source/xorshift, value_source/table (bench_common.hpp explains the table).
// Every benchmark uses real (wall-clock) time. A benchmark whose code is still a starter TODO
// is reported as an error ("TODO: ...") instead of stopping the program.
#include <benchmark/benchmark.h>

#include "bench_common.hpp"

#include <atomic_counter.hpp>
#include <ordered_counter.hpp>
#include <sharded_counter.hpp>
#include <interval_recorder.hpp>
#include <sharded_histogram.hpp>

#if defined(LAB_HAVE_M2)
#include <metrics_collector.hpp>
#endif
#if defined(LAB_HAVE_M3)
#include <atomic_histogram.hpp>
#endif
#if defined(LAB_HAVE_M4)
#include <atomic_min_max.hpp>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kMaxThreads = 256;

using bench::kHistogramBounds;
using bench::ready;
// Set-up values and the min/max benchmark's values (the histograms use bench::Values).
using bench::Xorshift;

const char* order_name(std::memory_order order) {
  switch (order) {
    case std::memory_order_relaxed: return "relaxed";
    case std::memory_order_consume: return "consume";
    case std::memory_order_acquire: return "acquire";
    case std::memory_order_release: return "release";
    case std::memory_order_acq_rel: return "acq_rel";
    case std::memory_order_seq_cst: return "seq_cst";
  }
  return "?";
}

// --- One thread, one uncontended atomic --------------------------------------------------
// The atomics are static: the compiler may optimize operations on an atomic that nobody else
// can see (a local whose address never escapes), and clang 14 does: it deletes a loop of stores
// to a local std::atomic, even seq_cst ones. Static is not enough when nothing ever stores to
// the atomic: see load() below.

template <std::memory_order Order>
void fetch_add(benchmark::State& state) {
  static std::atomic<std::uint64_t> value{0};
  for (auto _ : state) value.fetch_add(1, Order);
  benchmark::DoNotOptimize(value.load());
  state.SetItemsProcessed(state.iterations());
}

template <std::memory_order Order>
void store(benchmark::State& state) {
  static std::atomic<std::uint64_t> value{0};
  std::uint64_t i = 0;
  for (auto _ : state) value.store(++i, Order);
  benchmark::DoNotOptimize(value.load());
  state.SetItemsProcessed(state.iterations());
}

template <std::memory_order Order>
void load(benchmark::State& state) {
  static std::atomic<std::uint64_t> value{42};
  // Nothing in the program stores to `value`, so clang 14 -O3 treats it as the constant 42 and
  // folds every load, seq_cst included, out of the loop (an empty loop was measured). Handing
  // its address to DoNotOptimize (an asm statement that may write what it points to, and whose
  // "memory" clobber recurs in every iteration below) makes each load read memory again.
  benchmark::DoNotOptimize(&value);
  for (auto _ : state) benchmark::DoNotOptimize(value.load(Order));
  state.SetItemsProcessed(state.iterations());
}

// An increment built from compare_exchange, weak or strong (lesson 4, "Weak or strong"), with
// the default order: on x86-64 every order of a compare-exchange is the same lock cmpxchg.
template <bool Weak>
void cas(benchmark::State& state) {
  static std::atomic<std::uint64_t> value{0};
  for (auto _ : state) {
    std::uint64_t seen = value.load();
    if constexpr (Weak) {
      while (!value.compare_exchange_weak(seen, seen + 1)) {
      }
    } else {
      while (!value.compare_exchange_strong(seen, seen + 1)) {
      }
    }
  }
  benchmark::DoNotOptimize(value.load());
  state.SetItemsProcessed(state.iterations());
}

template <std::memory_order Order>
void ordered_counter(benchmark::State& state) {
  metrics::OrderedCounter<Order> counter;
  const bool ok = ready(state, [&] { counter.increment(); });
  for (auto _ : state) {
    if (ok) counter.increment();
  }
  if (ok) benchmark::DoNotOptimize(counter.get());
  state.SetItemsProcessed(state.iterations());
}

// --- N threads, one shared instance -------------------------------------------------------

void shared_atomic(benchmark::State& state) {
  static std::atomic<std::uint64_t> shared{0};
  // The default order: on x86-64 every order of fetch_add is the same locked add
  // (its result unused: lock add).
  for (auto _ : state) shared.fetch_add(1);
  state.SetItemsProcessed(state.iterations());
}

void sharded(benchmark::State& state) {
  static metrics::ShardedCounter counter;  // one instance for every thread and thread count
  const bool ok = ready(state, [&] { counter.increment(); });
  for (auto _ : state) {
    if (ok) counter.increment();
  }
  state.SetItemsProcessed(state.iterations());
}

// The layout experiment. Each benchmark thread owns one 8-byte word of a static array and adds 1
// to it in place; nothing reads the words while the benchmark runs, so a plain word works
// here (a count that another thread reads while its owner writes it is another matter: lesson 6,
// "A broken example"). ClobberMemory() makes the compiler store the word on every iteration
// instead of adding the iteration count once at the end. The families differ only in how far
// apart the words are, and where the first one starts:
//   unpadded_slots    8 bytes apart from a line boundary: eight threads' words share a line
//   padded_slots      laid out as an array of YOUR metrics::ShardedCounter::Slot: sizeof(Slot)
//                     bytes apart, from an address aligned as a Slot. It measures your layout:
//                     while Slot is the starter's, it is unpadded_slots again (eight to a line).
//   padded_slots_128  128 bytes apart from a 128-byte boundary (see padded_slots_128 below)
// (How much false sharing costs these plain adds differs between machines: little on the
// lesson's, about ten times on the machine of scaling-histograms.md. Why is not known here; the
// lesson, "Measured on this machine", says what would have to be checked. The locked
// instructions of *_fetch_add pay for it on both.)
template <std::size_t Stride, std::size_t Align>
void own_word_loop(benchmark::State& state) {
  static_assert(Stride % sizeof(std::uint64_t) == 0 && Align % alignof(std::uint64_t) == 0);
  constexpr std::size_t kApart = Stride / sizeof(std::uint64_t);  // in words
  alignas(Align) static std::array<std::uint64_t, kMaxThreads * kApart> words{};
  std::uint64_t* mine = &words[static_cast<std::size_t>(state.thread_index()) * kApart];
  // The word's address computed once, outside the timed loop.
  benchmark::DoNotOptimize(mine);
  for (auto _ : state) {
    ++*mine;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

using CounterSlot = metrics::ShardedCounter::Slot;  // yours

void unpadded_slots(benchmark::State& state) {
  own_word_loop<sizeof(std::uint64_t), metrics::ShardedCounter::kCacheLine>(state);
}

// With a Slot that keeps every slot on a line of its own: the ceiling for any per-thread
// counter (one word per line, no lookup of the calling thread's slot).
void padded_slots(benchmark::State& state) {
  own_word_loop<sizeof(CounterSlot), alignof(CounterSlot)>(state);
}

// The same two layouts incremented with fetch_add, as a "thread index % shards" design must
// (two threads may share a shard): 8-byte atomics side by side, and an array of your Slot.
// Padded: no contention at all, yet every increment pays for the locked instruction.
// Unpadded: a locked instruction needs the line right now, so false sharing costs as much as
// sharing one atomic.
template <class Slots>
void own_slot_fetch_add_loop(benchmark::State& state, Slots& slots) {
  std::atomic<std::uint64_t>* mine = &slots[static_cast<std::size_t>(state.thread_index())].value;
  benchmark::DoNotOptimize(mine);
  // The default order: on x86-64 every order of fetch_add is the same locked add (its result
  // unused: lock add; lessons/06-ordering-benchmarks/asm_orders.md); the locked instruction is
  // what is measured.
  for (auto _ : state) mine->fetch_add(1);
  state.SetItemsProcessed(state.iterations());
}

struct PackedSlot {
  std::atomic<std::uint64_t> value{0};
};
static_assert(sizeof(PackedSlot) == 8);

void unpadded_slots_fetch_add(benchmark::State& state) {
  alignas(metrics::ShardedCounter::kCacheLine) static std::array<PackedSlot, kMaxThreads> slots{};
  own_slot_fetch_add_loop(state, slots);
}

void padded_slots_fetch_add(benchmark::State& state) {
  static std::array<CounterSlot, kMaxThreads> slots{};
  own_slot_fetch_add_loop(state, slots);
}

// The adjacent-line prefetcher of Intel cores fetches cache lines in 128-byte aligned pairs:
// two threads writing the two lines of one pair may still disturb each other. The same
// padded_slots loop with each word on a 128-byte pair of its own.
void padded_slots_128(benchmark::State& state) { own_word_loop<128, 128>(state); }

// --- Histograms: the same 10 bounds and values for every kind ----------------------------

metrics::ShardedHistogram<10>& sharded_histogram_instance() {
  static metrics::ShardedHistogram<10> h(kHistogramBounds);
  return h;
}

void sharded_histogram(benchmark::State& state) {
  metrics::ShardedHistogram<10>* h = nullptr;  // the constructor may be a starter TODO too
  const bool ok = ready(state, [&] {
    h = &sharded_histogram_instance();
    h->record(1);
  });
  bench::Values values(state.thread_index());
  for (auto _ : state) {
    if (ok) h->record(values.next());
  }
  state.SetItemsProcessed(state.iterations());
}

// The stretch exercise's IntervalRecorder: the writer's cost at 1..N threads (same values as
// the other histograms), and the reader's take_interval() latency.
metrics::IntervalRecorder<10>& interval_recorder_instance() {
  static metrics::IntervalRecorder<10> r(kHistogramBounds);
  return r;
}

void interval_recorder(benchmark::State& state) {
  metrics::IntervalRecorder<10>* r = nullptr;
  const bool ok = ready(state, [&] {
    r = &interval_recorder_instance();
    r->record(1);
  });
  bench::Values values(state.thread_index());
  for (auto _ : state) {
    if (ok) r->record(values.next());
  }
  state.SetItemsProcessed(state.iterations());
}

// take_interval() on the benchmark thread while `Writers` other threads record without pause
// (each interval then holds whatever they recorded since the previous call).
template <int Writers>
void interval_take(benchmark::State& state) {
  static metrics::IntervalRecorder<10>* r = nullptr;
  const bool ok = ready(state, [&] {
    static metrics::IntervalRecorder<10> instance(kHistogramBounds);
    r = &instance;
    r->record(1);
    (void)r->take_interval();
  });
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; ok && w < Writers; ++w) {
    writers.emplace_back([&stop, w] {
      bench::Values values(w + 1);
      // order: relaxed: a stop flag; the join orders everything else.
      while (!stop.load(std::memory_order_relaxed)) r->record(values.next());
    });
  }
  for (auto _ : state) {
    if (ok) benchmark::DoNotOptimize(r->take_interval());
  }
  // order: relaxed: as above.
  stop.store(true, std::memory_order_relaxed);
  for (std::thread& t : writers) t.join();
  state.SetItemsProcessed(state.iterations());
}

// Where the histogram benchmarks' values come from, by itself, one thread: xorshift64 in the
// loop (each value depends on the one before) against the precomputed table (bench_common.hpp).
void value_source_xorshift(benchmark::State& state) {
  Xorshift random(1);
  for (auto _ : state) benchmark::DoNotOptimize(random.next() & 1023);
  state.SetItemsProcessed(state.iterations());
}

void value_source_table(benchmark::State& state) {
  bench::Values values(0);
  for (auto _ : state) benchmark::DoNotOptimize(values.next());
  state.SetItemsProcessed(state.iterations());
}

// The bucket search by itself, one thread: std::lower_bound (a branch per step, which
// mispredicts on random values) against ShardedHistogram::find_bucket (a conditional move).
void bucket_search_lower_bound(benchmark::State& state) {
  bench::Values values(0);
  for (auto _ : state) {
    const std::uint64_t v = values.next();
    benchmark::DoNotOptimize(
        std::lower_bound(kHistogramBounds.begin(), kHistogramBounds.end(), v));
  }
  state.SetItemsProcessed(state.iterations());
}

// Branch-free too, but linear: count the bounds below the value (ten compares).
void bucket_search_linear(benchmark::State& state) {
  bench::Values values(0);
  const std::uint64_t* bounds = kHistogramBounds.data();
  benchmark::DoNotOptimize(bounds);
  for (auto _ : state) {
    const std::uint64_t v = values.next();
    std::size_t bucket = 0;
    for (std::size_t i = 0; i < kHistogramBounds.size(); ++i) {
      bucket += static_cast<std::size_t>(bounds[i] < v);
    }
    benchmark::DoNotOptimize(bucket);
  }
  state.SetItemsProcessed(state.iterations());
}

void bucket_search_branch_free(benchmark::State& state) {
  metrics::ShardedHistogram<10>* h = nullptr;
  const bool ok = ready(state, [&] {
    h = &sharded_histogram_instance();
    (void)h->find_bucket(1);
  });
  bench::Values values(0);
  for (auto _ : state) {
    if (ok) benchmark::DoNotOptimize(h->find_bucket(values.next()));
  }
  state.SetItemsProcessed(state.iterations());
}

// Bare per-thread histogram slots (each benchmark thread owns slot thread_index(), no slot
// lookup), so that the bucket search and where the slots start can be varied one at a time.
// Thread t's 11 counts and its sum are plain words (nothing reads them while the benchmark runs,
// as in own_word_loop) laid out as element t of an array of YOUR ShardedHistogram<10>::Slot:
// sizeof(Slot) bytes per thread, the counts first, then the sum. The array starts on a 128-byte
// boundary (Lead 0: slot_histogram_128, slot_histogram_branchy) or 64 bytes past one (Lead 64:
// slot_histogram_64); whether neighbouring slots then share a prefetcher pair is the question of
// scaling-histograms.md, "64 or 128 bytes of padding". The branch-free search is your
// ShardedHistogram::find_bucket, the branchy one std::lower_bound.
using HistogramSlot = metrics::ShardedHistogram<10>::Slot;  // yours
constexpr std::size_t kSlotWords = sizeof(HistogramSlot) / sizeof(std::uint64_t);
static_assert(sizeof(HistogramSlot) % sizeof(std::uint64_t) == 0 && kSlotWords >= 12);

template <std::size_t Lead, bool BranchFree>
void slot_histogram(benchmark::State& state) {
  static_assert(Lead % sizeof(std::uint64_t) == 0);
  constexpr std::size_t kLeadWords = Lead / sizeof(std::uint64_t);
  alignas(128) static std::array<std::uint64_t, kLeadWords + kMaxThreads * kSlotWords> words{};
  const auto thread = static_cast<std::size_t>(state.thread_index());
  std::uint64_t* mine = &words[kLeadWords + thread * kSlotWords];
  benchmark::DoNotOptimize(mine);
  bench::Values values(state.thread_index());
  const std::uint64_t* bounds = kHistogramBounds.data();
  const metrics::ShardedHistogram<10>* h = nullptr;  // its constructor may be a starter TODO too
  bool ok = true;
  if constexpr (BranchFree) {
    ok = ready(state, [&] {
      h = &sharded_histogram_instance();
      (void)h->find_bucket(1);
    });
    benchmark::DoNotOptimize(h);
  } else {
    benchmark::DoNotOptimize(bounds);
  }
  for (auto _ : state) {
    if (!ok) continue;
    const std::uint64_t v = values.next();
    std::size_t bucket;
    if constexpr (BranchFree) {
      bucket = h->find_bucket(v);
    } else {
      bucket = static_cast<std::size_t>(std::lower_bound(bounds, bounds + 10, v) - bounds);
    }
    benchmark::ClobberMemory();  // the previous iteration's update has reached memory
    ++mine[bucket];
    mine[kHistogramBounds.size() + 1] += v;  // the sum, after the 11 counts
  }
  state.SetItemsProcessed(state.iterations());
}

void mutex(benchmark::State& state) {
  static std::mutex lock;
  static std::uint64_t count = 0;
  for (auto _ : state) {
    const std::scoped_lock guard(lock);
    ++count;
  }
  state.SetItemsProcessed(state.iterations());
}

void m1_atomic_counter(benchmark::State& state) {
  static metrics::AtomicCounter counter;
  const bool ok = ready(state, [&] { counter.increment(); });
  for (auto _ : state) {
    if (ok) counter.increment();
  }
  state.SetItemsProcessed(state.iterations());
}

#if defined(LAB_HAVE_M2)
void m2_collector(benchmark::State& state) {
  static metrics::MetricsCollector collector;
  const bool ok = ready(state, [&] { collector.record_request(); });
  for (auto _ : state) {
    if (ok) collector.record_request();
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

#if defined(LAB_HAVE_M3)
metrics::AtomicHistogram<8>& histogram() {
  static metrics::AtomicHistogram<8> h(std::array<std::uint64_t, 8>{1, 2, 5, 10, 20, 50, 100, 200});
  return h;
}

void m3_histogram(benchmark::State& state) {
  const bool ok = ready(state, [] { histogram().record(1); });
  Xorshift random(static_cast<std::uint64_t>(state.thread_index()) + 1);
  for (auto _ : state) {
    if (ok) histogram().record(random.next() & 255);
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

#if defined(LAB_HAVE_M3)
// Milestone 3's histogram with the sharded histogram's bounds and values.
metrics::AtomicHistogram<10>& atomic_histogram_instance() {
  static metrics::AtomicHistogram<10> h(kHistogramBounds);
  return h;
}

void atomic_histogram(benchmark::State& state) {
  metrics::AtomicHistogram<10>* h = nullptr;  // the constructor may be a starter TODO too
  const bool ok = ready(state, [&] {
    h = &atomic_histogram_instance();
    h->record(1);
  });
  bench::Values values(state.thread_index());
  for (auto _ : state) {
    if (ok) h->record(values.next());
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

#if defined(LAB_HAVE_M4)
void m4_min_max(benchmark::State& state) {
  static metrics::AtomicMinMax bounds;
  const bool ok = ready(state, [] { bounds.update(500); });
  Xorshift random(static_cast<std::uint64_t>(state.thread_index()) + 1);
  for (auto _ : state) {
    if (ok) bounds.update(random.next() & 1023);
  }
  state.SetItemsProcessed(state.iterations());
}
#endif

std::vector<int> thread_counts() {
  const int hw = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
  std::vector<int> counts;
  for (int t = 1; t <= hw; ++t) counts.push_back(t);
  if (hw > 1) counts.push_back(2 * hw);  // oversubscribed: more threads than CPUs
  return counts;
}

void add_single(const std::string& name, void (*fn)(benchmark::State&)) {
  benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime();
}

void add_scaling(const std::string& name, void (*fn)(benchmark::State&)) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn)->UseRealTime();
  for (const int t : thread_counts()) b->Threads(t);
}

template <std::memory_order Order>
std::string named(const char* family) {
  return std::string(family) + "/" + order_name(Order);
}

void register_all() {
  std::string families;
  auto single = [&](const char* family) { families += std::string(family) + ","; };
  single("fetch_add");
  add_single(named<std::memory_order_relaxed>("fetch_add"), fetch_add<std::memory_order_relaxed>);
  add_single(named<std::memory_order_acq_rel>("fetch_add"), fetch_add<std::memory_order_acq_rel>);
  add_single(named<std::memory_order_seq_cst>("fetch_add"), fetch_add<std::memory_order_seq_cst>);
  single("store");
  add_single(named<std::memory_order_relaxed>("store"), store<std::memory_order_relaxed>);
  add_single(named<std::memory_order_release>("store"), store<std::memory_order_release>);
  add_single(named<std::memory_order_seq_cst>("store"), store<std::memory_order_seq_cst>);
  single("load");
  add_single(named<std::memory_order_relaxed>("load"), load<std::memory_order_relaxed>);
  add_single(named<std::memory_order_acquire>("load"), load<std::memory_order_acquire>);
  add_single(named<std::memory_order_seq_cst>("load"), load<std::memory_order_seq_cst>);
  single("cas");
  add_single("cas/weak", cas<true>);
  add_single("cas/strong", cas<false>);
  single("ordered_counter");
  add_single(named<std::memory_order_relaxed>("ordered_counter"),
             ordered_counter<std::memory_order_relaxed>);
  add_single(named<std::memory_order_acq_rel>("ordered_counter"),
             ordered_counter<std::memory_order_acq_rel>);
  add_single(named<std::memory_order_seq_cst>("ordered_counter"),
             ordered_counter<std::memory_order_seq_cst>);

  single("value_source");
  add_single("value_source/xorshift", value_source_xorshift);
  add_single("value_source/table", value_source_table);
  single("bucket_search");
  add_single("bucket_search/lower_bound", bucket_search_lower_bound);
  add_single("bucket_search/branch_free", bucket_search_branch_free);
  add_single("bucket_search/linear", bucket_search_linear);

  auto scaling = [&](const char* family, void (*fn)(benchmark::State&)) {
    families += std::string(family) + ",";
    add_scaling(family, fn);
  };
  scaling("shared_atomic", shared_atomic);
  scaling("sharded", sharded);
  scaling("unpadded_slots", unpadded_slots);
  scaling("padded_slots", padded_slots);
  scaling("unpadded_slots_fetch_add", unpadded_slots_fetch_add);
  scaling("padded_slots_fetch_add", padded_slots_fetch_add);
  scaling("mutex", mutex);
  scaling("m1_atomic_counter", m1_atomic_counter);
#if defined(LAB_HAVE_M2)
  scaling("m2_collector", m2_collector);
#endif
#if defined(LAB_HAVE_M3)
  scaling("m3_histogram", m3_histogram);
#endif
#if defined(LAB_HAVE_M4)
  scaling("m4_min_max", m4_min_max);
#endif
  scaling("padded_slots_128", padded_slots_128);
#if defined(LAB_HAVE_M3)
  scaling("atomic_histogram", atomic_histogram);
#endif
  scaling("sharded_histogram", sharded_histogram);
  scaling("interval_recorder", interval_recorder);
  single("interval_take");
  add_single("interval_take/idle", interval_take<0>);
  add_single("interval_take/one_writer", interval_take<1>);
  scaling("slot_histogram_128", slot_histogram<0, true>);
  scaling("slot_histogram_64", slot_histogram<64, true>);
  scaling("slot_histogram_branchy", slot_histogram<0, false>);
  families.pop_back();
  benchmark::AddCustomContext("lab_families", families);
#if defined(LAB_TRACK_DIR)
  benchmark::AddCustomContext("lab_track", LAB_TRACK_DIR);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
