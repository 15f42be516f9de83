// replicated_counter.hpp: milestone 6 stretch exercise, counters replicated between nodes and
// merged without coordination (CRDTs: conflict-free replicated data types).
//
// Several processes (replicas: servers, regions, devices) each count the same thing, say the
// requests of one customer, and exchange what they know now and then. No replica waits for
// another: each counts locally and merges the states it receives. Two counters:
//   - GCounter (grow-only): one slot per replica id. A replica adds only to its OWN slot; the
//     value is the sum of all slots. merge() takes the per-replica maximum: a slot only ever
//     grows and only its owner writes it, so the larger number is always the newer one.
//   - PNCounter (increments and decrements): two GCounter-like slot arrays, one for
//     increments (P) and one for decrements (N); the value P - N is signed.
// The merge is commutative, associative and idempotent (a join-semilattice), so replicas that
// exchange states in any order, any number of times, and with duplicates or stale copies,
// converge to the same value once each has (directly or indirectly) seen every other's state.
//
// Inside one process every method is lock-free and may run concurrently with every other: local
// increments from any number of threads are one fetch_add on this replica's slot and are visible at
// once in value() on the thread that made them; merge() raises each slot with a compare-exchange
// "fetch_max" loop (milestone 4), which never lowers a slot and so never loses a local increment
// that raced it. The data of other replicas is as fresh as the last merge ("stale remote, fresh
// local"): lessons/06-ordering-benchmarks/replicated-counter.md explains the trade-off.
//
// Example:
//   metrics::GCounter requests({1, 2, 3}, /*self=*/2);   // this process is replica 2 of 3
//   requests.increment();                                 // any request thread
//   send_to_peers(requests.state());                      // now and then
//   requests.merge(received_state);                       // when a peer's state arrives
//   const std::uint64_t total = requests.value();         // this replica's view of the total
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace metrics {

// A replica's name. The set of replicas is fixed when a counter is made.
using ReplicaId = std::uint32_t;

namespace detail {

// One count per replica id, in the order of the sorted ids. Given code: the id bookkeeping
// that GCounter and PNCounter share.
class ReplicaSlots {
 public:
  // Throws std::invalid_argument if `replicas` is empty or holds an id twice, or if `self` is
  // not one of them.
  ReplicaSlots(std::vector<ReplicaId> replicas, ReplicaId self)
      : ids_(sorted_unique(std::move(replicas))),
        self_index_(index_of(ids_, self)),
        slots_(std::make_unique<std::atomic<std::uint64_t>[]>(ids_.size())) {}

  [[nodiscard]] const std::vector<ReplicaId>& ids() const noexcept { return ids_; }
  [[nodiscard]] ReplicaId self() const noexcept { return ids_[self_index_]; }
  [[nodiscard]] std::size_t self_index() const noexcept { return self_index_; }
  [[nodiscard]] std::size_t size() const noexcept { return ids_.size(); }
  [[nodiscard]] std::atomic<std::uint64_t>& operator[](std::size_t i) noexcept { return slots_[i]; }
  [[nodiscard]] const std::atomic<std::uint64_t>& operator[](std::size_t i) const noexcept {
    return slots_[i];
  }

  // Throws std::invalid_argument unless a state with ids `ids` and `counts` values belongs to
  // a counter over exactly this replica set.
  void check_state(const std::vector<ReplicaId>& ids, std::size_t counts, const char* what) const {
    if (ids != ids_) {
      throw std::invalid_argument(std::string(what) +
                                  ": the state is of a different replica set (" +
                                  describe(ids) + ", this counter has " + describe(ids_) + ")");
    }
    if (counts != ids_.size()) {
      throw std::invalid_argument(std::string(what) + ": the state has " +
                                  std::to_string(counts) + " counts for " +
                                  std::to_string(ids_.size()) + " replicas");
    }
  }

 private:
  static std::vector<ReplicaId> sorted_unique(std::vector<ReplicaId> ids) {
    if (ids.empty()) throw std::invalid_argument("replicated counter: no replica ids");
    std::sort(ids.begin(), ids.end());
    if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
      throw std::invalid_argument("replicated counter: a replica id appears twice in " +
                                  describe(ids));
    }
    return ids;
  }
  static std::size_t index_of(const std::vector<ReplicaId>& ids, ReplicaId self) {
    const auto it = std::lower_bound(ids.begin(), ids.end(), self);
    if (it == ids.end() || *it != self) {
      throw std::invalid_argument("replicated counter: unknown replica id " +
                                  std::to_string(self) + ", not in " + describe(ids));
    }
    return static_cast<std::size_t>(it - ids.begin());
  }
  static std::string describe(const std::vector<ReplicaId>& ids) {
    std::string out = "{";
    for (std::size_t i = 0; i < ids.size(); ++i) {
      out += (i ? ", " : "") + std::to_string(ids[i]);
    }
    return out + "}";
  }

  std::vector<ReplicaId> ids_;
  std::size_t self_index_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> slots_;  // zero-initialized (value-init)
};

}  // namespace detail

// A grow-only counter replicated over a fixed set of replica ids.
class GCounter {
 public:
  // A copyable snapshot of a GCounter: the sorted replica ids and one count per id. Send it to
  // other replicas and merge() it there.
  struct State {
    std::vector<ReplicaId> replicas;
    std::vector<std::uint64_t> counts;
    friend bool operator==(const State&, const State&) = default;
  };

  // A counter at 0 for replica `self` of `replicas`. Throws std::invalid_argument if the ids
  // are empty or repeated, or if `self` is not one of them.
  GCounter(std::vector<ReplicaId> replicas, ReplicaId self)
      : slots_(std::move(replicas), self) {}

  // A synchronization object has an identity: a copy would be a second replica with the same
  // id. Copy state() instead.
  GCounter(const GCounter&) = delete;
  GCounter& operator=(const GCounter&) = delete;

  // Adds 1 (add(n): adds n) to this replica's slot. Any thread, lock-free; visible at once in
  // value() and state() on this thread (and on any thread that synchronizes with it).
  void increment() noexcept { add(1); }
  void add(std::uint64_t n) noexcept {
    // Solution: only this replica's slot changes, but several local threads may add at once,
    // so it is a read-modify-write, and merge() may raise the same slot concurrently.
    // order: relaxed: the count is the only data; nothing else is published with it.
    slots_[slots_.self_index()].fetch_add(n, std::memory_order_relaxed);
  }

  // This replica's view of the total: the sum of every replica's slot as last merged, plus
  // every local increment so far. Any thread.
  [[nodiscard]] std::uint64_t value() const noexcept {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      // order: relaxed: a statistic; each slot only grows, so successive calls on one thread
      // never go backwards (read-read coherence).
      total += slots_[i].load(std::memory_order_relaxed);
    }
    return total;
  }

  // A copy of every slot, to send to other replicas. Any thread. Each slot is read once; a
  // state taken while increments run is a valid (slightly older) state of this replica.
  [[nodiscard]] State state() const {
    State s{slots_.ids(), std::vector<std::uint64_t>(slots_.size())};
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      // order: relaxed: as in value().
      s.counts[i] = slots_[i].load(std::memory_order_relaxed);
    }
    return s;
  }

  // Raises every slot to at least the state's count for it (the per-replica maximum). Any
  // thread, lock-free, concurrently with local increments and other merges: no increment and
  // no merged count is ever lost, and after merge(s) returns, state() >= s slot by slot. Throws
  // std::invalid_argument (and changes nothing) if `other` is of a different replica set.
  void merge(const State& other) {
    slots_.check_state(other.replicas, other.counts.size(), "GCounter::merge");
    for (std::size_t i = 0; i < slots_.size(); ++i) fetch_max(slots_[i], other.counts[i]);
  }

  [[nodiscard]] ReplicaId self() const noexcept { return slots_.self(); }
  [[nodiscard]] const std::vector<ReplicaId>& replicas() const noexcept { return slots_.ids(); }

  // Raises `slot` to `value` unless it is already at least `value`; returns the old value.
  // Lock-free. (C++26 has std::atomic<T>::fetch_max; C++20 does not.)
  static std::uint64_t fetch_max(std::atomic<std::uint64_t>& slot, std::uint64_t value) noexcept {
    // Solution: milestone 4's CAS loop with an early exit. A plain load + store could lower
    // the slot: an increment (or a higher merge) that lands between our load and our store
    // would be overwritten by our older, smaller value.
    // order: relaxed: as in add().
    std::uint64_t seen = slot.load(std::memory_order_relaxed);
    // order: relaxed on success and failure, as above.
    while (seen < value && !slot.compare_exchange_weak(seen, value, std::memory_order_relaxed,
                                                       std::memory_order_relaxed)) {
    }
    return seen;
  }

 private:
  detail::ReplicaSlots slots_;
};

// A counter that goes up and down, replicated over a fixed set of replica ids: two grow-only
// slot arrays (increments P and decrements N); value() = sum(P) - sum(N), signed.
class PNCounter {
 public:
  // A copyable snapshot of a PNCounter: the sorted replica ids, and per id the total of its
  // increments and the total of its decrements (both only grow).
  struct State {
    std::vector<ReplicaId> replicas;
    std::vector<std::uint64_t> increments;
    std::vector<std::uint64_t> decrements;
    friend bool operator==(const State&, const State&) = default;
  };

  // A counter at 0 for replica `self` of `replicas`. Throws std::invalid_argument as GCounter.
  PNCounter(std::vector<ReplicaId> replicas, ReplicaId self)
      : p_(replicas, self), n_(std::move(replicas), self) {}

  PNCounter(const PNCounter&) = delete;
  PNCounter& operator=(const PNCounter&) = delete;

  // add(n) / subtract(n): adds n to this replica's increments / decrements. Any thread,
  // lock-free, visible at once in value() and state() on this thread (and on any thread that
  // synchronizes with it).
  void increment() noexcept { add(1); }
  void decrement() noexcept { subtract(1); }
  void add(std::uint64_t n) noexcept {
    // Solution: as GCounter::add(), on the increments.
    // order: relaxed: as in GCounter::add().
    p_[p_.self_index()].fetch_add(n, std::memory_order_relaxed);
  }
  void subtract(std::uint64_t n) noexcept {
    // Solution: a decrement is an INCREMENT of this replica's decrement slot, so both slots
    // only grow and the per-replica maximum stays the right merge for each.
    // order: relaxed: as in GCounter::add().
    n_[n_.self_index()].fetch_add(n, std::memory_order_relaxed);
  }

  // This replica's view: all increments minus all decrements it knows of. Signed: it may be
  // below zero. Any thread.
  [[nodiscard]] std::int64_t value() const noexcept {
    std::uint64_t up = 0;
    std::uint64_t down = 0;
    for (std::size_t i = 0; i < p_.size(); ++i) {
      // order: relaxed: as in GCounter::value().
      up += p_[i].load(std::memory_order_relaxed);
      // order: relaxed: as in GCounter::value().
      down += n_[i].load(std::memory_order_relaxed);
    }
    // Two's complement (C++20): the difference of the two totals as a signed number.
    return static_cast<std::int64_t>(up - down);
  }

  [[nodiscard]] State state() const {
    State s{p_.ids(), std::vector<std::uint64_t>(p_.size()), std::vector<std::uint64_t>(p_.size())};
    for (std::size_t i = 0; i < p_.size(); ++i) {
      // order: relaxed: as in GCounter::value().
      s.increments[i] = p_[i].load(std::memory_order_relaxed);
      // order: relaxed: as in GCounter::value().
      s.decrements[i] = n_[i].load(std::memory_order_relaxed);
    }
    return s;
  }

  // The per-replica maximum of the increments and of the decrements, separately. Same
  // guarantees and errors as GCounter::merge().
  void merge(const State& other) {
    p_.check_state(other.replicas, other.increments.size(), "PNCounter::merge");
    p_.check_state(other.replicas, other.decrements.size(), "PNCounter::merge");
    for (std::size_t i = 0; i < p_.size(); ++i) {
      GCounter::fetch_max(p_[i], other.increments[i]);
      GCounter::fetch_max(n_[i], other.decrements[i]);
    }
  }

  [[nodiscard]] ReplicaId self() const noexcept { return p_.self(); }
  [[nodiscard]] const std::vector<ReplicaId>& replicas() const noexcept { return p_.ids(); }

 private:
  detail::ReplicaSlots p_;  // increments
  detail::ReplicaSlots n_;  // decrements
};

}  // namespace metrics
