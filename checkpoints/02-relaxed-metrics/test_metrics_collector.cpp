// Checkpoints for milestone 2: MetricsCollector and MetricsSnapshot (metrics_collector.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
//
// What these tests cannot see: on x86-64 a relaxed record_error() or a relaxed load of errors
// compiles to the same instructions as the release/acquire versions, and the CPU does not
// reorder those accesses, so no run-time test here can tell them apart (the instructor-only
// Relacy models of milestone 6 check them against the C++ memory model instead). The load
// ORDER in snapshot() is different: it is visible on every CPU, and the snapshot test below
// catches it by counting.
#include <metrics_collector.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
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

// Keeps the writers of a concurrency test going until the threads have really met.
//
// On a busy 2-core machine (CI, or a laptop compiling in the background) threads often do not
// run in parallel: the scheduler hands out time slices of several milliseconds, so a fixed
// number of rounds can finish before another thread of the test ever runs, and then nothing was
// tested. The mistakes these tests catch need the threads interleaved: a lost update needs a
// writer to run between another's load and store, a badly ordered snapshot needs writers to
// run between two of its loads. Each interleaving (in parallel, or by a thread switch) shows up
// as a "sighting": a thread finds that another one made progress since it last looked.
//
// So every writer publishes its progress and runs rounds until all writers have started, at
// least kMinTime has passed since then, and the writers have seen each other kSightings times
// (and the reader, if there is one, has seen the writers move kSightings times). On an idle
// machine that takes kMinTime; on a loaded one, longer. kGiveUp bounds a run in which the
// threads never meet; the test then fails with "the threads never met". Each writer returns
// how many rounds it ran, so the expected totals stay exact.
class Stress {
 public:
  static constexpr std::uint64_t kSightings = 100;
  static constexpr std::chrono::milliseconds kMinTime{100};
  static constexpr std::chrono::milliseconds kGiveUp{10'000};

  Stress(std::size_t writers, bool with_reader)
      : progress_(writers), writers_(writers), with_reader_(with_reader) {}
  Stress(const Stress&) = delete;
  Stress& operator=(const Stress&) = delete;

  // Writer `w` calls this once: round(i) for i = 0, 1, ... until done; returns the count.
  template <class Round>
  std::uint64_t run_writer(std::size_t w, Round&& round) {
    using clock = std::chrono::steady_clock;
    started_.fetch_add(1);
    const auto give_up = clock::now() + kGiveUp;
    auto min_end = give_up;
    bool all_started = false;
    std::uint64_t last_seen = others_progress(w);
    std::uint64_t done = 0;
    for (;; ++done) {
      if (done % 64 == 0) {  // publish and look around every 64 rounds, not on every one
        // order: relaxed: a progress hint; nothing is published through it.
        progress_[w].rounds.store(done, std::memory_order_relaxed);
        const std::uint64_t seen = others_progress(w);
        if (seen != last_seen) {
          last_seen = seen;
          // order: relaxed: a statistic, read after the threads are joined.
          writer_sightings_.fetch_add(1, std::memory_order_relaxed);
        }
        const auto now = clock::now();
        if (!all_started && started_.load() >= writers_) {
          all_started = true;
          min_end = now + kMinTime;
        }
        if (now >= give_up || (now >= min_end && sightings() >= kSightings)) break;
      }
      round(done);
    }
    return done;
  }

  // The reader calls this once per step (after its checks): counts a sighting when the writers
  // made progress since its previous step.
  void reader_step() noexcept {
    const std::uint64_t seen = others_progress(writers_);
    if (seen != reader_last_seen_) {
      reader_last_seen_ = seen;
      // order: relaxed: a statistic, read after the threads are joined.
      reader_sightings_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // The reader calls this if its step throws (a TODO): the writers stop waiting for it.
  void reader_died() noexcept { reader_dead_.store(true); }

  // What the test asserts after the join: how often the threads met (the fewer of writers
  // seeing writers and, with a live reader, the reader seeing writers).
  [[nodiscard]] std::uint64_t sightings() const noexcept {
    // order: relaxed: as above.
    const std::uint64_t writers = writer_sightings_.load(std::memory_order_relaxed);
    if (!with_reader_ || reader_dead_.load()) return writers;
    // order: relaxed: as above.
    return std::min(writers, reader_sightings_.load(std::memory_order_relaxed));
  }

 private:
  // One cache line per writer, so that publishing progress adds no contention of its own.
  // 64 is the line size of x86-64 and most ARM cores (std::hardware_destructive_interference_size
  // is missing from libstdc++ 12 with clang 14).
  struct alignas(64) Progress {
    std::atomic<std::uint64_t> rounds{0};
  };

  [[nodiscard]] std::uint64_t others_progress(std::size_t self) const noexcept {
    std::uint64_t sum = 0;
    for (std::size_t w = 0; w < writers_; ++w) {
      // order: relaxed: a progress hint; see above.
      if (w != self) sum += progress_[w].rounds.load(std::memory_order_relaxed);
    }
    return sum;
  }

  std::vector<Progress> progress_;
  const std::size_t writers_;
  const bool with_reader_;
  std::atomic<std::size_t> started_{0};
  std::atomic<std::uint64_t> writer_sightings_{0};
  std::atomic<std::uint64_t> reader_sightings_{0};
  std::atomic<bool> reader_dead_{false};
  std::uint64_t reader_last_seen_ = 0;  // the reader thread's own
};

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
  Stress stress(threads, /*with_reader=*/false);
  std::vector<std::uint64_t> rounds(threads, 0);  // slot t written by thread t only
  const auto run = lab::run_together(threads, [&](std::size_t t) {
    rounds[t] = stress.run_writer(t, [&](std::uint64_t i) {
      collector.record_request();
      if (i % 4 == 0) collector.record_error();
      collector.record_bytes(t + 1);
    });
  });
  REQUIRE_MESSAGE(run.overlapped, "the threads did not run at the same time; nothing was tested");
  REQUIRE_MESSAGE(stress.sightings() >= Stress::kSightings, "the threads never met");
  std::uint64_t requests = 0, errors = 0, bytes = 0;
  for (std::size_t t = 0; t < threads; ++t) {
    requests += rounds[t];
    errors += (rounds[t] + 3) / 4;  // rounds 0, 4, 8, ... record an error
    bytes += rounds[t] * (t + 1);
  }
  const MetricsSnapshot s = collector.snapshot();
  INFO(describe(s));
  CHECK(s.requests == requests);
  CHECK(s.errors == errors);
  CHECK(s.bytes_sent == bytes);
  CHECK(s.active_connections == 0);
}

TEST_CASE("no snapshot shows more errors than requests while writers run") {
  // Catches: snapshot() loading requests_ BEFORE errors_, e.g. the natural
  // MetricsSnapshot{requests_.load(), errors_.load(), ...}. Between the two loads writers add
  // requests and then errors, so the snapshot can count errors whose requests it never saw:
  // errors > requests and error_rate() > 1. This happens on every CPU, x86 included, whatever
  // the memory orders: it is about when each load runs, and the reader is often preempted or
  // slowed between them. TSan reports nothing (every access is atomic), so the test counts.
  // Every writer records a request and then its error: the invariant the contract promises.
  const std::size_t writers = lab::stress_threads() - 1;
  MetricsCollector collector;
  Stress stress(writers, /*with_reader=*/true);
  std::vector<std::uint64_t> rounds(writers, 0);  // slot w written by writer w only
  std::uint64_t bad = 0, backwards = 0;  // reader thread only; read after the join
  MetricsSnapshot first_bad, last;
  const auto report = lab::run_writers_and_reader(
      writers,
      [&](std::size_t w) {
        rounds[w] = stress.run_writer(w, [&](std::uint64_t) {
          collector.record_request();
          collector.record_error();
        });
      },
      [&] {
        MetricsSnapshot s;
        try {
          s = collector.snapshot();
        } catch (...) {
          stress.reader_died();  // a TODO: do not keep the writers waiting for this reader
          throw;
        }
        if (s.errors > s.requests || s.error_rate() > 1.0) {
          if (bad == 0) first_bad = s;
          ++bad;
        }
        // A later load of the same atomic never reads an older value (read-read coherence).
        if (s.requests < last.requests || s.errors < last.errors) ++backwards;
        last = s;
        stress.reader_step();
      });
  REQUIRE_MESSAGE(report.run.overlapped,
                  "the threads did not run at the same time; nothing was tested");
  INFO("snapshots taken while writers ran: " << report.reader_steps << ", of which "
                                             << stress.sightings() << " saw the writers move");
  REQUIRE_MESSAGE(stress.sightings() >= Stress::kSightings, "the threads never met");
  INFO("snapshots with errors > requests: " << bad << ", the first: " << describe(first_bad));
  CHECK(bad == 0);
  CHECK(backwards == 0);
  std::uint64_t pairs = 0;
  for (const std::uint64_t r : rounds) pairs += r;
  const MetricsSnapshot final_snapshot = collector.snapshot();
  CHECK(final_snapshot.requests == pairs);
  CHECK(final_snapshot.errors == pairs);
  CHECK(final_snapshot.error_rate() == 1.0);
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
  Stress stress(writers, /*with_reader=*/true);
  std::uint64_t out_of_bounds = 0;  // reader thread only; read after the join
  std::int64_t lowest = 0, highest = 0;
  const auto report = lab::run_writers_and_reader(
      writers,
      [&](std::size_t w) {
        stress.run_writer(w, [&](std::uint64_t) {
          if (w % 2 == 0) {
            for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_closed();
            for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_opened();
          } else {
            for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_opened();
            for (std::int64_t i = 0; i < kBurst; ++i) collector.connection_closed();
          }
        });
      },
      [&] {
        std::int64_t active = 0;
        try {
          active = collector.snapshot().active_connections;
        } catch (...) {
          stress.reader_died();  // a TODO: do not keep the writers waiting for this reader
          throw;
        }
        lowest = std::min(lowest, active);
        highest = std::max(highest, active);
        if (active < -kBurst * closers || active > kBurst * openers) ++out_of_bounds;
        stress.reader_step();
      });
  REQUIRE_MESSAGE(report.run.overlapped,
                  "the threads did not run at the same time; nothing was tested");
  INFO("snapshots taken while writers ran: " << report.reader_steps << ", of which "
                                             << stress.sightings() << " saw the writers move");
  REQUIRE_MESSAGE(stress.sightings() >= Stress::kSightings, "the threads never met");
  INFO("gauge seen between " << lowest << " and " << highest << "; allowed: "
                             << -kBurst * closers << " to " << kBurst * openers);
  CHECK(out_of_bounds == 0);
  CHECK(collector.snapshot().active_connections == 0);
}
