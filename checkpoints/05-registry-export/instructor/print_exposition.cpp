// print_exposition.cpp: prints the exposition of a fixed registry, for external checkers.
//
//   m5_print_exposition              the Prometheus text format 0.0.4 (for promtool)
//   m5_print_exposition openmetrics  OpenMetrics 1.0 (for prometheus_client's strict parser)
//
// The registry holds one metric of every kind and unit, a help text that needs escaping, an
// empty min/max tracker (NaN) and a gauge below zero: the cases a linter or parser might
// reject. instructor/check_exposition.py pipes the output into the checkers.
#include <array>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>

#include <metrics_registry.hpp>

int main(int argc, char** argv) {
  const std::string format = argc > 1 ? argv[1] : "prometheus";
  try {
    metrics::MetricsRegistry registry(std::chrono::hours(1));
    const auto http = registry.register_collector(
        "shop_http", "Front end \"shop\": C:\\www\nsecond line of help");
    const auto db = registry.register_collector("shop_db");
    const auto latency = registry.register_histogram(
        "shop_request_duration_seconds",
        std::array<std::uint64_t, 6>{250, 1'000, 5'000, 25'000, 100'000, 1'000'000},
        metrics::Unit::microseconds, "Time to serve a request.");
    const auto sizes = registry.register_histogram(
        "shop_response_size_bytes", std::array<std::uint64_t, 3>{512, 4'096, 65'536});
    const auto pause = registry.register_min_max("shop_gc_pause_seconds",
                                                 metrics::Unit::nanoseconds);
    const auto idle = registry.register_min_max("shop_idle_workers");
    for (std::uint64_t i = 0; i < 1'000; ++i) {
      http->record_request();
      if (i % 25 == 0) http->record_error();
      http->record_bytes(100 + i);
      latency->record(200 + i * 137);
      sizes->record(10 + i * 97);
    }
    db->record_request();
    db->connection_closed();  // a gauge below zero
    pause->update(1'500);
    pause->update(2'000'000);
    static_cast<void>(idle);  // never updated: min and max export as NaN
    const metrics::FullSnapshot snapshot = registry.snapshot_all();
    std::cout << (format == "openmetrics" ? snapshot.to_openmetrics() : snapshot.to_prometheus());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "m5_print_exposition: " << e.what() << "\n";
    return 1;
  }
}
