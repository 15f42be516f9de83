// metrics_collector.hpp: milestone 2, a service's request metrics on relaxed atomics.
//
// MetricsCollector holds the four numbers a request handler updates on every call: requests
// served, errors and bytes sent (counters: they only go up) and open connections (a gauge: it
// goes up and down). Any number of threads update it without a lock; an exporter thread calls
// snapshot() at any time without stopping them.
//
// Each counter is an independent atomic, so each one is exact: no update is ever lost, and after
// the writers are joined a snapshot shows every one of them. Between counters, relaxed
// operations promise no order at all, with one deliberate exception:
//
//   If each thread records an error only AFTER recording the request it belongs to, then EVERY
//   snapshot, even one taken while writers run, has errors <= requests (so error_rate() <= 1).
//
// That takes two things: record_error() is a release read-modify-write, and snapshot() loads
// errors (acquire) BEFORE it loads requests. A snapshot is still not a picture of one instant:
// it reads four atomics at four moments, and no choice of memory orders changes that. Only the
// invariant above is promised. lessons/02-relaxed-metrics/README.md explains why.
//
// Example:
//   metrics::MetricsCollector http;
//   http.connection_opened();                 // worker threads
//   http.record_request();
//   if (failed) http.record_error();          // after record_request(), on the same thread
//   http.record_bytes(body.size());
//   http.connection_closed();
//   const metrics::MetricsSnapshot now = http.snapshot();  // exporter thread, any time
#pragma once

#include <atomic>
#include <cstdint>

#include "lab_todo.hpp"

namespace metrics {

// The values snapshot() read: a plain value type to copy, print and compare. Tests may build
// one by hand: MetricsSnapshot{.requests = 4, .errors = 1}.
struct MetricsSnapshot {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;
  std::uint64_t bytes_sent = 0;
  // Opened minus closed. Signed: one connection_closed() too many gives -1, never 2^64 - 1.
  std::int64_t active_connections = 0;

  // errors / requests as a double (0.5 for 1 error in 2 requests); 0.0 when requests == 0.
  // At most 1.0 in every snapshot of a collector used as described above.
  [[nodiscard]] double error_rate() const {
    // TODO: divide in floating point, not in integers (1 / 2 == 0), and return 0.0 when there
    // are no requests instead of dividing by zero.
    LAB_TODO("error_rate(): return 0.0 without requests, else errors / requests as doubles");
  }
};

class MetricsCollector {
 public:
  MetricsCollector() = default;

  // A synchronization object has an identity: a copy would split one set of counts in two.
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // Counts one request. Any thread, any time; never loses an update.
  void record_request() {
    // TODO: one relaxed fetch_add on requests_: this count needs atomicity, not ordering.
    LAB_TODO("record_request(): requests_.fetch_add(1, std::memory_order_relaxed)");
  }

  // Counts one error. Any thread, any time. Call it after record_request() for the same request,
  // on the same thread: that is what keeps errors <= requests in every snapshot.
  void record_error() {
    // TODO: one fetch_add on errors_ that PUBLISHES this thread's earlier record_request() to a
    // snapshot() that sees this error. Which memory order releases earlier writes?
    LAB_TODO("record_error(): add 1 to errors_ with a release fetch_add");
  }

  // Adds `bytes` to the bytes-sent counter. Any thread, any time; all 64 bits are kept.
  void record_bytes([[maybe_unused]] std::uint64_t bytes) {
    // TODO: one relaxed fetch_add of `bytes` on bytes_sent_.
    LAB_TODO("record_bytes(): bytes_sent_.fetch_add(bytes, std::memory_order_relaxed)");
  }

  // Gauge +1. Any thread, any time.
  void connection_opened() {
    // TODO: declare the gauge member below first. Then one relaxed fetch_add.
    LAB_TODO("connection_opened(): add 1 to the gauge with a relaxed fetch_add");
  }

  // Gauge -1. Any thread, any time. Never clamps: a close without an open (a bug in the caller,
  // or a close counted before its open on another thread) shows as a negative gauge.
  void connection_closed() {
    // TODO: one relaxed fetch_sub. Do not "protect" zero with a check: that is not atomic, and
    // the gauge must be able to go below zero.
    LAB_TODO("connection_closed(): subtract 1 from the gauge with a relaxed fetch_sub");
  }

  // Reads every value once. Any thread, any time, concurrently with writers; never blocks them.
  // Guarantees errors <= requests (see the banner); the four values are otherwise read at four
  // different moments, so e.g. bytes_sent may include bytes of a request not yet counted.
  [[nodiscard]] MetricsSnapshot snapshot() const {
    // TODO: load errors_ with acquire FIRST, then requests_, then the other two, into local
    // variables, and return them in a MetricsSnapshot. Careful: MetricsSnapshot{requests_.load(),
    // errors_.load(), ...} evaluates its elements left to right, so it loads requests first.
    LAB_TODO("snapshot(): load errors_ (acquire) BEFORE requests_, then build the snapshot");
  }

 private:
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  // TODO: declare the gauge, active_connections_. Which type? It must be able to go below zero
  // (see MetricsSnapshot::active_connections and the lesson's "signed gauge" section).

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "lock-free metrics need lock-free 64-bit atomics on this platform");
};

}  // namespace metrics
