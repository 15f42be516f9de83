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
  [[nodiscard]] double error_rate() const noexcept {
    // Solution: no requests means no rate (not NaN, not infinity, not a crash); otherwise
    // convert BOTH operands before dividing, since errors / requests in integers is 0 or 1.
    if (requests == 0) return 0.0;
    return static_cast<double>(errors) / static_cast<double>(requests);
  }
};

class MetricsCollector {
 public:
  MetricsCollector() = default;

  // A synchronization object has an identity: a copy would split one set of counts in two.
  MetricsCollector(const MetricsCollector&) = delete;
  MetricsCollector& operator=(const MetricsCollector&) = delete;

  // Counts one request. Any thread, any time; never loses an update.
  void record_request() noexcept {
    // Solution: one RMW, so no increment is lost. Its order is relaxed because nothing is
    // published through requests_; the record_error() that may follow publishes this increment.
    // order: relaxed: an independent count; atomicity is all it needs.
    requests_.fetch_add(1, std::memory_order_relaxed);
  }

  // Counts one error. Any thread, any time. Call it after record_request() for the same request,
  // on the same thread: that is what keeps errors <= requests in every snapshot.
  void record_error() noexcept {
    // Solution: a release RMW. A snapshot() whose acquire load of errors_ reads this increment,
    // or any later one (every later increment is an RMW, so it continues this release sequence),
    // synchronizes with it, so this thread's earlier record_request() happens before the
    // snapshot's load of requests_, which therefore counts it.
    // order: release: publishes this thread's earlier record_request() to snapshot().
    errors_.fetch_add(1, std::memory_order_release);
  }

  // Adds `bytes` to the bytes-sent counter. Any thread, any time; all 64 bits are kept.
  void record_bytes(std::uint64_t bytes) noexcept {
    // Solution: the same single RMW with the caller's amount.
    // order: relaxed: an independent count; no invariant ties it to the other counters.
    bytes_sent_.fetch_add(bytes, std::memory_order_relaxed);
  }

  // Gauge +1. Any thread, any time.
  void connection_opened() noexcept {
    // Solution: an RMW on a signed atomic.
    // order: relaxed: an independent gauge; atomicity is all it needs.
    active_connections_.fetch_add(1, std::memory_order_relaxed);
  }

  // Gauge -1. Any thread, any time. Never clamps: a close without an open (a bug in the caller,
  // or a close counted before its open on another thread) shows as a negative gauge.
  void connection_closed() noexcept {
    // Solution: fetch_sub on the signed gauge. Checking "> 0" first would be a second,
    // separate step (another thread can change the gauge in between) and would hide the bug
    // that a negative gauge reveals. Atomic signed arithmetic wraps instead of overflowing
    // (no undefined behaviour), and 2^63 connections are not going to happen.
    // order: relaxed: an independent gauge; atomicity is all it needs.
    active_connections_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Reads every value once. Any thread, any time, concurrently with writers; never blocks them.
  // Guarantees errors <= requests (see the banner); the four values are otherwise read at four
  // different moments, so e.g. bytes_sent may include bytes of a request not yet counted.
  [[nodiscard]] MetricsSnapshot snapshot() const noexcept {
    // Solution: errors_ first, with acquire. If it reads e errors, the e release increments that
    // produced them happen before the load of requests_ below, and so do the e record_request()
    // calls that preceded them; requests_ is then at least e. Loaded the other way round, a
    // request and its error can both land between the two loads: errors > requests, on any CPU.
    // The values go into locals first because a braced MetricsSnapshot{...} evaluates its
    // elements in declaration order, which would load requests_ first.
    // order: acquire: pairs with record_error()'s release, so the requests behind these errors show.
    const std::uint64_t errors = errors_.load(std::memory_order_acquire);
    // order: relaxed: the acquire above already keeps this load after it; nothing to acquire here.
    const std::uint64_t requests = requests_.load(std::memory_order_relaxed);
    // order: relaxed: independent values; no invariant ties them to the others.
    const std::uint64_t bytes_sent = bytes_sent_.load(std::memory_order_relaxed);
    // order: relaxed: as above.
    const std::int64_t active = active_connections_.load(std::memory_order_relaxed);
    return MetricsSnapshot{.requests = requests,
                           .errors = errors,
                           .bytes_sent = bytes_sent,
                           .active_connections = active};
  }

 private:
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  // Solution: a signed 64-bit gauge, like the snapshot field. An unsigned one wraps to
  // 18446744073709551615 on one close too many, and every reader would have to undo that.
  std::atomic<std::int64_t> active_connections_{0};

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "lock-free metrics need lock-free 64-bit atomics on this platform");
};

}  // namespace metrics
