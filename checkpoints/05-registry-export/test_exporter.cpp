// Checkpoints for milestone 5: the background exporter's life cycle (metrics_registry.hpp).
// Each TEST_CASE names the mistake it exists to catch; mutants.json keeps a wrong
// implementation that it must fail. Every wait here has a deadline (m5_support.hpp): a wrong
// exporter makes a test fail, never hang.
#include <metrics_registry.hpp>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "lab_test.hpp"
#include "m5_support.hpp"

using metrics::FullSnapshot;
using metrics::MetricsRegistry;
using m5::eventually;
using namespace std::chrono_literals;

TEST_CASE("the exporter calls back periodically with fresh snapshots") {
  // Catches: an exporter that exports once, reuses the snapshot it took at start, spins
  // without waiting for the interval, or does not count its exports.
  constexpr auto kInterval = 20ms;
  MetricsRegistry registry(kInterval);
  const auto http = registry.register_collector("http");
  http->record_request();
  std::mutex mutex;  // test bookkeeping only
  std::vector<std::chrono::system_clock::time_point> stamps;
  std::vector<std::uint64_t> requests;
  std::atomic<int> calls{0};
  const auto wall_start = std::chrono::system_clock::now();
  const auto start = std::chrono::steady_clock::now();
  registry.start_export([&](const FullSnapshot& s) {
    {
      const std::scoped_lock lock(mutex);
      stamps.push_back(s.timestamp);
      const auto it = s.collectors.find("http");
      requests.push_back(it == s.collectors.end() ? 0 : it->second.requests);
    }
    calls.fetch_add(1);
  });
  REQUIRE_MESSAGE(eventually([&] { return calls.load() >= 3; }),
                  "fewer than 3 exports in 3 s with a 20 ms interval");
  http->record_request();
  CHECK_MESSAGE(eventually([&] {
                  const std::scoped_lock lock(mutex);
                  return requests.back() == 2;
                }),
                "no export showed a request recorded after the exporter started");
  registry.stop();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const int n = calls.load();
  CHECK(registry.exports() == static_cast<std::uint64_t>(n));
  CHECK(registry.failed_exports() == 0);
  // At most one export per interval (plus slack): the exporter waits, it does not spin.
  CHECK(n <= elapsed / kInterval + 2);
  const std::scoped_lock lock(mutex);
  CHECK(stamps.front() >= wall_start);
  for (std::size_t i = 1; i < stamps.size(); ++i) CHECK(stamps[i - 1] <= stamps[i]);
}

TEST_CASE("metrics registered after start_export are exported") {
  // Catches: an exporter that copies the maps when it starts: every
  // metric registered later is recorded into but never exported.
  MetricsRegistry registry(5ms);
  std::atomic<int> calls{0};
  std::atomic<bool> saw_late{false};
  registry.start_export([&](const FullSnapshot& s) {
    calls.fetch_add(1);
    const auto it = s.collectors.find("late");
    if (it != s.collectors.end() && it->second.requests == 1 && s.histograms.count("late_h") &&
        s.min_max.count("late_mm")) {
      saw_late.store(true);
    }
  });
  REQUIRE_MESSAGE(eventually([&] { return calls.load() >= 1; }), "the exporter never exported");
  const auto late = registry.register_collector("late");
  late->record_request();
  registry.register_histogram("late_h", std::array<std::uint64_t, 1>{10})->record(1);
  registry.register_min_max("late_mm")->update(1);
  CHECK_MESSAGE(eventually([&] { return saw_late.load(); }, 2000ms),
                "metrics registered after start_export() never appeared in an export");
  registry.stop();
}

TEST_CASE("stop returns promptly with a 60 s interval") {
  // Catches: an export_loop() that sleeps (sleep_for) and checks a flag afterwards: stop() then
  // waits out the whole interval, here a minute (lesson 5, "A sleep cannot be interrupted": what
  // can a thread wait on that another thread can cut short?).
  const auto calls = std::make_shared<std::atomic<int>>(0);
  auto registry = std::make_shared<MetricsRegistry>(60s);
  registry->start_export([calls](const FullSnapshot&) { calls->fetch_add(1); });
  std::this_thread::sleep_for(50ms);  // let the exporter thread reach its wait
  const auto took = m5::time_stop(std::move(registry));
  REQUIRE_MESSAGE(took.has_value(), "stop() had not returned after 3 s (interval: 60 s)");
  INFO("stop() took " << std::chrono::duration<double, std::milli>(*took).count() << " ms");
  CHECK(*took < 100ms);
  CHECK(calls->load() == 0);  // no export is due before the first interval has passed
}

TEST_CASE("no callback runs after stop returns") {
  // Catches: stop() that asks the thread to stop and returns before it has ended: a callback in
  // progress keeps running after stop() returned (lesson 5, "Part 2: the exporter thread": what
  // waits for a thread to end?). It may touch what the caller frees next.
  std::atomic<int> entered{0};
  std::atomic<bool> inside{false};
  MetricsRegistry registry(5ms);
  registry.start_export([&](const FullSnapshot&) {
    inside.store(true);
    entered.fetch_add(1);
    std::this_thread::sleep_for(200ms);  // a slow export: stop() must wait for it
    inside.store(false);
  });
  REQUIRE_MESSAGE(eventually([&] { return entered.load() >= 1; }), "the exporter never exported");
  registry.stop();
  const bool was_inside = inside.load();
  const int entered_at_stop = entered.load();
  std::this_thread::sleep_for(30ms);
  CHECK_MESSAGE(!was_inside, "stop() returned while a callback was still running");
  CHECK_MESSAGE(entered.load() == entered_at_stop, "a callback started after stop() returned");
}

TEST_CASE("start_export twice throws logic_error and stop is idempotent") {
  // Catches: a second start that silently starts a second thread (or assigns over a running
  // std::thread: std::terminate), stop() that fails when called twice or before any start,
  // an empty callback accepted, and a stopped exporter that cannot be started again.
  CHECK_THROWS_AS(static_cast<void>(MetricsRegistry(0ms)), std::invalid_argument);
  CHECK_THROWS_AS(static_cast<void>(MetricsRegistry(-5ms)), std::invalid_argument);
  CHECK_THROWS_AS(static_cast<void>(MetricsRegistry(25h)), std::invalid_argument);
  MetricsRegistry registry(5ms);
  registry.stop();  // never started: nothing to do
  std::atomic<int> calls{0};
  CHECK_THROWS_AS(registry.start_export(MetricsRegistry::ExportCallback{}),
                  std::invalid_argument);
  registry.start_export([&](const FullSnapshot&) { calls.fetch_add(1); });
  REQUIRE(eventually([&] { return calls.load() >= 1; }));
  CHECK_THROWS_AS(registry.start_export([](const FullSnapshot&) {}), std::logic_error);
  registry.stop();
  registry.stop();
  const int after_stop = calls.load();
  registry.start_export([&](const FullSnapshot&) { calls.fetch_add(1); });
  CHECK_MESSAGE(eventually([&] { return calls.load() > after_stop; }),
                "start_export() after stop() did not export again");
  registry.stop();
}

TEST_CASE("racing start_export calls start exactly one exporter") {
  // Catches: a start_export() whose "is an exporter running?" check and start are not one step: two
  // racing calls both see none and both start one (the later replaces the earlier), and neither
  // throws logic_error. An unguarded thread member is a data race too. Two threads released
  // together call start_export() on a fresh registry, round after round; exactly one call per round
  // must start the exporter and the other must be refused. A round counts only when both threads
  // were inside their calls at once.
  constexpr int kRounds = 200;
  constexpr int kOverlapsNeeded = 20;
  int wrong = 0, overlapped = 0, first_wrong = -1;
  for (int round = 0; round < kRounds && overlapped < 4 * kOverlapsNeeded; ++round) {
    MetricsRegistry registry(60s);
    std::atomic<int> refused{0};
    lab::StartLine start(2);
    const auto run = lab::run_together(2, [&](std::size_t) {
      start.arrive_and_wait();
      try {
        registry.start_export([](const FullSnapshot&) {});
      } catch (const std::logic_error&) {
        refused.fetch_add(1);
      }
    });
    registry.stop();
    overlapped += run.overlapped;
    if (refused.load() != 1) {
      ++wrong;
      if (first_wrong < 0) first_wrong = refused.load();
    }
  }
  INFO("rounds whose two calls overlapped: " << overlapped);
  CHECK_MESSAGE(wrong == 0, "in " << wrong << " rounds, two start_export() calls racing each other "
                                  "did not end with exactly one exporter started and one refused ("
                                  << first_wrong << " refused in the first such round): what "
                                                    "keeps two callers from both deciding "
                                                    "\"no exporter is running\"?");
  lab::conclude(overlapped >= kOverlapsNeeded
                    ? ""
                    : "the two start_export() calls overlapped in only " +
                          std::to_string(overlapped) + " rounds (" +
                          std::to_string(kOverlapsNeeded) + " needed)");
}

TEST_CASE("the destructor stops a running exporter") {
  // Catches: a destructor that does not stop the exporter: a joinable std::thread member
  // calls std::terminate, a detached thread uses the destroyed registry, and a sleeping one
  // makes destruction wait out the interval.
  const auto calls = std::make_shared<std::atomic<int>>(0);
  auto registry = std::make_shared<MetricsRegistry>(60s);
  registry->start_export([calls](const FullSnapshot&) { calls->fetch_add(1); });
  std::this_thread::sleep_for(50ms);
  const auto took = m5::time_destruction(std::move(registry));
  REQUIRE_MESSAGE(took.has_value(), "destroying the registry had not finished after 3 s");
  INFO("destruction took " << std::chrono::duration<double, std::milli>(*took).count() << " ms");
  CHECK(*took < 100ms);
  CHECK(calls->load() == 0);
}

TEST_CASE("a throwing callback does not stop later exports") {
  // Catches: a failure not counted in failed_exports(), an exception escaping export_once() and
  // the exporter thread (std::terminate ends the program), catching only std::exception (a
  // thrown int still escapes), or an exporter loop that ends at the first failure.
  MetricsRegistry registry(5ms);
  std::atomic<int> calls{0};
  registry.start_export([&](const FullSnapshot&) {
    const int n = calls.fetch_add(1);
    if (n == 0) throw std::runtime_error("the collector endpoint is down");
    if (n == 1) throw 42;  // not a std::exception
  });
  CHECK_MESSAGE(eventually([&] { return calls.load() >= 4; }),
                "the exporter stopped exporting after a callback threw");
  registry.stop();
  CHECK(registry.failed_exports() == 2);
  CHECK(registry.exports() == static_cast<std::uint64_t>(calls.load() - 2));
}
