// Instructor check: milestone 5's registry takes milestone 6's ShardedHistogram with one changed
// line, and exports it exactly as it exports an AtomicHistogram that holds the same
// observations (Prometheus text and OpenMetrics, byte for byte). Not a student checkpoint: it
// needs milestone 5 finished, and milestone 6 is graded on its own.
#include <metrics_registry.hpp>
#include <sharded_histogram.hpp>

#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace {

constexpr std::array<std::uint64_t, 4> kBounds{250, 1'000, 10'000, 100'000};

// Registers one collector and the histogram "rpc_latency_seconds", of the kind `Histogram`,
// records the same observations from three threads, and renders the registry.
template <template <std::size_t> class Histogram>
std::vector<std::string> render_with() {
  metrics::MetricsRegistry registry(std::chrono::seconds(60));
  auto http = registry.register_collector("http", "Front-end HTTP server");
  auto latency = registry.register_histogram<Histogram>(
      "rpc_latency_seconds", kBounds, metrics::Unit::microseconds, "RPC latency \"p\"\\");
  static_assert(std::is_same_v<decltype(latency), std::shared_ptr<Histogram<4>>>);
  {
    std::vector<std::jthread> threads;
    for (std::uint64_t t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        for (std::uint64_t i = 0; i < 1000; ++i) latency->record((i * 997 + t * 131) % 200'000);
        http->record_request();
      });
    }
  }
  latency->record(250);
  latency->record(100'001);
  const metrics::FullSnapshot snapshot = registry.snapshot_all();
  return {snapshot.to_prometheus(), snapshot.to_openmetrics()};
}

}  // namespace

TEST_CASE("the registry exports a ShardedHistogram exactly as an AtomicHistogram") {
  const auto atomic = render_with<metrics::AtomicHistogram>();
  const auto sharded = render_with<metrics::ShardedHistogram>();
  CHECK(atomic[0].find("rpc_latency_seconds_bucket{le=\"+Inf\"} 3002") != std::string::npos);
  CHECK(sharded[0] == atomic[0]);
  CHECK(sharded[1] == atomic[1]);
}

TEST_CASE("the registry checks a ShardedHistogram's name and bounds like any histogram") {
  metrics::MetricsRegistry registry(std::chrono::seconds(60));
  CHECK_THROWS_AS(registry.register_histogram<metrics::ShardedHistogram>(
                      "bad name", kBounds),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.register_histogram<metrics::ShardedHistogram>(
                      "lat", std::array<std::uint64_t, 2>{5, 5}),
                  std::invalid_argument);
  CHECK_THROWS_AS(registry.register_histogram<metrics::ShardedHistogram>(
                      "lat", kBounds, metrics::Unit::microseconds),  // no _seconds suffix
                  std::invalid_argument);
  auto first = registry.register_histogram<metrics::ShardedHistogram>("lat", kBounds);
  CHECK_THROWS_AS(registry.register_histogram("lat", kBounds), std::invalid_argument);
  first->record(3);
  CHECK(registry.snapshot_all().histograms.at("lat").sum == 3);
}
