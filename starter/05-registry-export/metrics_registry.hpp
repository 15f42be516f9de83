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
//   - a few threads REGISTER metrics, usually at start-up but possibly at any time: they change
//     the maps, and of two registrations of one name exactly one wins;
//   - the exporter and scrapers READ the maps: they run together, never wait for each other,
//     and wait only for a registration in progress.
// The TODOs ask which lock (you declare it, next to metrics_ below), taken by whom and how,
// gives each of them that. A lock is fine here because registration and export are rare; the hot path stays
// lock-free.
//
// The exporter thread stops promptly: stop() wakes it instead of waiting out the interval, and
// returns only after the thread has exited. It re-reads the maps at every tick, so metrics
// registered after start_export() are exported too. A callback that throws is counted in
// failed_exports() and the exporter carries on. lessons/05-registry-export/README.md, Part 2,
// explains each of these.
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
#include "lab_todo.hpp"
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
    // TODO: read every registered metric (snapshot_of() does the reading) so that no
    // registration changes a map while it is walked, yet scrapes and exports never wait for
    // each other. Lesson 5, "Part 1: the registry, and a lock where a lock belongs" (rule 2 of
    // "Rules"). Questions: which kind of lock lets many readers in at once, and how does a
    // reader hold it, compared with a registration?
    LAB_TODO("snapshot_all(): read every metric while registrations may run, without making "
             "readers wait for each other (lesson 5, \"Part 1: the registry, and a lock where a "
             "lock belongs\"). How do readers hold the lock?");
  }

  // --- The background exporter. -------------------------------------------------------------

  // Starts one thread that calls `callback(snapshot_all())` every export interval, the first
  // time one interval after the start. The callback runs on that thread only, one call at a
  // time; if it throws, the exception is counted in failed_exports() and the next tick comes
  // as usual. Call from any thread, but not from the callback.
  // Throws std::invalid_argument for an empty callback and std::logic_error when the exporter
  // is already running (stop() it first: a stopped exporter may be started again).
  void start_export([[maybe_unused]] ExportCallback callback) {
    // TODO: keep the contract above: reject an empty callback, refuse a second exporter, and
    // start exactly one thread that runs export_loop() with a way for stop() to reach it.
    // Lesson 5, "Part 2: the exporter thread: start, prompt stop, join, exceptions". Questions:
    // how do you tell that an exporter is already running, and what must you hold so that two
    // concurrent start_export() calls cannot both decide "not running"? Which standard thread
    // type hands its function a token that says "stop was requested"?
    LAB_TODO("start_export(): validate, refuse a second exporter, start one thread running "
             "export_loop() (lesson 5, \"Part 2: the exporter thread\"). How does stop() reach "
             "that thread?");
  }

  // Stops the exporter and returns after its thread has exited: no callback runs once stop()
  // has returned. Prompt: it wakes the thread instead of waiting out the interval, so it
  // returns as soon as a callback in progress finishes. Idempotent; a no-op when the exporter
  // is not running. Call from any thread, but not from the callback (a thread cannot join
  // itself).
  void stop() {
    // TODO: when an exporter runs, end it now, not at the end of its interval, and return only
    // once its thread has exited: no callback may run after stop() returns. When none runs,
    // return at once: the destructor calls stop(), so it must not throw then. Lesson 5, "Part
    // 2: the exporter thread: start, prompt stop, join, exceptions" (rules 3 and 4 of "Rules").
    // Questions: what interrupts a thread that is waiting, and what waits for a thread to end?
    // What must stop() hold so that it cannot interleave with a start_export()?
    // (This starter returns without doing anything: no exporter can start until start_export()
    // is written.)
  }

  // The interval given to the constructor. Any thread.
  [[nodiscard]] std::chrono::milliseconds export_interval() const noexcept { return interval_; }

  // Callbacks that returned normally / that threw, since construction. Any thread. What a
  // reader may conclude from them besides the counts is your decision (ORDERING.md, M5.3);
  // stop() returning is what orders a callback's work before the caller. Never throw once
  // written (then mark them noexcept).
  [[nodiscard]] std::uint64_t exports() const {
    // TODO: the count export_once() keeps of normal returns. Lesson 2 (a statistic) and
    // starter/06-ordering-benchmarks/ORDERING.md (row M5.3). Question: does any reader of this
    // number read other memory because of its value, and so which order does its load need?
    LAB_TODO("exports(): the count of normal returns (lesson 2). Does a reader rely on anything "
             "else because of this value?");
  }
  [[nodiscard]] std::uint64_t failed_exports() const {
    // TODO: the count export_once() keeps of callbacks that threw. Same question as exports().
    LAB_TODO("failed_exports(): the count of callbacks that threw (lesson 2). Does a reader rely "
             "on anything else because of this value?");
  }

 private:
  // The registered metrics. Guarded by the lock you declare below (what each kind of thread
  // needs from it is in the header comment). The metrics themselves are lock-free and need no lock to record into.
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

  // Claims every name the metric exports and lets `insert` add it to its map, as one step that
  // no other registration or snapshot sees half done; throws std::invalid_argument, changing
  // nothing, when a name is taken.
  template <class Insert>
  void add_metric([[maybe_unused]] MetricKind kind, [[maybe_unused]] const std::string& name,
                  [[maybe_unused]] MetricInfo info, [[maybe_unused]] Insert&& insert) {
    // TODO: keep the contract above: when none of the names the metric exports (see
    // exported_names()) is claimed yet, let `insert` add it, record its `info` and claim all of
    // those names; otherwise throw std::invalid_argument and change nothing. Two threads that
    // register one name at the same time: exactly one wins. No snapshot walks a map while it
    // changes. Lesson 5, "Part 1: the registry, and a lock where a lock belongs", and lesson 4,
    // "The trap: check-then-act". Questions: which lock mode, held over which steps, makes
    // "is it free? then take it" one step?
    LAB_TODO("add_metric(): claim the metric's names and insert it, or throw and change nothing; "
             "exactly one of two racing registrations wins (lesson 5, \"Part 1: the registry, and "
             "a lock where a lock belongs\"). Which steps must one lock cover, in which mode?");
  }

  // Reads every metric in `m`. The caller holds the registry's lock so that no registration
  // changes `m` meanwhile, or owns `m`.
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
  void export_loop([[maybe_unused]] const std::stop_token& stop,
                   [[maybe_unused]] const ExportCallback& callback) {
    // TODO: export once per interval on a fixed schedule (an export that takes a while must not
    // push every later tick back; an export that overran a tick does not fire the missed ones
    // back to back), and return as soon as stop is requested, also in the middle of a wait.
    // Lesson 5, "Part 2: the exporter thread: start, prompt stop, join, exceptions" ("A sleep
    // cannot be interrupted"). Questions: what can a thread wait on that another thread can cut
    // short, and how does `stop` cut it short? Do you compute the next tick from the previous
    // tick or from the end of the export?
    LAB_TODO("export_loop(): one export per interval, leaving at once when stop is requested, even "
             "mid-wait (lesson 5, \"Part 2: the exporter thread\"). What can a thread wait on "
             "that another thread can interrupt?");
  }

  // One export: a fresh snapshot (the maps as they are NOW, later registrations included)
  // handed to the callback. Never throws.
  void export_once([[maybe_unused]] const ExportCallback& callback) {
    // TODO: hand a fresh snapshot to the callback; count a normal return in exports_ and a
    // failure in failed_exports_, whatever was thrown; never let an exception out. Lesson 5,
    // "Part 2: the exporter thread: start, prompt stop, join, exceptions" (rule 5 of "Rules").
    // Questions: what happens to the whole program when an exception leaves a thread's
    // function? C++ can throw an int: which handler catches it? (The two counts are statistics:
    // exports() and failed_exports() above say what their readers are promised.)
    LAB_TODO("export_once(): snapshot, call back, count success or failure, and let nothing "
             "escape (lesson 5, \"Part 2: the exporter thread\"). What may a callback throw?");
  }

  const std::chrono::milliseconds interval_;
  // TODO: the lock that guards metrics_ (lesson 5, "Part 1: the registry, and a lock where a lock
  // belongs"). Which kind lets the readers run together and wait only for a registration? (It is
  // locked in const members too.)
  Metrics metrics_;
  std::atomic<std::uint64_t> exports_{0};
  std::atomic<std::uint64_t> failed_exports_{0};
  // TODO: what start_export() and stop() need: a way to tell whether an exporter runs, the
  // exporter thread itself, and whatever makes a start and a stop one step each (lesson 5,
  // "Part 2: the exporter thread"). Questions: members are constructed in the order they are
  // declared and destroyed in the reverse order ([class.base.init], [class.dtor]); so where in
  // this list must a member whose thread uses the others be declared?
};

}  // namespace metrics
