// Checkpoints for milestone 6: OrderedCounter (ordered_counter.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
#include <ordered_counter.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include "lab_test.hpp"
#include "m6_stress.hpp"

using metrics::OrderedCounter;

namespace {

// N threads hammer one counter with increment() and add(); the total must be exact.
template <std::memory_order Order>
void check_exact_under_contention() {
  // Lost updates need a thread to be interrupted (or overtaken by another core) between its
  // load and its store: a rare event per increment, so the threads run for a while.
  constexpr std::uint64_t per_thread = 200'000;
  const std::size_t threads = lab::stress_threads();
  OrderedCounter<Order> counter;
  m6::OverlapGate gate(threads, std::chrono::milliseconds(250));
  const auto run = m6::add_from_all_threads(counter, threads, per_thread, gate);
  REQUIRE_MESSAGE(run.overlapped, "the threads did not run at the same time; nothing was tested");
  CHECK(counter.get() == run.added);
}

}  // namespace

TEST_CASE("OrderedCounter load order matches the RMW order") {
  // Catches: a load_order() that ignores Order (always seq_cst, or Order itself, which is
  // undefined behaviour for release and acq_rel), or that drops acquire from acq_rel.
  CHECK(OrderedCounter<std::memory_order_relaxed>::load_order() == std::memory_order_relaxed);
  CHECK(OrderedCounter<std::memory_order_acquire>::load_order() == std::memory_order_acquire);
  CHECK(OrderedCounter<std::memory_order_release>::load_order() == std::memory_order_relaxed);
  CHECK(OrderedCounter<std::memory_order_acq_rel>::load_order() == std::memory_order_acquire);
  CHECK(OrderedCounter<std::memory_order_seq_cst>::load_order() == std::memory_order_seq_cst);
  CHECK(OrderedCounter<std::memory_order_acq_rel>::rmw_order == std::memory_order_acq_rel);
}

TEST_CASE("OrderedCounter counts resets and cannot be copied") {
  // Catches: add() that ignores its amount, reset() that does not clear or does not return the
  // old value, a 32-bit count, and a copyable counter.
  CHECK_FALSE(std::is_copy_constructible_v<OrderedCounter<std::memory_order_relaxed>>);
  CHECK_FALSE(std::is_copy_assignable_v<OrderedCounter<std::memory_order_relaxed>>);
  OrderedCounter<std::memory_order_relaxed> counter;
  CHECK(counter.get() == 0);
  counter.increment();
  counter.add(41);
  CHECK(counter.get() == 42);
  CHECK(counter.reset() == 42);
  CHECK(counter.get() == 0);
  counter.add(std::uint64_t{1} << 40);
  CHECK(counter.get() == std::uint64_t{1} << 40);
  OrderedCounter<std::memory_order_seq_cst> strict;
  strict.add(7);
  strict.increment();
  CHECK(strict.reset() == 8);
  CHECK(strict.get() == 0);
}

TEST_CASE("OrderedCounter relaxed loses no increment") {
  // Catches: "relaxed means I can skip the read-modify-write": load() + store() of count + 1
  // loses increments whatever the order (TSan does not report it; this test counts them).
  check_exact_under_contention<std::memory_order_relaxed>();
}

TEST_CASE("OrderedCounter acq_rel loses no increment") {
  // Catches: the same lost updates with the acq_rel instantiation.
  check_exact_under_contention<std::memory_order_acq_rel>();
}

TEST_CASE("OrderedCounter seq_cst loses no increment") {
  // Catches: the same lost updates with the seq_cst instantiation.
  check_exact_under_contention<std::memory_order_seq_cst>();
}

TEST_CASE("OrderedCounter reset concurrent with increments loses nothing") {
  // Catches: reset() as a load followed by store(0): increments that land between the two are
  // neither returned nor kept. Invariant: the sum of all resets plus the final value is the total.
  constexpr std::uint64_t per_writer = 200'000;
  const std::size_t writers = lab::stress_threads() - 1;
  OrderedCounter<std::memory_order_relaxed> counter;
  // A reset loses increments only when a writer runs on another core inside the reset's
  // load-to-store window: the writers keep going until the reader has reset many times and
  // some time has passed, so that this happens often even on a busy machine.
  m6::OverlapGate gate(writers + 1, std::chrono::milliseconds(500));
  std::atomic<std::uint64_t> resets{0};
  gate.require_progress(resets, 100'000);
  std::vector<std::uint64_t> added(writers, 0);  // added[t]: written by writer t only
  std::uint64_t reset_sum = 0;                   // reader thread only; read after the join
  bool reader_arrived = false;                   // reader thread only
  const auto report = lab::run_writers_and_reader(
      writers, [&](std::size_t t) {
        added[t] = gate.work(per_writer, [&](std::uint64_t) { counter.increment(); });
      },
      [&] {
        if (!reader_arrived) {
          reader_arrived = true;
          gate.arrive();
        }
        reset_sum += counter.reset();
        resets.fetch_add(1, std::memory_order_relaxed);  // order: relaxed: a progress count
      });
  REQUIRE(report.run.overlapped);
  INFO("resets made while the writers ran: " << report.reader_steps);
  CHECK(report.reader_steps > 100);
  CHECK(reset_sum + counter.get() == std::accumulate(added.begin(), added.end(), std::uint64_t{0}));
}
