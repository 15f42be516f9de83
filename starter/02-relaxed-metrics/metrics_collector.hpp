// metrics_collector.hpp: milestone 2, a service's request metrics, lock-free.
//
// MetricsCollector holds the four numbers a request handler updates on every call: requests
// served, errors and bytes sent (counters: they only go up) and open connections (a gauge: it
// goes up and down). Any number of threads update it without a lock; an exporter thread calls
// snapshot() at any time without stopping them.
//
// Each counter is an independent atomic, so each one is exact: no update is ever lost, and after
// the writers are joined a snapshot shows every one of them. Between counters, nothing orders one
// update against another unless the code makes it so, and this class makes one such promise:
//
//   If each thread records an error only AFTER recording the request it belongs to, then EVERY
//   snapshot, even one taken while writers run, has errors <= requests (so error_rate() <= 1).
//
// Which operations must be ordered, and how, to keep that promise is this milestone's central
// decision: yours to make, with lessons/02-relaxed-metrics/README.md. A snapshot is still not a
// picture of one instant: it reads four atomics at four moments, and no choice of memory orders
// changes that. Only the invariant above is promised.
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
    // TODO: the fraction of requests that failed (0.5 for 1 error in 2 requests), and 0.0 when
    // there are no requests. Lesson 2, "The error rate". Questions: what is 1 / 2 when both are
    // std::uint64_t, and what would an alert rule see if you returned 0.0 / 0.0?
    LAB_TODO("error_rate(): errors per request as a fraction, 0.0 without requests (lesson 2, "
             "\"The error rate\"). What is 1 / 2 in unsigned integers?");
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
    // TODO: count one request; no update may ever be lost. Lesson 2, "Happens-before in five
    // rules" (consequence one) and "A snapshot is not a snapshot". Questions: does this count
    // need to make anything ELSE visible to another thread, or only itself? Write your reason in
    // an `// order:` line.
    LAB_TODO("record_request(): count one request, losing none (lesson 2, \"Happens-before in "
             "five rules\"). Does this count publish anything besides itself?");
  }

  // Counts one error. Any thread, any time. Call it after record_request() for the same request,
  // on the same thread: that is what keeps errors <= requests in every snapshot.
  void record_error() {
    // TODO: count one error, losing none, such that a snapshot() that counts this error also
    // counts the request this thread recorded before it (errors <= requests in every snapshot).
    // Lesson 2, "Happens-before in five rules", section 4 (many writers, one reader) and "A
    // snapshot is not a snapshot". Questions: which write must a reader that counts this error
    // also see? Which happens-before rule lets one write carry a thread's earlier writes to a
    // reader? Do other threads' increments of the same counter in between break it?
    LAB_TODO("record_error(): count one error so that any snapshot counting it also counts this "
             "thread's earlier request (lesson 2, \"Happens-before in five rules\"). Which write "
             "must that snapshot see, and what carries it there?");
  }

  // Adds `bytes` to the bytes-sent counter. Any thread, any time; all 64 bits are kept.
  void record_bytes([[maybe_unused]] std::uint64_t bytes) {
    // TODO: add `bytes`, losing nothing, all 64 bits kept. Lesson 2, "Happens-before in five
    // rules" (consequence one). Question: does any promise of this class tie bytes_sent to the
    // other counters, or does it only have to be exact on its own?
    LAB_TODO("record_bytes(): add `bytes`, losing no concurrent update (lesson 2, \"Happens-"
             "before in five rules\"). Does any invariant tie this counter to the others?");
  }

  // Gauge +1. Any thread, any time.
  void connection_opened() {
    // TODO: declare the gauge member (the TODO at the end of the class) first. Then add 1 to it,
    // losing no concurrent update. Lesson 2, "The gauge is signed". Question: is the gauge part
    // of the errors <= requests promise, or independent of everything else?
    LAB_TODO("connection_opened(): gauge + 1, losing no concurrent update (lesson 2, \"The gauge "
             "is signed\"). Is the gauge tied to any other value?");
  }

  // Gauge -1. Any thread, any time. Never clamps: a close without an open (a bug in the caller,
  // or a close counted before its open on another thread) shows as a negative gauge.
  void connection_closed() {
    // TODO: gauge - 1, losing no concurrent update, and able to go below zero (never clamped).
    // Lesson 2, "The gauge is signed". Questions: what would a "still above zero?" check in front
    // hide from the caller, and is such a check part of the same atomic step as the write?
    LAB_TODO("connection_closed(): gauge - 1, never lost, never clamped at zero (lesson 2, \"The "
             "gauge is signed\"). Is a check before the write part of the same step?");
  }

  // Reads every value once. Any thread, any time, concurrently with writers; never blocks them.
  // Guarantees errors <= requests (see the banner); the four values are otherwise read at four
  // different moments, so e.g. bytes_sent may include bytes of a request not yet counted.
  [[nodiscard]] MetricsSnapshot snapshot() const {
    // TODO: read every value once, never blocking the writers, so that errors <= requests in
    // EVERY snapshot, even one taken while writers run. Lesson 2, "A snapshot is not a
    // snapshot" and "Happens-before in five rules". Questions: a writer records a request and
    // then its error between your two loads: with each of the two load orders, can you count the
    // error without its request? Which order does a braced initializer use?
    LAB_TODO("snapshot(): read all four values so that errors <= requests holds while writers "
             "run (lesson 2, \"A snapshot is not a snapshot\"). In which order, and which load "
             "must synchronize with which write?");
  }

 private:
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> errors_{0};
  std::atomic<std::uint64_t> bytes_sent_{0};
  // TODO: declare the gauge, active_connections_: a lock-free atomic of the type the snapshot
  // reports (MetricsSnapshot::active_connections), which one close too many takes to -1.
  // Lesson 2, "The gauge is signed". Question: what would a dashboard show after one close too
  // many if the gauge were unsigned, and could an alert tell that from a real overload?

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
                "lock-free metrics need lock-free 64-bit atomics on this platform");
};

}  // namespace metrics
