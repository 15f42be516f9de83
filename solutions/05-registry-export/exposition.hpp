// exposition.hpp: milestone 5, how a snapshot of every metric becomes text a scraper reads.
//
// FullSnapshot is a plain value: the collectors, histograms and min/max trackers of a registry
// as they were read at one moment (see metrics_registry.hpp), plus their help texts and units.
// It renders itself in the two text formats a Prometheus server scrapes:
//
//   to_prometheus()   the Prometheus text exposition format 0.0.4 (what `promtool check metrics`
//                     and node_exporter's textfile collector read);
//   to_openmetrics()  OpenMetrics 1.0 text (what Prometheus asks for first when it scrapes).
//
// Both are deterministic: families are sorted by name, numbers have one canonical spelling, so
// the same snapshot always gives the same bytes. For a collector named "http":
//
//   # HELP http_requests_total http: requests recorded.
//   # TYPE http_requests_total counter
//   http_requests_total 2
//   ...                                  (_errors_total, _bytes_sent_total, _active_connections)
//
// and for a histogram named "rpc_latency_seconds" recorded in microseconds (Unit::microseconds):
//
//   # HELP rpc_latency_seconds rpc_latency_seconds: distribution of recorded values.
//   # TYPE rpc_latency_seconds histogram
//   rpc_latency_seconds_bucket{le="0.00025"} 2      <- CUMULATIVE: observations <= 250 us
//   rpc_latency_seconds_bucket{le="0.001"} 2
//   rpc_latency_seconds_bucket{le="+Inf"} 5         <- always present, always == _count
//   rpc_latency_seconds_sum 0.0031
//   rpc_latency_seconds_count 5
//
// The rules that naive exporters break (docs/common-mistakes.md) are the point of this file:
// counters end in _total; histogram buckets are cumulative and end with le="+Inf"; a histogram
// has _sum and _count; values are in base units (seconds, not microseconds); HELP is escaped.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "atomic_histogram.hpp"
#include "metrics_collector.hpp"

namespace metrics {

// HTTP Content-Type of each rendering.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

enum class ExpositionFormat { prometheus, openmetrics };

// The unit a histogram or min/max tracker RECORDS its integer values in. Prometheus wants base
// units, so the time units are exported in seconds: bounds, sums and values are divided by
// 1e9, 1e6 or 1e3, and the metric's name must end in "_seconds". Unit::none exports the
// integers as they are (counts, bytes: already base units).
enum class Unit { none, nanoseconds, microseconds, milliseconds };

// Help text and unit of one registered metric.
struct MetricInfo {
  std::string help;  // free text; rendered escaped. Empty: a default naming the metric.
  Unit unit = Unit::none;
};

// What a min/max tracker held. Before the first update (and after a reset) the tracker holds
// min = UINT64_MAX, max = 0: min > max means "nothing recorded", and both are exported as NaN.
struct MinMaxSnapshot {
  std::uint64_t min = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max = 0;
  [[nodiscard]] bool empty() const noexcept { return min > max; }
};

// Every metric of a registry, read at `timestamp`. A plain value: copy it, keep it, render it
// on any thread. Maps are ordered by name; `info` may lack a name (then the defaults apply).
struct FullSnapshot {
  std::chrono::system_clock::time_point timestamp{};
  std::map<std::string, MetricsSnapshot> collectors;
  std::map<std::string, HistogramSnapshot> histograms;
  std::map<std::string, MinMaxSnapshot> min_max;
  std::map<std::string, MetricInfo> info;

  // The Prometheus text format 0.0.4. Families sorted by name, each with # HELP and # TYPE.
  // Throws std::invalid_argument for a histogram whose counts are not upper_bounds.size() + 1.
  [[nodiscard]] std::string to_prometheus() const { return render(ExpositionFormat::prometheus); }
  // OpenMetrics 1.0 text: the same families; counters are typed by their family name (without
  // _total), time-unit histograms carry # UNIT, and the text ends with "# EOF".
  [[nodiscard]] std::string to_openmetrics() const {
    return render(ExpositionFormat::openmetrics);
  }
  [[nodiscard]] std::string render(ExpositionFormat format) const;
};

// True when `name` is a valid Prometheus metric name: [a-zA-Z_:][a-zA-Z0-9_:]* (ASCII only,
// not empty). Colons are legal but reserved by convention for recording rules.
[[nodiscard]] bool is_valid_metric_name(std::string_view name);

// The kinds of metric a registry holds.
enum class MetricKind { collector, histogram, min_max };

// Every name a metric of this kind called `name` occupies in either format: its own name, its
// family names and its sample names (including OpenMetrics' reserved _created). Two metrics of
// a registry may not share any of them, or their exported series would collide.
[[nodiscard]] std::vector<std::string> exported_names(MetricKind kind, const std::string& name);

// `text` escaped for a # HELP line: backslash -> \\ and newline -> \n; OpenMetrics also
// escapes the double quote as \". Everything else is copied as it is.
[[nodiscard]] std::string escape_help(std::string_view text, ExpositionFormat format);

// A double in one canonical spelling, the one the Go and Python Prometheus clients write in
// OpenMetrics: NaN, +Inf, -Inf, otherwise the shortest text that reads back as the same
// double (Go's %g rule: exponent form below 1e-4 and from 1e6 on), with ".0" when it would
// otherwise look like an integer: 0.001, 1.5, 10.0, 1e+06, 5e-06. Used in both formats.
[[nodiscard]] std::string format_float(double value);

// ------------------------------------------------------------------------------------------
// Implementation. Nothing below is hot: rendering runs on the exporter or a scrape thread.

inline bool is_valid_metric_name(std::string_view name) {
  // Solution: check character classes by hand, in ASCII. std::isalpha would depend on the
  // C locale (and is undefined for negative chars); std::regex is slow and locale-bound too.
  const auto first_ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
  };
  const auto rest_ok = [&](char c) { return first_ok(c) || (c >= '0' && c <= '9'); };
  if (name.empty() || !first_ok(name.front())) return false;
  return std::all_of(name.begin() + 1, name.end(), rest_ok);
}

inline std::vector<std::string> exported_names(MetricKind kind, const std::string& name) {
  switch (kind) {
    case MetricKind::collector: {
      std::vector<std::string> names{name, name + "_active_connections"};
      for (const char* counter : {"_requests", "_errors", "_bytes_sent"}) {
        names.push_back(name + counter);
        names.push_back(name + counter + "_total");
        names.push_back(name + counter + "_created");
      }
      return names;
    }
    case MetricKind::histogram:
      return {name, name + "_bucket", name + "_sum", name + "_count", name + "_created"};
    case MetricKind::min_max:
      return {name, name + "_min", name + "_max"};
  }
  return {name};
}

inline std::string escape_help(std::string_view text, ExpositionFormat format) {
  // Solution: a raw newline would end the HELP line and turn the rest of the text into a
  // malformed line; a raw backslash would start an escape sequence nobody meant.
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && format == ExpositionFormat::openmetrics) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

inline std::string format_float(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip digits in exponent form tell us the decimal exponent.
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc{}) return "NaN";  // not reached: 64 bytes hold any double
  const std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  const std::size_t e = sci.find('e');
  int exponent = 0;
  std::string_view digits = sci.substr(e + 1);
  const bool negative_exponent = digits.front() == '-';
  digits.remove_prefix(1);  // to_chars always writes a sign after 'e'
  std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
  if (negative_exponent) exponent = -exponent;
  if (value != 0 && (exponent < -4 || exponent >= 6)) return std::string(sci);  // Go's %g rule
  const auto fixed_end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed).ptr;
  std::string fixed(buf, fixed_end);
  if (fixed.find('.') == std::string::npos) fixed += ".0";
  return fixed;
}

namespace detail {

// One metric family: its name (the sort key) and its complete text.
struct Family {
  std::string name;
  std::string text;
};

inline void append_integer(std::string& out, std::uint64_t value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

inline void append_integer(std::string& out, std::int64_t value) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

// How many recorded units make one base unit (0 for Unit::none: export the integers).
[[nodiscard]] inline double units_per_base(Unit unit) noexcept {
  switch (unit) {
    case Unit::nanoseconds: return 1e9;
    case Unit::microseconds: return 1e6;
    case Unit::milliseconds: return 1e3;
    case Unit::none: break;
  }
  return 0;
}

// A recorded integer in the exported unit: exact integer text for Unit::none, else a float.
inline void append_value(std::string& out, std::uint64_t value, Unit unit) {
  const double per_base = units_per_base(unit);
  if (per_base == 0) {
    append_integer(out, value);
  } else {
    out += format_float(static_cast<double>(value) / per_base);
  }
}

// "# HELP name text\n# TYPE name type\n", the help escaped for the format.
inline void append_metadata(std::string& out, std::string_view name, std::string_view type,
                            std::string_view help, ExpositionFormat format) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += escape_help(help, format);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

inline Family counter_family(const std::string& family, std::string_view help,
                             std::uint64_t value, ExpositionFormat format) {
  // Solution: the sample is always <family>_total (a counter without it is the classic lint
  // error, "counter metrics should have _total suffix"). In 0.0.4 HELP and TYPE name the
  // sample itself; OpenMetrics types the family, whose name has no _total.
  Family f{family, {}};
  f.text.reserve(3 * family.size() + help.size() + 48);  // one allocation for the whole family
  const std::string sample = family + "_total";
  append_metadata(f.text, format == ExpositionFormat::openmetrics ? family : sample, "counter",
                  help, format);
  f.text += sample;
  f.text += ' ';
  append_integer(f.text, value);
  f.text += '\n';
  return f;
}

inline void add_collector(std::vector<Family>& out, const std::string& name,
                          const MetricsSnapshot& s, const std::string& label,
                          ExpositionFormat format) {
  std::string help;  // one buffer for the four help texts
  const auto help_of = [&](std::string_view what) -> std::string_view {
    help.assign(label);
    help += what;
    return help;
  };
  out.push_back(counter_family(name + "_requests", help_of(": requests recorded."), s.requests,
                               format));
  out.push_back(counter_family(name + "_errors", help_of(": errors recorded."), s.errors, format));
  out.push_back(counter_family(name + "_bytes_sent", help_of(": bytes sent."), s.bytes_sent,
                               format));
  // Solution: a gauge has no suffix, and its value is signed: -1 is a bug report, not 2^64 - 1.
  Family gauge{name + "_active_connections", {}};
  gauge.text.reserve(2 * gauge.name.size() + label.size() + 64);
  append_metadata(gauge.text, gauge.name, "gauge", help_of(": connections open now."), format);
  gauge.text += gauge.name;
  gauge.text += ' ';
  append_integer(gauge.text, s.active_connections);
  gauge.text += '\n';
  out.push_back(std::move(gauge));
}

inline void add_histogram(std::vector<Family>& out, const std::string& name,
                          const HistogramSnapshot& h, const MetricInfo& info,
                          ExpositionFormat format) {
  if (h.counts.size() != h.upper_bounds.size() + 1) {
    throw std::invalid_argument("histogram " + name + ": counts must be upper_bounds + 1 long");
  }
  Family f{name, {}};
  f.text.reserve((name.size() + 32) * (h.upper_bounds.size() + 5) + info.help.size());
  append_metadata(f.text, name, "histogram",
                  info.help.empty() ? name + ": distribution of recorded values." : info.help,
                  format);
  if (format == ExpositionFormat::openmetrics && info.unit != Unit::none) {
    f.text += "# UNIT " + name + " seconds\n";
  }
  // Solution: Prometheus buckets are CUMULATIVE: le="x" counts every observation <= x, so each
  // bucket adds the running total of the ones below it. The snapshot's counts are per bucket.
  std::uint64_t cumulative = 0;
  const double per_base = units_per_base(info.unit);
  for (std::size_t i = 0; i < h.upper_bounds.size(); ++i) {
    cumulative += h.counts[i];
    f.text += name;
    f.text += "_bucket{le=\"";
    const double bound = static_cast<double>(h.upper_bounds[i]);
    f.text += format_float(per_base == 0 ? bound : bound / per_base);
    f.text += "\"} ";
    append_integer(f.text, cumulative);
    f.text += '\n';
  }
  // Solution: the overflow bucket only appears inside le="+Inf", which is therefore the count
  // of every observation: computed from the same counts, it equals _count by construction.
  cumulative += h.counts.back();
  f.text += name;
  f.text += "_bucket{le=\"+Inf\"} ";
  append_integer(f.text, cumulative);
  f.text += '\n';
  f.text += name;
  f.text += "_sum ";
  append_value(f.text, h.sum, info.unit);
  f.text += '\n';
  f.text += name;
  f.text += "_count ";
  append_integer(f.text, cumulative);
  f.text += '\n';
  out.push_back(std::move(f));
}

inline void add_min_max(std::vector<Family>& out, const std::string& name,
                        const MinMaxSnapshot& m, const MetricInfo& info,
                        ExpositionFormat format) {
  const std::string label = info.help.empty() ? name : info.help;
  const auto add = [&](const char* suffix, const char* what, std::uint64_t value) {
    Family f{name + suffix, {}};
    append_metadata(f.text, f.name, "gauge",
                    label + ": " + what + " value recorded (NaN when none since the last reset).",
                    format);
    f.text += f.name;
    f.text += ' ';
    // Solution: an empty tracker holds min = UINT64_MAX and max = 0. Exported as they are they
    // claim "the fastest request took 584 years" and "the slowest took 0"; NaN says "no data"
    // (as Prometheus' own summaries do) and keeps the series present for dashboards.
    if (m.empty()) {
      f.text += "NaN";
    } else {
      append_value(f.text, value, info.unit);
    }
    f.text += '\n';
    out.push_back(std::move(f));
  };
  add("_min", "smallest", m.min);
  add("_max", "largest", m.max);
}

}  // namespace detail

inline std::string FullSnapshot::render(ExpositionFormat format) const {
  static const MetricInfo kNoInfo;
  const auto info_of = [this](const std::string& name) -> const MetricInfo& {
    const auto it = info.find(name);
    return it == info.end() ? kNoInfo : it->second;
  };
  std::vector<detail::Family> families;
  families.reserve(collectors.size() * 4 + histograms.size() + min_max.size() * 2);
  for (const auto& [name, s] : collectors) {
    const MetricInfo& i = info_of(name);
    detail::add_collector(families, name, s, i.help.empty() ? name : i.help, format);
  }
  for (const auto& [name, h] : histograms) {
    detail::add_histogram(families, name, h, info_of(name), format);
  }
  for (const auto& [name, m] : min_max) {
    detail::add_min_max(families, name, m, info_of(name), format);
  }
  // Families sorted by name: the same snapshot always renders to the same bytes, whatever the
  // order of registration, and diffs of two scrapes line up. (Pointers are sorted, so that the
  // sort moves 8 bytes instead of two strings.)
  std::vector<const detail::Family*> sorted;
  sorted.reserve(families.size());
  std::size_t size = 6;
  for (const detail::Family& f : families) {
    sorted.push_back(&f);
    size += f.text.size();
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const detail::Family* a, const detail::Family* b) { return a->name < b->name; });
  std::string out;
  out.reserve(size);
  for (const detail::Family* f : sorted) out += f->text;
  if (format == ExpositionFormat::openmetrics) out += "# EOF\n";
  return out;
}

}  // namespace metrics
