// m6_prometheus_bench: the course's metrics and prometheus-cpp, same workloads, one run.
//
// Built only when `find_package(prometheus-cpp CONFIG)` finds an installed prometheus-cpp
// (the build never fetches or vendors it) and the track has milestones 2-6. How an instructor
// installs prometheus-cpp and runs this: lessons/06-ordering-benchmarks/scaling-histograms.md,
// "Side by side with prometheus-cpp". In short:
//   scripts/lab bench --track solutions --prometheus /path/to/prometheus-cpp/install
//
// Families (the part of a benchmark's name before the first '/'):
//   1, 2 and 4 threads on one shared instance (wall time / all threads' operations):
//     prom_counter         prometheus::Counter::Increment()
//     m2_collector         MetricsCollector::record_request()            (milestone 2)
//     sharded              ShardedCounter::increment()                   (milestone 6)
//     prom_histogram       prometheus::Histogram::Observe()  (a mutex inside)
//     atomic_histogram     AtomicHistogram<10>::record()                  (milestone 3)
//     sharded_histogram    ShardedHistogram<10>::record()                 (milestone 6)
//   One thread, a whole scrape: 250 collectors (3 counters and a gauge each) and 100
//   histograms of 10 buckets, rendered to Prometheus text:
//     render/prometheus_cpp     Registry::Collect() + TextSerializer
//     render/atomic_histogram   MetricsRegistry::snapshot_all().to_prometheus()
//     render/sharded_histogram  the same with ShardedHistograms
// The histograms get the same 10 bounds and the same values (bench_common.hpp) everywhere.
#include <benchmark/benchmark.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "bench_common.hpp"

#include <atomic_histogram.hpp>
#include <metrics_collector.hpp>
#include <metrics_registry.hpp>
#include <sharded_counter.hpp>
#include <sharded_histogram.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using bench::ready;
using bench::Xorshift;
constexpr const std::array<std::uint64_t, 10>& kBounds = bench::kHistogramBounds;
constexpr int kCollectors = 250;
constexpr int kHistograms = 100;

// Set-up values (the timed loops use bench::Values).
inline std::uint64_t value(Xorshift& random) noexcept { return random.next() & 1023; }

prometheus::Histogram::BucketBoundaries prometheus_bounds() {
  return {kBounds.begin(), kBounds.end()};
}

// --- Hot paths, 1..N threads ------------------------------------------------------------------

prometheus::Registry& hot_registry() {
  static prometheus::Registry registry;
  return registry;
}

void prom_counter(benchmark::State& state) {
  static prometheus::Counter& counter =
      prometheus::BuildCounter().Name("bench_requests_total").Help("h").Register(hot_registry()).Add({});
  for (auto _ : state) counter.Increment();
  state.SetItemsProcessed(state.iterations());
}

void m2_collector(benchmark::State& state) {
  static metrics::MetricsCollector collector;
  const bool ok = ready(state, [] { collector.record_request(); });
  for (auto _ : state) {
    if (ok) collector.record_request();
  }
  state.SetItemsProcessed(state.iterations());
}

void sharded(benchmark::State& state) {
  static metrics::ShardedCounter counter;
  const bool ok = ready(state, [] { counter.increment(); });
  for (auto _ : state) {
    if (ok) counter.increment();
  }
  state.SetItemsProcessed(state.iterations());
}

void prom_histogram(benchmark::State& state) {
  static prometheus::Histogram& histogram = prometheus::BuildHistogram()
                                                .Name("bench_latency")
                                                .Help("h")
                                                .Register(hot_registry())
                                                .Add({}, prometheus_bounds());
  bench::Values values(state.thread_index());
  for (auto _ : state) histogram.Observe(static_cast<double>(values.next()));
  state.SetItemsProcessed(state.iterations());
}

// One instance for every thread and thread count. Made inside ready(): with a starter the
// constructor itself may be a TODO that throws.
template <template <std::size_t> class Histogram>
Histogram<10>& histogram_instance() {
  static Histogram<10> histogram(kBounds);
  return histogram;
}

template <template <std::size_t> class Histogram>
void histogram_record(benchmark::State& state) {
  Histogram<10>* histogram = nullptr;
  const bool ok = ready(state, [&] {
    histogram = &histogram_instance<Histogram>();
    histogram->record(1);
  });
  bench::Values values(state.thread_index());
  for (auto _ : state) {
    if (ok) histogram->record(values.next());
  }
  state.SetItemsProcessed(state.iterations());
}

// --- A whole scrape, one thread -----------------------------------------------------------------

void render_prometheus_cpp(benchmark::State& state) {
  prometheus::Registry registry;
  Xorshift random(1);
  for (int c = 0; c < kCollectors; ++c) {
    const std::string name = "svc" + std::to_string(c);
    for (const char* counter : {"_requests_total", "_errors_total", "_bytes_sent_total"}) {
      prometheus::BuildCounter().Name(name + counter).Help(name + counter).Register(registry)
          .Add({}).Increment(static_cast<double>(value(random)));
    }
    prometheus::BuildGauge().Name(name + "_active_connections").Help(name).Register(registry)
        .Add({}).Set(static_cast<double>(value(random) % 10));
  }
  for (int h = 0; h < kHistograms; ++h) {
    auto& histogram = prometheus::BuildHistogram()
                          .Name("lat" + std::to_string(h))
                          .Help("lat")
                          .Register(registry)
                          .Add({}, prometheus_bounds());
    for (int i = 0; i < 100; ++i) histogram.Observe(static_cast<double>(value(random)));
  }
  const prometheus::TextSerializer serializer;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string text = serializer.Serialize(registry.Collect());
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

template <template <std::size_t> class Histogram>
void render_ours(benchmark::State& state) {
  metrics::MetricsRegistry registry(std::chrono::seconds(60));
  std::size_t bytes = 0;
  const bool ok = ready(state, [&] {
    Xorshift random(1);
    for (int c = 0; c < kCollectors; ++c) {
      auto collector = registry.register_collector("svc" + std::to_string(c));
      for (std::uint64_t i = value(random); i > 0; --i) collector->record_request();
      for (std::uint64_t i = value(random); i > 0; --i) collector->record_error();
      collector->record_bytes(value(random));
      for (std::uint64_t i = value(random) % 10; i > 0; --i) collector->connection_opened();
    }
    for (int h = 0; h < kHistograms; ++h) {
      auto histogram = registry.register_histogram<Histogram>("lat" + std::to_string(h), kBounds);
      for (int i = 0; i < 100; ++i) histogram->record(value(random));
    }
    (void)registry.snapshot_all().to_prometheus();
  });
  for (auto _ : state) {
    if (!ok) continue;
    const std::string text = registry.snapshot_all().to_prometheus();
    bytes = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

void register_all() {
  auto scaling = [](const char* name, void (*fn)(benchmark::State&)) {
    auto* b = benchmark::RegisterBenchmark(name, fn)->UseRealTime();
    for (const int t : {1, 2, 4}) b->Threads(t);
  };
  scaling("prom_counter", prom_counter);
  scaling("m2_collector", m2_collector);
  scaling("sharded", sharded);
  scaling("prom_histogram", prom_histogram);
  scaling("atomic_histogram", histogram_record<metrics::AtomicHistogram>);
  scaling("sharded_histogram", histogram_record<metrics::ShardedHistogram>);
  benchmark::RegisterBenchmark("render/prometheus_cpp", render_prometheus_cpp)
      ->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("render/atomic_histogram", render_ours<metrics::AtomicHistogram>)
      ->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("render/sharded_histogram", render_ours<metrics::ShardedHistogram>)
      ->UseRealTime()->Unit(benchmark::kMicrosecond);
  benchmark::AddCustomContext(
      "lab_families",
      "prom_counter,m2_collector,sharded,prom_histogram,atomic_histogram,sharded_histogram,render");
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
