// metrics_registry.hpp: milestone 5, every metric of a program in one place, exported in the
// background.
//
// MetricsRegistry hands out the metrics of milestones 2-4 by name, keeps a shared reference to
// each, and produces a FullSnapshot of all of them: on demand (snapshot_all(), e.g. for an HTTP
// scrape) and periodically on a background thread that passes each snapshot to a callback
// (start_export(), e.g. to write a file for node_exporter).
//
// Three kinds of thread meet here, and each gets what it needs:
//   - request threads RECORD into the metrics they were given: that path never touches the
//     registry (the shared_ptr points straight at the lock-free metric), so it never waits;
//   - a few threads REGISTER metrics, usually at start-up but possibly at any time: they take a
//     std::shared_mutex exclusively, because they change the maps;
//   - the exporter and scrapers READ the maps: they take the same mutex shared, so they run
//     together and only wait for a registration in progress.
// A lock is fine here because registration and export are rare; the hot path stays lock-free.
//
// The exporter thread stops promptly: it waits on a condition variable that stop() wakes
// (std::jthread + std::stop_token + std::condition_variable_any), and stop() returns only after
// joining it (an exporter that sleeps cannot be stopped promptly, and one that is never joined
// can outlive the registry). It re-reads the maps at every tick, so metrics registered after
// start_export() are exported too (a copy taken at start would freeze them). A callback that throws is counted in
// failed_exports() and the exporter carries on.
//
// Example:
//   metrics::MetricsRegistry registry(std::chrono::seconds(15));
//   auto http = registry.register_collector("http", "Front-end HTTP server");
//   auto latency = registry.register_histogram(
//       "http_request_duration_seconds", std::array<std::uint64_t, 3>{1'000, 10'000, 100'000},
//       metrics::Unit::microseconds);
//   registry.start_export([](const metrics::FullSnapshot& s) {
//     metrics::write_textfile("/var/lib/node_exporter/app.prom", s.to_prometheus());
//   });
//   http->record_request();                       // request threads: lock-free
//   latency->record(2'500);
//   std::string page = registry.snapshot_all().to_prometheus();   // an HTTP /metrics handler
//   registry.stop();                              // or let the destructor do it
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "atomic_histogram.hpp"
#include "atomic_min_max.hpp"
#include "exposition.hpp"
#include "metrics_collector.hpp"
#include "textfile_writer.hpp"

namespace metrics {

class MetricsRegistry {
 public:
  using ExportCallback = std::function<void(const FullSnapshot&)>;

  // A registry whose exporter, once started, exports every `export_interval`.
  // Throws std::invalid_argument unless 0 < export_interval <= 24 h.
  explicit MetricsRegistry(std::chrono::milliseconds export_interval)
      : interval_(export_interval) {
    if (export_interval <= std::chrono::milliseconds::zero() ||
        export_interval > std::chrono::hours(24)) {
      throw std::invalid_argument("MetricsRegistry: the export interval must be in (0, 24 h]");
    }
  }

  // Stops the exporter if it runs (see stop()). The metrics themselves live on as long as
  // someone holds their shared_ptr.
  ~MetricsRegistry() { stop(); }

  // A registry owns a thread that points back at it: it can be neither copied nor moved.
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // --- Registration. Any thread, any time, concurrently with everything else. ---------------
  // Each call creates the metric, registers it under `name` and returns a shared reference:
  // the caller records into it without ever touching the registry again. `help` becomes the
  // # HELP text (escaped on export; empty: a default naming the metric).
  // Throws std::invalid_argument, registering nothing, when `name` is not a valid Prometheus
  // name ([a-zA-Z_:][a-zA-Z0-9_:]*), or when it or a name it exports (see exported_names())
  // is already taken by a metric of any kind.

  std::shared_ptr<MetricsCollector> register_collector(std::string name, std::string help = {}) {
    check_name(name, Unit::none);
    auto collector = std::make_shared<MetricsCollector>();
    add_metric(MetricKind::collector, name, MetricInfo{std::move(help), Unit::none},
               [&](Metrics& m) { m.collectors.emplace(name, collector); });
    return collector;
  }

  // `unit` is what the histogram records in; a time unit is exported in seconds and then
  // `name` must end in "_seconds" (std::invalid_argument otherwise). Bounds that are not
  // strictly increasing throw std::invalid_argument (from AtomicHistogram).
  template <std::size_t N>
  std::shared_ptr<AtomicHistogram<N>> register_histogram(std::string name,
                                                         const std::array<std::uint64_t, N>& bounds,
                                                         Unit unit = Unit::none,
                                                         std::string help = {}) {
    check_name(name, unit);
    auto histogram = std::make_shared<AtomicHistogram<N>>(bounds);  // may throw: nothing claimed
    add_metric(MetricKind::histogram, name, MetricInfo{std::move(help), unit}, [&](Metrics& m) {
      // Type erasure: histograms of every N fit in one map as "something to snapshot".
      m.histograms.emplace(name, [histogram] { return histogram->snapshot(); });
    });
    return histogram;
  }

  // The same for another histogram type: any `Histogram<N>` built from the bounds whose
  // snapshot() returns a HistogramSnapshot, such as milestone 6's ShardedHistogram. Switching
  // a metric to the scalable kind is one line, and it is exported exactly as before:
  //   auto latency = registry.register_histogram<metrics::ShardedHistogram>("rpc_seconds",
  //                                                                         bounds, unit);
  template <template <std::size_t> class Histogram, std::size_t N>
    requires std::constructible_from<Histogram<N>, const std::array<std::uint64_t, N>&> &&
             requires(const Histogram<N>& h) {
               { h.snapshot() } -> std::same_as<HistogramSnapshot>;
             }
  std::shared_ptr<Histogram<N>> register_histogram(std::string name,
                                                   const std::array<std::uint64_t, N>& bounds,
                                                   Unit unit = Unit::none, std::string help = {}) {
    check_name(name, unit);
    auto histogram = std::make_shared<Histogram<N>>(bounds);  // may throw: nothing claimed
    add_metric(MetricKind::histogram, name, MetricInfo{std::move(help), unit}, [&](Metrics& m) {
      m.histograms.emplace(name, [histogram] { return histogram->snapshot(); });
    });
    return histogram;
  }

  // `unit` as for histograms: a time unit exports min and max in seconds.
  std::shared_ptr<AtomicMinMax> register_min_max(std::string name, Unit unit = Unit::none,
                                                 std::string help = {}) {
    check_name(name, unit);
    auto tracker = std::make_shared<AtomicMinMax>();
    add_metric(MetricKind::min_max, name, MetricInfo{std::move(help), unit},
               [&](Metrics& m) { m.min_max.emplace(name, tracker); });
    return tracker;
  }

  // --- Reading. -------------------------------------------------------------------------------

  // Reads every registered metric now. Any thread, any time; runs concurrently with other
  // readers and with recording, and waits only for a registration in progress. Each metric's
  // values are what its own snapshot() promises (milestones 2-4); different metrics are read
  // one after another, not at one instant.
  [[nodiscard]] FullSnapshot snapshot_all() const {
    // Solution: a SHARED lock: snapshots and exports read the maps together, and a
    // registration (exclusive lock) cannot change a map while one of them walks it.
    const std::shared_lock lock(mutex_);
    return snapshot_of(metrics_);
  }

  // --- The background exporter. -------------------------------------------------------------

  // Starts one thread that calls `callback(snapshot_all())` every export interval, the first
  // time one interval after the start. The callback runs on that thread only, one call at a
  // time; if it throws, the exception is counted in failed_exports() and the next tick comes
  // as usual. Call from any thread, but not from the callback.
  // Throws std::invalid_argument for an empty callback and std::logic_error when the exporter
  // is already running (stop() it first: a stopped exporter may be started again).
  void start_export(ExportCallback callback) {
    if (!callback) throw std::invalid_argument("start_export: the callback is empty");
    const std::scoped_lock lifecycle(lifecycle_mutex_);
    // Solution: a joinable thread means an exporter is running (or stopped but not joined):
    // starting a second one would leak it, and assigning over a running std::thread would
    // call std::terminate.
    if (exporter_.joinable()) {
      throw std::logic_error("start_export: the exporter is already running; stop() it first");
    }
    exporter_ = std::jthread([this, callback = std::move(callback)](std::stop_token stop) {
      export_loop(stop, callback);
    });
  }

  // Stops the exporter and returns after its thread has exited: no callback runs once stop()
  // has returned. Prompt: it wakes the thread instead of waiting out the interval, so it
  // returns as soon as a callback in progress finishes. Idempotent; a no-op when the exporter
  // is not running. Call from any thread, but not from the callback (a thread cannot join
  // itself).
  void stop() {
    const std::scoped_lock lifecycle(lifecycle_mutex_);
    if (!exporter_.joinable()) return;
    // Solution: request_stop() sets the stop state and runs the callbacks registered on the
    // token, which wake the condition variable the exporter waits on; join() then waits for
    // the thread to leave export_loop(). Setting a flag without waking the thread makes stop
    // wait a whole interval; returning without join() lets a callback run after stop().
    exporter_.request_stop();
    exporter_.join();
  }

  // The interval given to the constructor. Any thread.
  [[nodiscard]] std::chrono::milliseconds export_interval() const noexcept { return interval_; }

  // Callbacks that returned normally / that threw, since construction. Any thread. Counts
  // only: they do not synchronize with what the callback did (join via stop() does).
  [[nodiscard]] std::uint64_t exports() const noexcept {
    // order: relaxed: a statistic; nothing is read because of its value.
    return exports_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::uint64_t failed_exports() const noexcept {
    // order: relaxed: a statistic; nothing is read because of its value.
    return failed_exports_.load(std::memory_order_relaxed);
  }

 private:
  // The registered metrics. Guarded by mutex_: written under an exclusive lock, read under a
  // shared one. The metrics themselves are lock-free and need no lock to record into.
  struct Metrics {
    std::map<std::string, std::shared_ptr<MetricsCollector>> collectors;
    std::map<std::string, std::function<HistogramSnapshot()>> histograms;
    std::map<std::string, std::shared_ptr<AtomicMinMax>> min_max;
    std::map<std::string, MetricInfo> info;
    std::set<std::string> claimed;  // every exported_names() of every metric above
  };

  // Throws std::invalid_argument for a name Prometheus rejects, or a time unit without the
  // "_seconds" suffix its exported name needs. Checked before anything is created.
  static void check_name(const std::string& name, Unit unit) {
    if (!is_valid_metric_name(name)) {
      throw std::invalid_argument("invalid metric name '" + name +
                                  "': it must match [a-zA-Z_:][a-zA-Z0-9_:]*");
    }
    if (unit != Unit::none && !name.ends_with("_seconds")) {
      throw std::invalid_argument("metric '" + name +
                                  "' records a time unit and is exported in seconds: its name "
                                  "must end in _seconds");
    }
  }

  // Claims every name the metric exports and lets `insert` add it to its map, all under the
  // exclusive lock; throws std::invalid_argument, changing nothing, when a name is taken.
  template <class Insert>
  void add_metric(MetricKind kind, const std::string& name, MetricInfo info, Insert&& insert) {
    const std::vector<std::string> names = exported_names(kind, name);
    // Solution: the check and the insertion form one step under an EXCLUSIVE lock. Without
    // it, two threads registering one name can both pass the check (check-then-act), and a
    // map insertion racing with a snapshot walking the map is a data race.
    const std::unique_lock lock(mutex_);
    for (const std::string& taken : names) {
      if (metrics_.claimed.contains(taken)) {
        throw std::invalid_argument("metric name '" + name + "' collides with a registered metric"
                                    " (both export '" + taken + "')");
      }
    }
    insert(metrics_);
    metrics_.info.emplace(name, std::move(info));
    metrics_.claimed.insert(names.begin(), names.end());
  }

  // Reads every metric in `m`. The caller holds mutex_ (shared is enough) or owns `m`.
  static FullSnapshot snapshot_of(const Metrics& m) {
    FullSnapshot s;
    s.timestamp = std::chrono::system_clock::now();
    for (const auto& [name, collector] : m.collectors) {
      s.collectors.emplace_hint(s.collectors.end(), name, collector->snapshot());
    }
    for (const auto& [name, snapshot] : m.histograms) {
      s.histograms.emplace_hint(s.histograms.end(), name, snapshot());
    }
    for (const auto& [name, tracker] : m.min_max) {
      // Two independent reads: a first update() racing with them may be seen in one bound
      // and not the other (min > max), which exports as "nothing recorded" until next time.
      const std::uint64_t min = tracker->min();
      s.min_max.emplace_hint(s.min_max.end(), name, MinMaxSnapshot{min, tracker->max()});
    }
    s.info = m.info;
    return s;
  }

  // The exporter thread's body: wait one interval, or less if stop is requested; export;
  // repeat. Exits as soon as stop is requested.
  void export_loop(const std::stop_token& stop, const ExportCallback& callback) {
    // Solution: wait on a condition variable with a deadline instead of sleeping.
    // condition_variable_any::wait_until(lock, stop_token, ...) registers a stop callback that
    // notifies it, so request_stop() ends the wait at once; sleep_for would finish the whole
    // interval first. The mutex guards no data: the wait API needs one, and only this thread
    // uses it.
    std::mutex wait_mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(wait_mutex);
    auto next = std::chrono::steady_clock::now() + interval_;
    while (true) {
      // Returns false on timeout and on stop (the predicate never becomes true); spurious
      // wake-ups are absorbed inside.
      static_cast<void>(wake.wait_until(lock, stop, next, [] { return false; }));
      if (stop.stop_requested()) return;
      export_once(callback);
      // Solution: a fixed schedule (no drift from the export's own duration); when an export
      // overran a tick, skip the missed ticks rather than firing them back to back.
      next += interval_;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now + interval_;
    }
  }

  // One export: a fresh snapshot (the maps as they are NOW, later registrations included)
  // handed to the callback. Never throws.
  void export_once(const ExportCallback& callback) noexcept {
    // Solution: catch everything. An exception leaving a thread's function calls
    // std::terminate: one bad callback would kill the whole program. catch (...) also
    // catches what is not a std::exception (a thrown int, a TodoError).
    try {
      const FullSnapshot snapshot = snapshot_all();
      callback(snapshot);
      // order: relaxed: a statistic; see exports().
      exports_.fetch_add(1, std::memory_order_relaxed);
    } catch (...) {
      // order: relaxed: a statistic; see failed_exports().
      failed_exports_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  const std::chrono::milliseconds interval_;
  mutable std::shared_mutex mutex_;  // guards metrics_: exclusive to register, shared to read
  Metrics metrics_;
  std::atomic<std::uint64_t> exports_{0};
  std::atomic<std::uint64_t> failed_exports_{0};
  std::mutex lifecycle_mutex_;  // serializes start_export() and stop()
  std::jthread exporter_;       // declared last: destroyed (and joined) before what it uses
};

}  // namespace metrics
