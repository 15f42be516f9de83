// bench_registry.cpp: milestone 5 benchmarks (Google Benchmark; built by the `bench` preset).
//
//   BM_SnapshotAll        snapshot_all() of 1,000 collectors + 100 histograms (10 bounds each)
//   BM_RenderPrometheus   to_prometheus() of that snapshot
//   BM_RenderOpenMetrics  to_openmetrics() of that snapshot
//   BM_Scrape             snapshot_all() + to_prometheus(): what one /metrics scrape costs
//   BM_StopLatency        stop() of an exporter with a 60 s interval, waiting in its wait
//
//   cmake --preset bench -B build/bench -DLAB_TRACK_DIR=$PWD/solutions
//   cmake --build build/bench --target m5_bench && build/bench/checkpoints/05-registry-export/m5_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <metrics_registry.hpp>

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
// wait (not timed), then times stop(): wake-up + the thread's exit + join.
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

}  // namespace

BENCHMARK_MAIN();
