// Checkpoints for milestone 5: registration and snapshots (metrics_registry.hpp).
// Each TEST_CASE names the mistake it exists to catch; mutants.json keeps a wrong
// implementation that it must fail.
#include <metrics_registry.hpp>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "lab_test.hpp"
#include "m5_support.hpp"

using metrics::FullSnapshot;
using metrics::MetricsRegistry;
using metrics::Unit;
using namespace std::chrono_literals;

namespace {

constexpr std::array<std::uint64_t, 3> kBounds{10, 100, 1000};

}  // namespace

TEST_CASE("registered collectors are snapshotted by name") {
  // Catches: a registry that stores copies instead of sharing the metric (recording into the
  // returned collector would not show up), or one that loses the name of a metric.
  CHECK_FALSE(std::is_copy_constructible_v<MetricsRegistry>);
  CHECK_FALSE(std::is_move_constructible_v<MetricsRegistry>);
  std::shared_ptr<metrics::MetricsCollector> db;
  {
    MetricsRegistry registry(1h);
    const auto http = registry.register_collector("http");
    db = registry.register_collector("db", "Database pool");
    http->record_request();
    db->record_request();
    db->record_request();
    db->record_error();
    db->record_bytes(4096);
    db->connection_opened();
    const auto before = std::chrono::system_clock::now();
    const FullSnapshot s = registry.snapshot_all();
    CHECK(s.timestamp >= before);
    CHECK(s.timestamp <= std::chrono::system_clock::now());
    REQUIRE(s.collectors.size() == 2);
    CHECK(s.collectors.at("http").requests == 1);
    CHECK(s.collectors.at("db").requests == 2);
    CHECK(s.collectors.at("db").errors == 1);
    CHECK(s.collectors.at("db").bytes_sent == 4096);
    CHECK(s.collectors.at("db").active_connections == 1);
    CHECK(s.info.at("db").help == "Database pool");
    CHECK(s.histograms.empty());
    CHECK(s.min_max.empty());
  }
  // The registry is gone; the metric it handed out is shared and lives on.
  db->record_request();
  CHECK(db->snapshot().requests == 3);
}

TEST_CASE("histograms and min max trackers are registered and snapshotted") {
  // Catches: histograms or trackers missing from snapshot_all(), wrong bounds, or a min/max
  // snapshot that reads the wrong bound.
  MetricsRegistry registry(1h);
  const auto latency = registry.register_histogram("latency", kBounds);
  const auto sizes = registry.register_histogram("sizes", std::array<std::uint64_t, 1>{512});
  const auto depth = registry.register_min_max("queue_depth");
  const auto idle = registry.register_min_max("idle", Unit::none, "Idle workers");
  latency->record(5);
  latency->record(50);
  latency->record(5000);
  sizes->record(100);
  depth->update(7);
  depth->update(3);
  const FullSnapshot s = registry.snapshot_all();
  REQUIRE(s.histograms.size() == 2);
  CHECK(s.histograms.at("latency").upper_bounds == std::vector<std::uint64_t>{10, 100, 1000});
  CHECK(s.histograms.at("latency").counts == std::vector<std::uint64_t>{1, 1, 0, 1});
  CHECK(s.histograms.at("latency").sum == 5055);
  CHECK(s.histograms.at("sizes").counts == std::vector<std::uint64_t>{1, 0});
  REQUIRE(s.min_max.size() == 2);
  CHECK(s.min_max.at("queue_depth").min == 3);
  CHECK(s.min_max.at("queue_depth").max == 7);
  CHECK(s.min_max.at("idle").empty());
  CHECK(s.info.at("idle").help == "Idle workers");
  CHECK(s.collectors.empty());
}

TEST_CASE("invalid metric names throw invalid_argument") {
  // Catches: accepting names Prometheus rejects (the scrape then fails for every metric of
  // the page), or throwing the wrong exception type.
  MetricsRegistry registry(1h);
  for (const char* bad : {"", "1abc", "9", "a-b", "a b", "a.b", "http/requests", "caf\xc3\xa9",
                          "a\nb"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(registry.register_collector(bad), std::invalid_argument);
    CHECK_THROWS_AS(registry.register_histogram(bad, kBounds), std::invalid_argument);
    CHECK_THROWS_AS(registry.register_min_max(bad), std::invalid_argument);
  }
  CHECK_NOTHROW(registry.register_collector("_"));
  CHECK_NOTHROW(registry.register_collector("job:http"));
  CHECK_NOTHROW(registry.register_histogram("Http2_latency", kBounds));
  CHECK_NOTHROW(registry.register_min_max(":depth"));
  const FullSnapshot s = registry.snapshot_all();
  CHECK(s.collectors.size() == 2);
  CHECK(s.histograms.size() == 1);
  CHECK(s.min_max.size() == 1);
}

TEST_CASE("a name taken by any metric throws invalid_argument") {
  // Catches: an add_metric() that checks duplicates only within one kind, and names that collide
  // once suffixed: a histogram "http_requests" next to collector "http" (whose counter family is
  // http_requests) or a tracker "rpc_count" next to histogram "rpc" would export clashing series,
  // and the whole scrape would be rejected.
  MetricsRegistry registry(1h);
  const auto http = registry.register_collector("http");
  const auto rpc = registry.register_histogram("rpc", kBounds);
  const auto lat = registry.register_min_max("lat");
  CHECK_THROWS_AS(registry.register_collector("http"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_histogram("http", kBounds), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_min_max("http"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_collector("rpc"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_min_max("lat"), std::invalid_argument);
  // Collisions after suffixing.
  CHECK_THROWS_AS(registry.register_histogram("http_requests", kBounds), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_min_max("http_errors_total"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_collector("http_active_connections"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_min_max("rpc_count"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_collector("rpc_bucket"), std::invalid_argument);
  CHECK_THROWS_AS(registry.register_histogram("lat_max", kBounds), std::invalid_argument);
  // A rejected registration changes nothing: the first metric keeps its name and its data.
  http->record_request();
  const FullSnapshot s = registry.snapshot_all();
  CHECK(s.collectors.size() == 1);
  CHECK(s.collectors.at("http").requests == 1);
  CHECK(s.histograms.size() == 1);
  CHECK(s.min_max.size() == 1);
  // A registration that failed for another reason (bounds not increasing) claims nothing.
  CHECK_THROWS_AS(registry.register_histogram("sizes", std::array<std::uint64_t, 3>{10, 10, 20}),
                  std::invalid_argument);
  CHECK_NOTHROW(registry.register_histogram("sizes", kBounds));
  // Names that merely share a prefix do not collide.
  CHECK_NOTHROW(registry.register_collector("http2"));
  CHECK_NOTHROW(registry.register_min_max("latency"));
  CHECK_NOTHROW(registry.register_histogram("rpc_size", kBounds));
}

TEST_CASE("time unit metrics need a name ending in _seconds") {
  // Catches: exporting a microsecond histogram as seconds under a name like latency_us
  // (promtool flags abbreviated and non-base units), or ignoring the unit on export.
  MetricsRegistry registry(1h);
  CHECK_THROWS_AS(registry.register_histogram("latency_us", kBounds, Unit::microseconds),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      registry.register_histogram("latency_microseconds", kBounds, Unit::microseconds),
      std::invalid_argument);
  CHECK_THROWS_AS(registry.register_min_max("gap_ms", Unit::milliseconds),
                  std::invalid_argument);
  const auto latency = registry.register_histogram("latency_seconds", kBounds,
                                                   Unit::microseconds);
  const auto gap = registry.register_min_max("gap_seconds", Unit::milliseconds);
  latency->record(1500);
  gap->update(250);
  const std::string text = registry.snapshot_all().to_prometheus();
  CAPTURE(text);
  CHECK(text.find("latency_seconds_bucket{le=\"1e-05\"} 0\n") != std::string::npos);
  CHECK(text.find("latency_seconds_bucket{le=\"0.001\"} 0\n") != std::string::npos);
  CHECK(text.find("latency_seconds_bucket{le=\"+Inf\"} 1\n") != std::string::npos);
  CHECK(text.find("latency_seconds_sum 0.0015\n") != std::string::npos);
  CHECK(text.find("gap_seconds_min 0.25\n") != std::string::npos);
}

TEST_CASE("a registry renders what its metrics recorded") {
  // Catches: a registry that drops help texts or units on the way to the snapshot, or
  // snapshots that do not reflect the recorded values.
  MetricsRegistry registry(1h);
  const auto app = registry.register_collector("app", "Demo app");
  const auto payload = registry.register_histogram("app_payload_bytes",
                                                   std::array<std::uint64_t, 2>{64, 512});
  const auto depth = registry.register_min_max("app_queue_depth");
  for (int i = 0; i < 3; ++i) app->record_request();
  app->record_error();
  app->record_bytes(512);
  app->connection_opened();
  app->connection_opened();
  app->connection_closed();
  payload->record(10);
  payload->record(100);
  payload->record(1000);
  depth->update(4);
  depth->update(9);
  const std::string expected =
      "# HELP app_active_connections Demo app: connections open now.\n"
      "# TYPE app_active_connections gauge\n"
      "app_active_connections 1\n"
      "# HELP app_bytes_sent_total Demo app: bytes sent.\n"
      "# TYPE app_bytes_sent_total counter\n"
      "app_bytes_sent_total 512\n"
      "# HELP app_errors_total Demo app: errors recorded.\n"
      "# TYPE app_errors_total counter\n"
      "app_errors_total 1\n"
      "# HELP app_payload_bytes app_payload_bytes: distribution of recorded values.\n"
      "# TYPE app_payload_bytes histogram\n"
      "app_payload_bytes_bucket{le=\"64.0\"} 1\n"
      "app_payload_bytes_bucket{le=\"512.0\"} 2\n"
      "app_payload_bytes_bucket{le=\"+Inf\"} 3\n"
      "app_payload_bytes_sum 1110\n"
      "app_payload_bytes_count 3\n"
      "# HELP app_queue_depth_max app_queue_depth: largest value recorded (NaN when none since "
      "the last reset).\n"
      "# TYPE app_queue_depth_max gauge\n"
      "app_queue_depth_max 9\n"
      "# HELP app_queue_depth_min app_queue_depth: smallest value recorded (NaN when none since "
      "the last reset).\n"
      "# TYPE app_queue_depth_min gauge\n"
      "app_queue_depth_min 4\n"
      "# HELP app_requests_total Demo app: requests recorded.\n"
      "# TYPE app_requests_total counter\n"
      "app_requests_total 3\n";
  CHECK(registry.snapshot_all().to_prometheus() == expected);
}

TEST_CASE("one name registered concurrently has exactly one winner") {
  // Catches: two registrations that both see a name free and both take it: a check-then-act ("is
  // the name free? then insert") that no lock, held in the right mode, makes one step (lesson 5,
  // "Part 1: the registry, and a lock where a lock belongs"). Unsynchronized map insertions are
  // also a data race that TSan reports. A run whose threads did not overlap is repeated (up to 3
  // times), then reported inconclusive.
  constexpr int kNames = 1500;
  const std::size_t threads = lab::stress_threads();
  lab::retry_until_conclusive(3, [&] {
    MetricsRegistry registry(1h);
    std::vector<std::atomic<int>> wins(kNames);
    std::atomic<int> rejected{0};
    lab::StartLine start(threads);
    const auto run = lab::run_together(threads, [&](std::size_t t) {
      start.arrive_and_wait();
      for (int i = 0; i < kNames; ++i) {
        const std::string name = "race_" + std::to_string(i);
        try {
          switch ((t + static_cast<std::size_t>(i)) % 3) {
            case 0: static_cast<void>(registry.register_collector(name)); break;
            case 1: static_cast<void>(registry.register_histogram(name, kBounds)); break;
            default: static_cast<void>(registry.register_min_max(name)); break;
          }
          wins[static_cast<std::size_t>(i)].fetch_add(1);
        } catch (const std::invalid_argument&) {
          rejected.fetch_add(1);
        }
      }
    });
    int not_exactly_one = 0;
    for (const auto& w : wins) not_exactly_one += w.load() != 1;
    CHECK(not_exactly_one == 0);
    CHECK(rejected.load() == kNames * static_cast<int>(threads - 1));
    const FullSnapshot s = registry.snapshot_all();
    CHECK(s.collectors.size() + s.histograms.size() + s.min_max.size() ==
          static_cast<std::size_t>(kNames));
    return lab::overlap_missing(run);
  });
}

TEST_CASE("registration concurrent with snapshots and export is safe") {
  // Catches: maps changed while the exporter or a scrape walks them (no lock, or a lock
  // only on one side): a data race that TSan reports and that can crash a std::map walk.
  // Also: snapshots that lose metrics, or see a metric before it is fully registered.
  constexpr int kPerWriter = 60;
  constexpr std::uint64_t kRecords = 150'000;
  const std::size_t writers = lab::stress_threads() - 1;
  MetricsRegistry registry(1ms);
  std::atomic<std::uint64_t> exported_metrics{0};
  registry.start_export([&](const FullSnapshot& s) {
    exported_metrics.fetch_add(s.collectors.size() + s.histograms.size() + s.min_max.size());
  });
  std::size_t last_size = 0, shrunk = 0, too_big = 0;
  std::uint64_t rendered_bytes = 0;
  lab::StartLine start(writers);
  const auto report = lab::run_writers_and_reader(
      writers,
      [&](std::size_t w) {
        start.arrive_and_wait();
        const std::string prefix = "w" + std::to_string(w) + "_";
        for (int j = 0; j < kPerWriter; ++j) {
          const auto c = registry.register_collector(prefix + "c" + std::to_string(j));
          for (std::uint64_t k = 0; k < kRecords; ++k) c->record_request();
          if (j % 6 == 0) {
            registry.register_histogram(prefix + "h" + std::to_string(j), kBounds)->record(50);
          } else if (j % 6 == 3) {
            registry.register_min_max(prefix + "m" + std::to_string(j))->update(7);
          }
        }
      },
      [&] {
        const FullSnapshot s = registry.snapshot_all();
        const std::size_t size = s.collectors.size() + s.histograms.size() + s.min_max.size();
        if (size < last_size) ++shrunk;
        last_size = size;
        for (const auto& [name, c] : s.collectors) too_big += c.requests > kRecords;
        if (size % 8 == 0) rendered_bytes += s.to_prometheus().size();
      });
  registry.stop();
  INFO("snapshots taken while writers registered: " << report.reader_steps);
  CHECK(shrunk == 0);
  CHECK(too_big == 0);
  CHECK(registry.exports() > 0);
  CHECK(exported_metrics.load() > 0);
  const FullSnapshot s = registry.snapshot_all();
  CHECK(s.collectors.size() == writers * kPerWriter);
  CHECK(s.histograms.size() == writers * 10);
  CHECK(s.min_max.size() == writers * 10);
  std::size_t wrong = 0;
  for (const auto& [name, c] : s.collectors) wrong += c.requests != kRecords;
  CHECK(wrong == 0);
  static_cast<void>(rendered_bytes);
  lab::conclude(lab::overlap_missing(report.run, report.reader_steps, 100));
}
