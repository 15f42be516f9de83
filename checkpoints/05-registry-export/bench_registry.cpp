// bench_registry.cpp: milestone 5 benchmarks (Google Benchmark; built by the `bench` preset).
//
//   BM_SnapshotAll        snapshot_all() of 1,000 collectors + 100 histograms (10 bounds each)
//   BM_RenderPrometheus   to_prometheus() of that snapshot
//   BM_RenderOpenMetrics  to_openmetrics() of that snapshot
//   BM_Scrape             snapshot_all() + to_prometheus(): what one /metrics scrape costs
//   BM_StopLatency        stop() of an exporter with a 60 s interval, waiting in its wait
//   registry_mutex/P, registry_shared_mutex/P, registry_cow/P (at 1, 2, 4 threads)
//                         snapshot_all()-style reads of 1,000 counters, with P % of the
//                         operations registrations (P = 0, 1, 10), for a map behind a
//                         std::mutex, behind a std::shared_mutex, and copy-on-write with hazard
//                         pointers (lessons/05-registry-export/examples/cow_hazard.hpp)
//   once_call_once, once_local_static
//                         the cost of std::call_once / a function-local static after the first
//                         call (the lesson's "Once" section)
//   pool_new_delete, pool_shared, pool_thread_cache (at 1, 2, 4 threads)
//                         get + render + put of a 4 KiB buffer: new/delete, one shared pool
//                         behind a mutex, a per-thread cache in front of it
//                         (lessons/05-registry-export/examples/object_pool.hpp)
//
//   cmake --preset bench -B build/bench -DLAB_TRACK_DIR=$PWD/solutions
//   cmake --build build/bench --target m5_bench && build/bench/checkpoints/05-registry-export/m5_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include <metrics_registry.hpp>

#include "cow_hazard.hpp"   // lessons/05-registry-export/examples/: the lesson's code, measured
#include "object_pool.hpp"  // (same folder)

namespace {

constexpr int kCollectors = 1000;
constexpr int kHistograms = 100;

// A registry with kCollectors collectors and kHistograms histograms, all with data.
const metrics::MetricsRegistry& big_registry() {
  static const auto registry = [] {
    auto r = std::make_unique<metrics::MetricsRegistry>(std::chrono::hours(1));
    for (int i = 0; i < kCollectors; ++i) {
      const auto c = r->register_collector("service_" + std::to_string(i));
      for (int k = 0; k <= i % 7; ++k) c->record_request();
      c->record_bytes(static_cast<std::uint64_t>(i) * 1000);
      c->connection_opened();
    }
    for (int i = 0; i < kHistograms; ++i) {
      const auto h = r->register_histogram(
          "op_" + std::to_string(i) + "_duration_seconds",
          std::array<std::uint64_t, 10>{100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000,
                                        50'000, 100'000},
          metrics::Unit::microseconds);
      for (std::uint64_t v = 0; v < 200; ++v) h->record(v * 517 + static_cast<std::uint64_t>(i));
    }
    return r;
  }();
  return *registry;
}

void BM_SnapshotAll(benchmark::State& state) {
  const auto& registry = big_registry();
  for (auto _ : state) benchmark::DoNotOptimize(registry.snapshot_all());
}
BENCHMARK(BM_SnapshotAll)->Unit(benchmark::kMicrosecond);

void BM_RenderPrometheus(benchmark::State& state) {
  const metrics::FullSnapshot snapshot = big_registry().snapshot_all();
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = snapshot.to_prometheus();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_RenderPrometheus)->Unit(benchmark::kMicrosecond);

void BM_RenderOpenMetrics(benchmark::State& state) {
  const metrics::FullSnapshot snapshot = big_registry().snapshot_all();
  for (auto _ : state) {
    const std::string text = snapshot.to_openmetrics();
    benchmark::DoNotOptimize(text.data());
  }
}
BENCHMARK(BM_RenderOpenMetrics)->Unit(benchmark::kMicrosecond);

void BM_Scrape(benchmark::State& state) {
  const auto& registry = big_registry();
  for (auto _ : state) {
    const std::string text = registry.snapshot_all().to_prometheus();
    benchmark::DoNotOptimize(text.data());
  }
}
BENCHMARK(BM_Scrape)->Unit(benchmark::kMicrosecond);

// Each iteration starts an exporter with a 60 s interval, gives its thread 2 ms to reach the
// wait (not timed), then times stop(), which by its contract returns only once the thread has
// woken and exited.
void BM_StopLatency(benchmark::State& state) {
  double worst_us = 0;
  for (auto _ : state) {
    metrics::MetricsRegistry registry(std::chrono::seconds(60));
    registry.start_export([](const metrics::FullSnapshot&) {});
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const auto start = std::chrono::steady_clock::now();
    registry.stop();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    state.SetIterationTime(took.count());
    worst_us = std::max(worst_us, took.count() * 1e6);
  }
  state.counters["worst_us"] = worst_us;
}
BENCHMARK(BM_StopLatency)->UseManualTime()->Unit(benchmark::kMicrosecond)->Iterations(200);

// --- Registry reads against registrations: std::mutex, std::shared_mutex, copy-on-write ------
// One shared map of kReadMetrics counters. An operation is a read (copy every counter's
// value) or, for P % of the operations, a registration (one of 64
// extra names gets a new counter: the map's size stays put, so every run reads the same map).
// ns/op is wall time over all threads' operations (UseRealTime), like m6_bench's scaling table.

constexpr int kReadMetrics = 1000;
using CounterMap = std::map<std::string, std::shared_ptr<std::atomic<std::uint64_t>>>;

CounterMap counter_map() {
  CounterMap map;
  for (int i = 0; i < kReadMetrics; ++i)
    map.emplace("service_" + std::to_string(i),
                std::make_shared<std::atomic<std::uint64_t>>(static_cast<std::uint64_t>(i)));
  return map;
}

void copy_values(const CounterMap& map, std::vector<std::uint64_t>& out) {
  out.clear();
  // order: relaxed: this benchmark compares the guards of the map; it needs each value, in no
  // order with anything else.
  for (const auto& [name, counter] : map) out.push_back(counter->load(std::memory_order_relaxed));
}

// The map behind a lock: ReadLock is how a reader holds it (unique_lock: alone; shared_lock:
// with other readers); a registration always holds it alone. Two of the three candidates the
// lesson measures; which one (if any) fits the milestone's registry is the exercise's decision.
template <class Mutex, class ReadLock>
struct LockedRegistry {
  struct Reader {};
  Mutex mutex;
  CounterMap map = counter_map();
  Reader reader() { return {}; }
  void read(Reader&, std::vector<std::uint64_t>& out) {
    const ReadLock lock(mutex);
    copy_values(map, out);
  }
  void add(const std::string& name) {
    auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
    const std::unique_lock lock(mutex);
    map[name] = std::move(counter);
  }
};
using MutexRegistry = LockedRegistry<std::mutex, std::unique_lock<std::mutex>>;
using SharedMutexRegistry = LockedRegistry<std::shared_mutex, std::shared_lock<std::shared_mutex>>;

struct CowRegistry {
  using Reader = lab_cow::HazardPointer;
  lab_cow::CowValue<CounterMap> value{counter_map()};
  Reader reader() { return value.make_hazard_pointer(); }
  void read(Reader& hp, std::vector<std::uint64_t>& out) {
    value.read(hp, [&](const CounterMap& map) { copy_values(map, out); });
  }
  void add(const std::string& name) {
    auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
    value.update([&](CounterMap& map) { map[name] = counter; });
  }
};

const std::vector<std::string>& extra_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int i = 0; i < 64; ++i) v.push_back("extra_" + std::to_string(i));
    return v;
  }();
  return names;
}

template <class Registry>
void BM_RegistryRead(benchmark::State& state) {
  static Registry registry;  // one per kind, shared by the threads of every run
  const auto& names = extra_names();
  const auto percent = static_cast<std::uint64_t>(state.range(0));
  auto reader = registry.reader();
  std::vector<std::uint64_t> out;
  out.reserve(kReadMetrics + names.size());
  std::uint64_t i = static_cast<std::uint64_t>(state.thread_index()) * 37;
  for (auto _ : state) {
    if (i % 100 < percent) {
      registry.add(names[i % names.size()]);
    } else {
      registry.read(reader, out);
      benchmark::DoNotOptimize(out.data());
    }
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
}

template <class Registry>
void register_registry_reads(const char* family) {
  for (const int percent : {0, 1, 10}) {
    auto* b = benchmark::RegisterBenchmark(family, BM_RegistryRead<Registry>);  // name/P/...
    b->Arg(percent)->UseRealTime()->Unit(benchmark::kMicrosecond);
    for (const int threads : {1, 2, 4}) b->Threads(threads);
  }
}

// --- Once: what a call costs after the first one ---------------------------------------------
std::once_flag bench_once;
int once_value = 0;

void BM_CallOnce(benchmark::State& state) {
  for (auto _ : state) {
    std::call_once(bench_once, [] { once_value = 42; });
    benchmark::DoNotOptimize(once_value);
  }
}

const std::string& local_static() {
  static const std::string value = std::to_string(42);  // a dynamic initializer: guarded
  return value;
}

void BM_LocalStatic(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(local_static().data());
}

// --- Object pools: a 4 KiB render buffer per operation --------------------------------------
struct RenderBuffer {
  std::string text;
  RenderBuffer() { text.reserve(4096); }
};

void render_into(RenderBuffer& b, std::uint64_t i) {
  b.text.clear();
  b.text += "http_requests_total ";
  b.text += std::to_string(i);
  benchmark::DoNotOptimize(b.text.data());
}

void BM_PoolNewDelete(benchmark::State& state) {
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto b = std::make_unique<RenderBuffer>();
    render_into(*b, ++i);
  }
  state.SetItemsProcessed(state.iterations());
}

lab_pool::SharedPool<RenderBuffer>& bench_pool() {
  static lab_pool::SharedPool<RenderBuffer> pool;
  return pool;
}

void BM_PoolShared(benchmark::State& state) {
  auto& pool = bench_pool();
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto b = pool.get();
    render_into(*b, ++i);
    pool.put(std::move(b));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PoolThreadCache(benchmark::State& state) {
  lab_pool::ThreadCache<RenderBuffer> cache(bench_pool());
  std::uint64_t i = 0;
  for (auto _ : state) {
    auto b = cache.get();
    render_into(*b, ++i);
    cache.put(std::move(b));
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("once_call_once", BM_CallOnce);
  benchmark::RegisterBenchmark("once_local_static", BM_LocalStatic);
  for (const auto& [name, fn] : {std::pair{"pool_new_delete", &BM_PoolNewDelete},
                                 std::pair{"pool_shared", &BM_PoolShared},
                                 std::pair{"pool_thread_cache", &BM_PoolThreadCache}}) {
    auto* b = benchmark::RegisterBenchmark(name, fn)->UseRealTime();
    for (const int threads : {1, 2, 4}) b->Threads(threads);
  }
  register_registry_reads<MutexRegistry>("registry_mutex");
  register_registry_reads<SharedMutexRegistry>("registry_shared_mutex");
  register_registry_reads<CowRegistry>("registry_cow");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
