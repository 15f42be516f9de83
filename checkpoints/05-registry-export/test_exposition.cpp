// Checkpoints for milestone 5: the exposition text (exposition.hpp).
// FullSnapshot is a plain value, so these tests build one by hand and compare the rendered
// text with what Prometheus and OpenMetrics require. Each TEST_CASE names the mistake it
// exists to catch; mutants.json keeps a wrong implementation that it must fail.
#include <exposition.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

using metrics::ExpositionFormat;
using metrics::FullSnapshot;
using metrics::HistogramSnapshot;
using metrics::MetricInfo;
using metrics::MetricsSnapshot;
using metrics::MinMaxSnapshot;
using metrics::Unit;

namespace {

MetricsSnapshot collector(std::uint64_t requests, std::uint64_t errors, std::uint64_t bytes,
                          std::int64_t active) {
  MetricsSnapshot s;
  s.requests = requests;
  s.errors = errors;
  s.bytes_sent = bytes;
  s.active_connections = active;
  return s;
}

HistogramSnapshot histogram(std::vector<std::uint64_t> bounds, std::vector<std::uint64_t> counts,
                            std::uint64_t sum) {
  HistogramSnapshot h;
  h.upper_bounds = std::move(bounds);
  h.counts = std::move(counts);
  h.sum = sum;
  return h;
}

// The snapshot of a small service, with one of everything.
FullSnapshot fixed_snapshot() {
  FullSnapshot s;
  s.collectors.emplace("http", collector(2, 1, 1024, 3));
  s.collectors.emplace("db", collector(5, 0, 0, -1));
  s.info["db"] = MetricInfo{"Database pool", Unit::none};
  s.histograms.emplace("rpc_size_bytes", histogram({100, 1000, 10000}, {1, 2, 0, 1}, 12345));
  s.histograms.emplace("rpc_latency_seconds",
                       histogram({250, 1000, 2500000}, {2, 0, 1, 3}, 9000250));
  s.info["rpc_latency_seconds"] = MetricInfo{"", Unit::microseconds};
  s.min_max.emplace("queue_depth", MinMaxSnapshot{3, 17});
  s.min_max.emplace("idle_gap_seconds", MinMaxSnapshot{});
  s.info["idle_gap_seconds"] = MetricInfo{"", Unit::milliseconds};
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

// The value of the sample line that starts with `series + " "`, or "" if there is none.
std::string sample_value(const std::string& text, const std::string& series) {
  for (const std::string& line : lines_of(text)) {
    if (starts_with(line, series + " ")) return line.substr(series.size() + 1);
  }
  return "";
}

}  // namespace

TEST_CASE("prometheus text of a fixed snapshot is exact") {
  // Catches: any departure from the text format 0.0.4 in add_collector(), add_histogram() or
  // add_min_max(): missing HELP or TYPE, counters without _total, per-bucket (non-cumulative)
  // counts, no +Inf bucket, no _sum or _count, raw microseconds under a _seconds name, UINT64_MAX
  // for an empty minimum, unsorted families.
  const std::string expected =
      "# HELP db_active_connections Database pool: connections open now.\n"
      "# TYPE db_active_connections gauge\n"
      "db_active_connections -1\n"
      "# HELP db_bytes_sent_total Database pool: bytes sent.\n"
      "# TYPE db_bytes_sent_total counter\n"
      "db_bytes_sent_total 0\n"
      "# HELP db_errors_total Database pool: errors recorded.\n"
      "# TYPE db_errors_total counter\n"
      "db_errors_total 0\n"
      "# HELP db_requests_total Database pool: requests recorded.\n"
      "# TYPE db_requests_total counter\n"
      "db_requests_total 5\n"
      "# HELP http_active_connections http: connections open now.\n"
      "# TYPE http_active_connections gauge\n"
      "http_active_connections 3\n"
      "# HELP http_bytes_sent_total http: bytes sent.\n"
      "# TYPE http_bytes_sent_total counter\n"
      "http_bytes_sent_total 1024\n"
      "# HELP http_errors_total http: errors recorded.\n"
      "# TYPE http_errors_total counter\n"
      "http_errors_total 1\n"
      "# HELP http_requests_total http: requests recorded.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total 2\n"
      "# HELP idle_gap_seconds_max idle_gap_seconds: largest value recorded (NaN when none "
      "since the last reset).\n"
      "# TYPE idle_gap_seconds_max gauge\n"
      "idle_gap_seconds_max NaN\n"
      "# HELP idle_gap_seconds_min idle_gap_seconds: smallest value recorded (NaN when none "
      "since the last reset).\n"
      "# TYPE idle_gap_seconds_min gauge\n"
      "idle_gap_seconds_min NaN\n"
      "# HELP queue_depth_max queue_depth: largest value recorded (NaN when none since the "
      "last reset).\n"
      "# TYPE queue_depth_max gauge\n"
      "queue_depth_max 17\n"
      "# HELP queue_depth_min queue_depth: smallest value recorded (NaN when none since the "
      "last reset).\n"
      "# TYPE queue_depth_min gauge\n"
      "queue_depth_min 3\n"
      "# HELP rpc_latency_seconds rpc_latency_seconds: distribution of recorded values.\n"
      "# TYPE rpc_latency_seconds histogram\n"
      "rpc_latency_seconds_bucket{le=\"0.00025\"} 2\n"
      "rpc_latency_seconds_bucket{le=\"0.001\"} 2\n"
      "rpc_latency_seconds_bucket{le=\"2.5\"} 3\n"
      "rpc_latency_seconds_bucket{le=\"+Inf\"} 6\n"
      "rpc_latency_seconds_sum 9.00025\n"
      "rpc_latency_seconds_count 6\n"
      "# HELP rpc_size_bytes rpc_size_bytes: distribution of recorded values.\n"
      "# TYPE rpc_size_bytes histogram\n"
      "rpc_size_bytes_bucket{le=\"100.0\"} 1\n"
      "rpc_size_bytes_bucket{le=\"1000.0\"} 3\n"
      "rpc_size_bytes_bucket{le=\"10000.0\"} 3\n"
      "rpc_size_bytes_bucket{le=\"+Inf\"} 4\n"
      "rpc_size_bytes_sum 12345\n"
      "rpc_size_bytes_count 4\n";
  CHECK(fixed_snapshot().to_prometheus() == expected);
}

TEST_CASE("openmetrics text of a fixed snapshot is exact") {
  // Catches: OpenMetrics specifics: a counter is TYPEd by its family name (no _total) while
  // its sample keeps _total; a time-unit histogram declares # UNIT; the text ends in # EOF.
  const std::string expected =
      "# HELP db_active_connections Database pool: connections open now.\n"
      "# TYPE db_active_connections gauge\n"
      "db_active_connections -1\n"
      "# HELP db_bytes_sent Database pool: bytes sent.\n"
      "# TYPE db_bytes_sent counter\n"
      "db_bytes_sent_total 0\n"
      "# HELP db_errors Database pool: errors recorded.\n"
      "# TYPE db_errors counter\n"
      "db_errors_total 0\n"
      "# HELP db_requests Database pool: requests recorded.\n"
      "# TYPE db_requests counter\n"
      "db_requests_total 5\n"
      "# HELP http_active_connections http: connections open now.\n"
      "# TYPE http_active_connections gauge\n"
      "http_active_connections 3\n"
      "# HELP http_bytes_sent http: bytes sent.\n"
      "# TYPE http_bytes_sent counter\n"
      "http_bytes_sent_total 1024\n"
      "# HELP http_errors http: errors recorded.\n"
      "# TYPE http_errors counter\n"
      "http_errors_total 1\n"
      "# HELP http_requests http: requests recorded.\n"
      "# TYPE http_requests counter\n"
      "http_requests_total 2\n"
      "# HELP idle_gap_seconds_max idle_gap_seconds: largest value recorded (NaN when none "
      "since the last reset).\n"
      "# TYPE idle_gap_seconds_max gauge\n"
      "idle_gap_seconds_max NaN\n"
      "# HELP idle_gap_seconds_min idle_gap_seconds: smallest value recorded (NaN when none "
      "since the last reset).\n"
      "# TYPE idle_gap_seconds_min gauge\n"
      "idle_gap_seconds_min NaN\n"
      "# HELP queue_depth_max queue_depth: largest value recorded (NaN when none since the "
      "last reset).\n"
      "# TYPE queue_depth_max gauge\n"
      "queue_depth_max 17\n"
      "# HELP queue_depth_min queue_depth: smallest value recorded (NaN when none since the "
      "last reset).\n"
      "# TYPE queue_depth_min gauge\n"
      "queue_depth_min 3\n"
      "# HELP rpc_latency_seconds rpc_latency_seconds: distribution of recorded values.\n"
      "# TYPE rpc_latency_seconds histogram\n"
      "# UNIT rpc_latency_seconds seconds\n"
      "rpc_latency_seconds_bucket{le=\"0.00025\"} 2\n"
      "rpc_latency_seconds_bucket{le=\"0.001\"} 2\n"
      "rpc_latency_seconds_bucket{le=\"2.5\"} 3\n"
      "rpc_latency_seconds_bucket{le=\"+Inf\"} 6\n"
      "rpc_latency_seconds_sum 9.00025\n"
      "rpc_latency_seconds_count 6\n"
      "# HELP rpc_size_bytes rpc_size_bytes: distribution of recorded values.\n"
      "# TYPE rpc_size_bytes histogram\n"
      "rpc_size_bytes_bucket{le=\"100.0\"} 1\n"
      "rpc_size_bytes_bucket{le=\"1000.0\"} 3\n"
      "rpc_size_bytes_bucket{le=\"10000.0\"} 3\n"
      "rpc_size_bytes_bucket{le=\"+Inf\"} 4\n"
      "rpc_size_bytes_sum 12345\n"
      "rpc_size_bytes_count 4\n"
      "# EOF\n";
  CHECK(fixed_snapshot().to_openmetrics() == expected);
}

TEST_CASE("histogram buckets are cumulative and +Inf equals _count") {
  // Catches: exporting each bucket's own count (a naive exporter's output; Prometheus computes
  // quantiles from cumulative buckets and gets nonsense), forgetting the overflow bucket in
  // le="+Inf", a _count that disagrees with +Inf, a missing _sum.
  const std::vector<std::uint64_t> bounds{1, 5, 10, 50, 100, 500};
  const std::vector<std::uint64_t> counts{4, 0, 7, 1, 0, 2, 9};  // the last is the overflow
  FullSnapshot s;
  s.histograms.emplace("work_items", histogram(bounds, counts, 987654));
  for (const ExpositionFormat format :
       {ExpositionFormat::prometheus, ExpositionFormat::openmetrics}) {
    const std::string text = s.render(format);
    CAPTURE(text);
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
      running += counts[i];
      const std::string series =
          "work_items_bucket{le=\"" + std::to_string(bounds[i]) + ".0\"}";
      CHECK(sample_value(text, series) == std::to_string(running));
    }
    running += counts.back();
    CHECK(sample_value(text, "work_items_bucket{le=\"+Inf\"}") == std::to_string(running));
    CHECK(sample_value(text, "work_items_count") == std::to_string(running));
    CHECK(sample_value(text, "work_items_sum") == "987654");
    // Buckets come in increasing order of le, +Inf last, then _sum and _count.
    std::vector<std::string> order;
    for (const std::string& line : lines_of(text)) {
      if (starts_with(line, "work_items")) order.push_back(line.substr(0, line.find(' ')));
    }
    REQUIRE(order.size() == bounds.size() + 3);
    CHECK(order[bounds.size() - 1] == "work_items_bucket{le=\"500.0\"}");
    CHECK(order[bounds.size()] == "work_items_bucket{le=\"+Inf\"}");
    CHECK(order[bounds.size() + 1] == "work_items_sum");
    CHECK(order[bounds.size() + 2] == "work_items_count");
  }
}

TEST_CASE("counters end in _total and gauges have no suffix") {
  // Catches: counter_family() or add_collector() exporting counters without _total (a naive
  // exporter writes http_requests 2), a gauge given _total, and in OpenMetrics a TYPE line naming
  // the sample instead of the family (the strict parser then sees two clashing metrics).
  FullSnapshot s;
  s.collectors.emplace("api", collector(7, 2, 300, 4));
  const std::string prom = s.to_prometheus();
  CAPTURE(prom);
  CHECK(prom.find("# TYPE api_requests_total counter\n") != std::string::npos);
  CHECK(prom.find("# TYPE api_errors_total counter\n") != std::string::npos);
  CHECK(prom.find("# TYPE api_bytes_sent_total counter\n") != std::string::npos);
  CHECK(prom.find("# TYPE api_active_connections gauge\n") != std::string::npos);
  CHECK(sample_value(prom, "api_requests_total") == "7");
  CHECK(sample_value(prom, "api_errors_total") == "2");
  CHECK(sample_value(prom, "api_bytes_sent_total") == "300");
  CHECK(sample_value(prom, "api_active_connections") == "4");
  const std::string om = s.to_openmetrics();
  CAPTURE(om);
  CHECK(om.find("# TYPE api_requests counter\n") != std::string::npos);
  CHECK(om.find("# TYPE api_bytes_sent counter\n") != std::string::npos);
  CHECK(om.find("_total counter") == std::string::npos);
  CHECK(sample_value(om, "api_errors_total") == "2");
  CHECK(sample_value(om, "api_active_connections") == "4");
}

TEST_CASE("help text is escaped") {
  // Catches: escape_help() copying HELP text raw: a newline in it ends the line early and the rest
  // becomes a malformed sample; a backslash starts an escape nobody meant. OpenMetrics also escapes
  // double quotes; the 0.0.4 format must not (it would show the backslash).
  FullSnapshot s;
  s.min_max.emplace("temp", MinMaxSnapshot{1, 2});
  s.info["temp"] = MetricInfo{"C:\\sensors \"outdoor\"\nsecond line", Unit::none};
  const std::string prom = s.to_prometheus();
  CAPTURE(prom);
  CHECK(prom.find("# HELP temp_max C:\\\\sensors \"outdoor\"\\nsecond line: largest value") !=
        std::string::npos);
  const std::string om = s.to_openmetrics();
  CAPTURE(om);
  CHECK(om.find("# HELP temp_min C:\\\\sensors \\\"outdoor\\\"\\nsecond line: smallest value") !=
        std::string::npos);
  // Every line is a comment or a sample of this metric: nothing leaked onto a line of its own.
  for (const std::string& text : {prom, om}) {
    for (const std::string& line : lines_of(text)) {
      CHECK((starts_with(line, "# ") || starts_with(line, "temp_")));
    }
  }
  CHECK(metrics::escape_help("a\\b\nc\"d", ExpositionFormat::prometheus) == "a\\\\b\\nc\"d");
  CHECK(metrics::escape_help("a\\b\nc\"d", ExpositionFormat::openmetrics) == "a\\\\b\\nc\\\"d");
}

TEST_CASE("an empty min max exports NaN") {
  // Catches: exporting the tracker's starting values as data: min 18446744073709551615 ("the
  // fastest request took 584 years") and max 0. NaN is "no data", as in Prometheus' summaries.
  FullSnapshot s;
  s.min_max.emplace("empty", MinMaxSnapshot{});
  s.min_max.emplace("half_seen", MinMaxSnapshot{std::numeric_limits<std::uint64_t>::max(), 5});
  s.min_max.emplace("one_value", MinMaxSnapshot{0, 0});
  s.min_max.emplace("huge", MinMaxSnapshot{std::numeric_limits<std::uint64_t>::max(),
                                           std::numeric_limits<std::uint64_t>::max()});
  const std::string text = s.to_prometheus();
  CAPTURE(text);
  CHECK(sample_value(text, "empty_min") == "NaN");
  CHECK(sample_value(text, "empty_max") == "NaN");
  // A first update seen in max but not yet in min (two independent atomics): still no data.
  CHECK(sample_value(text, "half_seen_min") == "NaN");
  CHECK(sample_value(text, "half_seen_max") == "NaN");
  // Real values, even the extreme ones, are exported as they are.
  CHECK(sample_value(text, "one_value_min") == "0");
  CHECK(sample_value(text, "one_value_max") == "0");
  CHECK(sample_value(text, "huge_min") == "18446744073709551615");
  CHECK(sample_value(text, "huge_max") == "18446744073709551615");
}

TEST_CASE("time units are exported in seconds") {
  // Catches: a histogram recorded in microseconds exported with raw bounds and sum under a
  // _seconds name (off by a factor of a million), or scaled bounds with an unscaled sum.
  FullSnapshot s;
  s.histograms.emplace("req_seconds", histogram({1, 250, 1000000}, {1, 1, 1, 1}, 3001251));
  s.info["req_seconds"] = MetricInfo{"", Unit::microseconds};
  s.min_max.emplace("gc_pause_seconds", MinMaxSnapshot{1500, 2000000000});
  s.info["gc_pause_seconds"] = MetricInfo{"", Unit::nanoseconds};
  s.min_max.emplace("poll_seconds", MinMaxSnapshot{2500, 7000});
  s.info["poll_seconds"] = MetricInfo{"", Unit::milliseconds};
  const std::string text = s.to_prometheus();
  CAPTURE(text);
  CHECK(sample_value(text, "req_seconds_bucket{le=\"1e-06\"}") == "1");
  CHECK(sample_value(text, "req_seconds_bucket{le=\"0.00025\"}") == "2");
  CHECK(sample_value(text, "req_seconds_bucket{le=\"1.0\"}") == "3");
  CHECK(sample_value(text, "req_seconds_bucket{le=\"+Inf\"}") == "4");
  CHECK(sample_value(text, "req_seconds_sum") == "3.001251");
  CHECK(sample_value(text, "req_seconds_count") == "4");
  CHECK(sample_value(text, "gc_pause_seconds_min") == "1.5e-06");
  CHECK(sample_value(text, "gc_pause_seconds_max") == "2.0");
  CHECK(sample_value(text, "poll_seconds_min") == "2.5");
  CHECK(sample_value(text, "poll_seconds_max") == "7.0");
  const std::string om = s.to_openmetrics();
  CHECK(om.find("# UNIT req_seconds seconds\n") != std::string::npos);
}

TEST_CASE("families are sorted by name and rendering is deterministic") {
  // Catches: output in registration or hash order (an unordered_map): two scrapes of the same
  // values must give the same bytes, and families must not depend on the kind of metric.
  FullSnapshot s;
  s.collectors.emplace("zeta", collector(1, 0, 0, 0));
  s.histograms.emplace("alpha", histogram({10}, {1, 0}, 3));
  s.min_max.emplace("mid", MinMaxSnapshot{1, 2});
  s.collectors.emplace("beta", collector(2, 0, 0, 0));
  const std::string first = s.to_prometheus();
  CHECK(first == s.to_prometheus());
  std::vector<std::string> families;
  for (const std::string& line : lines_of(first)) {
    if (starts_with(line, "# TYPE ")) families.push_back(line.substr(7, line.rfind(' ') - 7));
  }
  const std::vector<std::string> expected{
      "alpha",           "beta_active_connections", "beta_bytes_sent_total",
      "beta_errors_total", "beta_requests_total",   "mid_max",
      "mid_min",         "zeta_active_connections", "zeta_bytes_sent_total",
      "zeta_errors_total", "zeta_requests_total"};
  CHECK(families == expected);
}

TEST_CASE("metric names follow the Prometheus rules") {
  // Catches: an is_valid_metric_name() that allows a leading digit, '-', '.', spaces or non-ASCII
  // letters, or that rejects the legal '_' and ':' (the rule is [a-zA-Z_:][a-zA-Z0-9_:]*).
  for (const char* good : {"a", "_", ":", "http_requests", "Http2_xx", "_private", "job:rate5m",
                           "a1b2c3"}) {
    CAPTURE(good);
    CHECK(metrics::is_valid_metric_name(good));
  }
  for (const char* bad : {"", "1abc", "9", "a-b", "a b", "a.b", "http/requests", "caf\xc3\xa9",
                          "a\nb", "tab\t", "x{le=\"1\"}"}) {
    CAPTURE(bad);
    CHECK_FALSE(metrics::is_valid_metric_name(bad));
  }
}
