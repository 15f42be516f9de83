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
// increments from any number of threads are visible at once in value() on the thread that made them
// (and on any thread that synchronizes with it), and merge() never lowers a slot, so it never loses
// a local increment that raced it. The data of other replicas is as fresh as the last merge ("stale
// remote, fresh local"): lessons/06-ordering-benchmarks/replicated-counter.md explains the
// trade-off.
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

#include "lab_todo.hpp"

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
  void increment() { add(1); }
  void add(std::uint64_t n) {
    // TODO: the guarantee: every local addition counts, from any number of threads at once, and
    // shows in value() at once; merge() may be raising the same slot at the same moment. Which
    // slot is this replica's, and what kind of atomic operation keeps two concurrent writers of
    // it from losing an update? (replicated-counter.md, "The exercise")
    (void)n;
    LAB_TODO("GCounter::add(): add n to this replica's own slot without losing a concurrent update");
  }

  // This replica's view of the total: the sum of every replica's slot as last merged, plus
  // every local increment so far. Any thread.
  [[nodiscard]] std::uint64_t value() const {
    // TODO: this replica's view of the total: what does it add up, and why is it fine that the
    // other replicas' parts may be old? (replicated-counter.md, "Stale remote, fresh local")
    LAB_TODO("GCounter::value(): this replica's view of the total");
  }

  // A copy of every slot, to send to other replicas. Any thread. Each slot is read once; a
  // state taken while increments run is a valid (slightly older) state of this replica.
  [[nodiscard]] State state() const {
    // TODO: a copy another replica can merge: which ids, which counts, in which order?
    LAB_TODO("GCounter::state(): a copyable snapshot of every slot");
  }

  // Raises every slot to at least the state's count for it (the per-replica maximum). Any
  // thread, lock-free, concurrently with local increments and other merges: no increment and
  // no merged count is ever lost, and after merge(s) returns, state() >= s slot by slot. Throws
  // std::invalid_argument (and changes nothing) if `other` is of a different replica set.
  void merge(const State& other) {
    // TODO: the contract above. Which states must be refused before anything changes (the
    // given slots_ has a helper), and what does each slot become: why must the result be the
    // same whatever order states arrive in, and however often? (replicated-counter.md, "The
    // concept: a join-semilattice")
    (void)other;
    LAB_TODO("GCounter::merge(): refuse foreign states, then raise each slot to the merged count");
  }

  [[nodiscard]] ReplicaId self() const noexcept { return slots_.self(); }
  [[nodiscard]] const std::vector<ReplicaId>& replicas() const noexcept { return slots_.ids(); }

  // Raises `slot` to `value` unless it is already at least `value`; returns the old value.
  // Lock-free. (C++26 has std::atomic<T>::fetch_max; C++20 does not.)
  static std::uint64_t fetch_max(std::atomic<std::uint64_t>& slot, std::uint64_t value) {
    // TODO: raise `slot` to `value`, never lower it, while other threads add to it or raise it
    // too. Milestone 4 built exactly this kind of conditional update: what goes wrong if you read
    // the slot and then write the larger number in a second step? (lessons/04-cas-min-max)
    (void)slot;
    (void)value;
    LAB_TODO("fetch_max(): raise the slot to value without ever lowering it");
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
  void increment() { add(1); }
  void decrement() { subtract(1); }
  void add(std::uint64_t n) {
    // TODO: as GCounter::add(): which of the two slot arrays does an increment go to?
    (void)n;
    LAB_TODO("PNCounter::add(): count n increments on this replica");
  }
  void subtract(std::uint64_t n) {
    // TODO: a decrement must survive every merge, whatever order states arrive in. If you
    // lowered a number, what would the per-replica maximum do with an older copy of it?
    // (replicated-counter.md, "Two-way counters")
    (void)n;
    LAB_TODO("PNCounter::subtract(): count n decrements on this replica");
  }

  // This replica's view: all increments minus all decrements it knows of. Signed: it may be
  // below zero. Any thread.
  [[nodiscard]] std::int64_t value() const {
    // TODO: this replica's view of increments minus decrements. It may be below zero: how do
    // you get a signed result from two unsigned totals without overflow surprises?
    LAB_TODO("PNCounter::value(): increments minus decrements, signed");
  }

  [[nodiscard]] State state() const {
    // TODO: as GCounter::state(), for both slot arrays.
    LAB_TODO("PNCounter::state(): a copyable snapshot of both slot arrays");
  }

  // The per-replica maximum of the increments and of the decrements, separately. Same
  // guarantees and errors as GCounter::merge().
  void merge(const State& other) {
    // TODO: as GCounter::merge(), for both slot arrays: what must be checked first, and what
    // must never happen to a decrement already counted here?
    (void)other;
    LAB_TODO("PNCounter::merge(): refuse foreign states, then raise each slot of both arrays");
  }

  [[nodiscard]] ReplicaId self() const noexcept { return p_.self(); }
  [[nodiscard]] const std::vector<ReplicaId>& replicas() const noexcept { return p_.ids(); }

 private:
  detail::ReplicaSlots p_;  // increments
  detail::ReplicaSlots n_;  // decrements
};

}  // namespace metrics
