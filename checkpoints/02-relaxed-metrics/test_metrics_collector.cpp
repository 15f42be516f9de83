// Checkpoints for milestone 2: MetricsCollector and MetricsSnapshot (metrics_collector.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
//
// Two kinds of ordering mistakes, two kinds of tests. The order in which snapshot() runs its
// loads is visible on every CPU: the "more errors than requests" test counts it. The memory
// orders are not: on x86-64 most of them compile to the same instructions. ThreadSanitizer
// checks them against the C++ memory model instead, through a plain "payload" written before
// record_error() and read after a snapshot that counted that error (the "sees what its writer
// did before" test).
#include <metrics_collector.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "lab_test.hpp"

using metrics::MetricsCollector;
using metrics::MetricsSnapshot;

namespace {

// doctest prints a failed CHECK's operands; this makes a whole snapshot readable in INFO().
doctest::String describe(const MetricsSnapshot& s) {
  return doctest::String("{requests=") + doctest::toString(s.requests) +
         ", errors=" + doctest::toString(s.errors) + ", bytes_sent=" +
         doctest::toString(s.bytes_sent) + ", active_connections=" +
         doctest::toString(s.active_connections) + "}";
}

// The concurrency tests below keep their writers going until the threads have really met
// (lab::Overlap): the mistakes they catch need the threads interleaved. A lost update needs a
// writer to run between another's load and store, a badly ordered snapshot needs writers to run
// between two of its loads. kMeet asks for at least 100 ms after every thread has started and
// 100 sightings (a thread finding that another made progress since it last looked); on a
// loaded machine that takes longer, and after 10 s without it the test is inconclusive.
constexpr lab::OverlapGoal kMeet{.min_time = lab::milliseconds(100), .min_sightings = 100};

}  // namespace

TEST_CASE("a new collector reads zero and cannot be copied") {
  // Catches: a 32-bit or unsigned-gauge API, a snapshot() that returns something else, and a
  // copyable collector (a copy splits one set of counts in two).
  CHECK(std::is_same_v<decltype(MetricsSnapshot::requests), std::uint64_t>);
  CHECK(std::is_same_v<decltype(MetricsSnapshot::errors), std::uint64_t>);
  CHECK(std::is_same_v<decltype(MetricsSnapshot::bytes_sent), std::uint64_t>);
  CHECK(std::is_same_v<decltype(MetricsSnapshot::active_connections), std::int64_t>);
  CHECK(std::is_same_v<decltype(std::declval<const MetricsSnapshot&>().error_rate()), double>);
  CHECK(std::is_same_v<decltype(std::declval<const MetricsCollector&>().snapshot()),
                       MetricsSnapshot>);
  CHECK_FALSE(std::is_copy_constructible_v<MetricsCollector>);
  CHECK_FALSE(std::is_copy_assignable_v<MetricsCollector>);
  const MetricsCollector collector;
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.requests == 0);
  CHECK(s.errors == 0);
  CHECK(s.bytes_sent == 0);
  CHECK(s.active_connections == 0);
}

TEST_CASE("record_request counts requests only") {
  // Catches: record_request() bumping the wrong counter, and snapshot() copying a value into
  // the wrong field (e.g. requests read from errors_).
  MetricsCollector collector;
  collector.record_request();
  collector.record_request();
  collector.record_request();
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.requests == 3);
  CHECK(s.errors == 0);
  CHECK(s.bytes_sent == 0);
  CHECK(s.active_connections == 0);
}

TEST_CASE("record_error counts errors only") {
  // Catches: record_error() that also counts a request (then errors <= requests would hold
  // trivially and the error rate would be wrong), or that bumps the wrong counter.
  MetricsCollector collector;
  collector.record_request();
  collector.record_request();
  collector.record_error();
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.requests == 2);
  CHECK(s.errors == 1);
  CHECK(s.bytes_sent == 0);
  CHECK(s.active_connections == 0);
}

TEST_CASE("record_bytes adds the given amount to bytes_sent only") {
  // Catches: record_bytes() that adds 1, adds to requests_, or truncates to 32 bits.
  MetricsCollector collector;
  collector.record_bytes(1024);
  CHECK(collector.snapshot().bytes_sent == 1024);
  collector.record_bytes(0);
  collector.record_bytes(std::uint64_t{1} << 40);
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.bytes_sent == (std::uint64_t{1} << 40) + 1024);
  CHECK(s.requests == 0);
  CHECK(s.errors == 0);
  CHECK(s.active_connections == 0);
}

TEST_CASE("connection_opened and connection_closed move the gauge") {
  // Catches: a gauge that only counts up (close adds), or open/close on a counter field.
  MetricsCollector collector;
  collector.connection_opened();
  collector.connection_opened();
  CHECK(collector.snapshot().active_connections == 2);
  collector.connection_closed();
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.active_connections == 1);
  CHECK(s.requests == 0);
  CHECK(s.errors == 0);
  CHECK(s.bytes_sent == 0);
}

TEST_CASE("the gauge goes below zero") {
  // Catches: an unsigned gauge whose wrapped value reaches the snapshot (one close too many
  // gives 4294967295 from a 32-bit one) and a gauge that clamps at zero (it hides the caller's
  // bug and drifts up once opens follow). A 64-bit unsigned member converted to std::int64_t
  // reads -1 here (C++20 defines that conversion as modular); the lesson explains why the
  // member should be signed anyway.
  MetricsCollector collector;
  collector.connection_closed();
  CHECK(collector.snapshot().active_connections == -1);
  collector.connection_closed();
  collector.connection_closed();
  CHECK(collector.snapshot().active_connections == -3);
  for (int i = 0; i < 4; ++i) collector.connection_opened();
  CHECK(collector.snapshot().active_connections == 1);
}

TEST_CASE("error_rate divides errors by requests") {
  // Catches: integer division (1 / 2 == 0) and a rate computed the wrong way round.
  MetricsCollector collector;
  collector.record_request();
  collector.record_error();
  collector.record_request();
  CHECK(collector.snapshot().error_rate() == 0.5);
  CHECK(MetricsSnapshot{.requests = 4, .errors = 1}.error_rate() == 0.25);
  CHECK(MetricsSnapshot{.requests = 3, .errors = 1}.error_rate() == doctest::Approx(1.0 / 3.0));
  CHECK(MetricsSnapshot{.requests = 7, .errors = 7}.error_rate() == 1.0);
  CHECK(MetricsSnapshot{.requests = 5, .errors = 0}.error_rate() == 0.0);
}

TEST_CASE("error_rate is 0 without requests") {
  // Catches: dividing by zero requests, which gives NaN (0.0 / 0.0) or infinity (5.0 / 0.0)
  // in doubles, or a crash (SIGFPE) in integers; the contract says 0.0.
  CHECK(MetricsSnapshot{}.error_rate() == 0.0);
  CHECK(MetricsSnapshot{.requests = 0, .errors = 5}.error_rate() == 0.0);
  MetricsCollector collector;
  CHECK(collector.snapshot().error_rate() == 0.0);
  collector.record_error();
  CHECK(collector.snapshot().error_rate() == 0.0);
}

TEST_CASE("concurrent writers lose no counts") {
  // Catches: an increment written as store(load() + n): both calls are atomic, so TSan says
  // nothing, but two threads that load the same value store the same sum and one update is
  // lost. Also a plain (non-atomic) member, which TSan reports as a data race. The totals are
  // exact because every writer is joined before the final snapshot: join makes all of a
  // thread's writes, relaxed ones included, visible to the joining thread.
  const std::size_t threads = lab::stress_threads();
  MetricsCollector collector;
  const auto report = lab::hammer(threads, kMeet, [&](std::size_t t, std::uint64_t i) {
    collector.record_request();
    if (i % 4 == 0) collector.record_error();
    collector.record_bytes(t + 1);
  });
  std::uint64_t requests = 0, errors = 0, bytes = 0;
  for (std::size_t t = 0; t < threads; ++t) {
    requests += report.ops[t];
    errors += (report.ops[t] + 3) / 4;  // rounds 0, 4, 8, ... record an error
    bytes += report.ops[t] * (t + 1);
  }
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.requests == requests);
  CHECK(s.errors == errors);
  CHECK(s.bytes_sent == bytes);
  CHECK(s.active_connections == 0);
  lab::conclude(report.missing);
}

TEST_CASE("no snapshot shows more errors than requests while writers run") {
  // Catches: a snapshot that counts an error whose request it does not count: a read order that
  // lets a request and its error both land between two of its loads (lesson 2, "A snapshot is not a
  // snapshot": which load must come first?). Then errors > requests and error_rate() > 1. This
  // happens on every CPU, x86 included, whatever the memory orders: it is about when each load
  // runs, and the reader is often preempted or slowed between them. TSan reports nothing (every
  // access is atomic), so the test counts. Every writer records a request and then its error: the
  // invariant the contract promises.
  const std::size_t writers = lab::stress_threads() - 1;
  MetricsCollector collector;
  std::uint64_t bad = 0, backwards = 0;  // reader thread only; read after the join
  MetricsSnapshot first_bad, last;
  const auto report = lab::hammer(
      writers, kMeet,
      [&](std::size_t, std::uint64_t) {
        collector.record_request();
        collector.record_error();
      },
      [&] {
        const MetricsSnapshot s = collector.snapshot();
        if (s.errors > s.requests || s.error_rate() > 1.0) {
          if (bad == 0) first_bad = s;
          ++bad;
        }
        // A later load of the same atomic never reads an older value (read-read coherence).
        if (s.requests < last.requests || s.errors < last.errors) ++backwards;
        last = s;
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps << "; the threads met "
                                             << report.sightings << " times");
  INFO("snapshots with errors > requests: " << bad << ", the first: " << describe(first_bad));
  CHECK(bad == 0);
  CHECK(backwards == 0);
  const MetricsSnapshot final_snapshot = collector.snapshot();
  CHECK(final_snapshot.requests == report.total_ops());
  CHECK(final_snapshot.errors == report.total_ops());
  CHECK(final_snapshot.error_rate() == 1.0);
  lab::conclude(report.missing);
}

TEST_CASE("a snapshot that counts an error sees what its writer did before") {
  // Catches: a snapshot that counts an error but not what its writer did before it: orders that
  // build no happens-before edge from writer to reader (lesson 2, "Happens-before in five rules":
  // which write vouches for the others, which read pairs with it?). Then nothing orders the
  // writer's earlier writes before the reader's later reads: a data race, which ThreadSanitizer
  // reports (x86-64 hides it: the orders that differ here compile to the same instructions there;
  // weakly ordered CPUs such as ARM do not). It is the promise of the banner of
  // metrics_collector.hpp, seen from the outside: the requests behind a counted error are counted
  // too. Here the "request" also leaves plain data behind: before its k-th request and error,
  // writer w writes k into a plain (non-atomic) array. Each writer has a collector of its own, so a
  // snapshot showing e errors in collector w may read element e - 1 of w's array, and must find
  // e - 1 there.
  constexpr std::size_t max_writers = 8;
  constexpr std::uint64_t per_writer = 50'000;
  constexpr std::uint64_t capacity = 8 * per_writer;
  const std::size_t writers = std::min(lab::stress_threads() - 1, max_writers);
  std::vector<std::unique_ptr<MetricsCollector>> collectors;
  // Not zero-filled: only elements a writer has written are ever read.
  std::vector<std::unique_ptr<std::uint64_t[]>> payload;
  for (std::size_t w = 0; w < writers; ++w) {
    collectors.push_back(std::make_unique<MetricsCollector>());
    payload.push_back(std::make_unique_for_overwrite<std::uint64_t[]>(capacity));
  }
  std::uint64_t wrong = 0, checked = 0, uncovered = 0;  // reader thread only
  const auto report = lab::hammer(
      writers, {.min_ops = per_writer, .max_ops = capacity, .min_reader_steps = 200},
      [&](std::size_t w, std::uint64_t k) {
        payload[w][k] = k;  // plain write; a snapshot counting the error below must see it
        collectors[w]->record_request();
        collectors[w]->record_error();
      },
      [&] {
        bool saw_errors = false;
        for (std::size_t w = 0; w < writers; ++w) {
          const MetricsSnapshot s = collectors[w]->snapshot();
          if (s.errors == 0) continue;
          saw_errors = true;
          if (s.errors > capacity || payload[w][s.errors - 1] != s.errors - 1) ++wrong;
          if (s.requests < s.errors) ++uncovered;
          ++checked;
        }
        return saw_errors;  // a step that saw writers at work
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps << ", " << checked
                                             << " errors checked");
  CHECK(wrong == 0);
  CHECK(uncovered == 0);
  for (std::size_t w = 0; w < writers; ++w) {
    CHECK(collectors[w]->snapshot().errors == report.ops[w]);
  }
  lab::conclude(report.missing);
}

TEST_CASE("the gauge stays within bounds while writers run") {
  // Catches: connection_opened()/connection_closed() as load() + store() (lost updates make
  // the gauge drift), a gauge that refuses to go below zero (it drifts up), and an unsigned
  // 32-bit gauge (the reader sees 4294967295 where the gauge is a little below zero).
  // Writer w closes kBurst connections then opens kBurst (even w), or opens then closes (odd
  // w), so at any moment it adds between -kBurst and 0 (even) or 0 and +kBurst (odd) to the
  // gauge: every snapshot lies in [-kBurst * closers, +kBurst * openers]. Bursts, not single
  // open/close pairs, because a lost update that overwrites a whole balanced pair changes
  // nothing; one that overwrites part of a burst leaves the gauge off for good.
  constexpr std::int64_t kBurst = 8;
  const std::size_t writers = lab::stress_threads() - 1;
  const auto closers = static_cast<std::int64_t>((writers + 1) / 2);
  const auto openers = static_cast<std::int64_t>(writers / 2);
  MetricsCollector collector;
  std::uint64_t out_of_bounds = 0;  // reader thread only; read after the join
  std::int64_t lowest = 0, highest = 0;
  const auto report = lab::hammer(
      writers, kMeet,
      [&](std::size_t w, std::uint64_t) {
        if (w % 2 == 0) {
          for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_closed();
          for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_opened();
        } else {
          for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_opened();
          for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_closed();
        }
      },
      [&] {
        const std::int64_t active = collector.snapshot().active_connections;
        lowest = std::min(lowest, active);
        highest = std::max(highest, active);
        if (active < -kBurst * closers || active > kBurst * openers) ++out_of_bounds;
      });
  INFO("snapshots taken while writers ran: " << report.reader_steps << "; the threads met "
                                             << report.sightings << " times");
  INFO("gauge seen between " << lowest << " and " << highest << "; allowed: "
                             << -kBurst * closers << " to " << kBurst * openers);
  CHECK(out_of_bounds == 0);
  CHECK(collector.snapshot().active_connections == 0);
  lab::conclude(report.missing);
}
