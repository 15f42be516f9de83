// Checkpoints for milestone 6: OrderedCounter (ordered_counter.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
#include <ordered_counter.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "lab_test.hpp"

using metrics::OrderedCounter;

namespace {

// Every worker alternately calls increment() and add(t + 1) until the threads have met; the
// total must be exact.
template <class Counter>
std::uint64_t add_from_all_threads(Counter& counter, const lab::OverlapGoal& goal,
                                   std::string& missing) {
  const auto report = lab::hammer(lab::stress_threads(), goal, [&](std::size_t t, std::uint64_t i) {
    if (i % 2 == 0) {
      counter.increment();
    } else {
      counter.add(t + 1);
    }
  });
  std::uint64_t added = 0;
  for (std::size_t t = 0; t < report.ops.size(); ++t) {
    const std::uint64_t n = report.ops[t];
    added += (n + 1) / 2 + (n / 2) * (t + 1);  // calls 0, 2, 4, ... add 1; the others t + 1
  }
  missing = report.missing;
  return added;
}

// N threads hammer one counter with increment() and add(); the total must be exact.
template <std::memory_order Order>
void check_exact_under_contention() {
  // Lost updates need a thread to be interrupted (or overtaken by another core) between its
  // load and its store: a rare event per increment, so the threads run for a while.
  OrderedCounter<Order> counter;
  std::string missing;
  const std::uint64_t added = add_from_all_threads(
      counter, {.min_ops = 200'000, .min_time = lab::milliseconds(250)}, missing);
  CHECK(counter.get() == added);
  lab::conclude(missing);
}

std::string name(std::memory_order order) {
  return doctest::toString(lab::named(order)).c_str();
}

// load_order() is judged by what get() does, in the model checkpoint "model: OrderedCounter
// get() acquires exactly when its order does" (model_orders.cpp). Two things no behaviour on
// this machine or in the model shows are checked here: that the result is an order a load may
// take at all, and that it is not seq_cst for a counter whose own operations are not seq_cst.
// (C++ gives a seq_cst load a place in the single total order S that an acquire load has not,
// and the difference shows with a seq_cst fence after the increment ([atomics.order]); Relacy's
// model of seq_cst fences does not implement that rule, so the model cannot show it.)
template <std::memory_order Order>
void check_load_order() {
  const std::memory_order got = OrderedCounter<Order>::load_order();
  INFO("OrderedCounter<" << name(Order) << ">::load_order() returned " << name(got));
  const auto is = [&](std::memory_order order) { return lab::named(got) == lab::named(order); };
  CHECK_MESSAGE(!(is(std::memory_order_release) || is(std::memory_order_acq_rel)),
                "a load may not take this order: [atomics.types.operations], load, "
                "Preconditions. Which half of an order can a load never have?");
  CHECK_MESSAGE(!is(std::memory_order_consume),
                "the header refuses consume as Order (see its static_assert): why would a "
                "load that follows Order use it?");
  if (Order != std::memory_order_seq_cst) {
    CHECK_MESSAGE(!is(std::memory_order_seq_cst),
                  "a seq_cst load takes part in the single total order S ([atomics.order]); "
                  "do the operations of OrderedCounter<"
                      << name(Order) << "> promise that?");
  }
}

}  // namespace

TEST_CASE("OrderedCounter load order matches the RMW order") {
  // Catches: a load_order() that returns an order no load may take (undefined behaviour, which
  // clang 14 compiles silently into a relaxed load), or a seq_cst load for a counter whose
  // operations are not seq_cst. What get() does with the result is judged by the model
  // checkpoint (see check_load_order() above).
  check_load_order<std::memory_order_relaxed>();
  check_load_order<std::memory_order_acquire>();
  check_load_order<std::memory_order_release>();
  check_load_order<std::memory_order_acq_rel>();
  check_load_order<std::memory_order_seq_cst>();
  CHECK(lab::named(OrderedCounter<std::memory_order_acq_rel>::rmw_order) ==
        lab::named(std::memory_order_acq_rel));
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
  // A reset loses increments only when the writer runs on another core inside the reset's
  // load-to-store window. So one writer and one resetter, each pinned to its own CPU (a busy
  // scheduler otherwise keeps both on one core, where they only take turns), in several rounds,
  // each lasting until the resetter has reset 300'000 times (a relaxed load and store leave a
  // narrower window than milestone 1's seq_cst ones) and has seen the writer make progress
  // between two resets 1'000 times: on a busy machine the resetter can take all its steps
  // while the writer waits for a CPU, and then no reset can lose anything. One CPU cannot run
  // the two at once: the test is skipped there.
  lab::require_cpus(2);
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    OrderedCounter<std::memory_order_relaxed> counter;
    std::uint64_t reset_sum = 0;  // reader thread only; read after the join
    const auto report = lab::hammer(
        1,
        {.min_ops = 100'000,
         .min_reader_steps = 300'000,
         .min_sightings = 1'000,
         .one_cpu_each = true},
        [&](std::size_t, std::uint64_t) { counter.increment(); },
        [&] { reset_sum += counter.reset(); });
    INFO("resets made while the writer ran: " << report.reader_steps);
    REQUIRE(reset_sum + counter.get() == report.total_ops());
    lab::conclude(report.missing);
  }
}

TEST_CASE("OrderedCounter acq_rel publishes what the writer did before") {
  // Catches: an OrderedCounter<acq_rel> whose get() does not see what a writer did before its
  // increment: an increment() or get() whose order does not come from Order (lesson 6, "The
  // exercise": where does an atomic operation take its memory order?). OrderedCounter<acq_rel>
  // promises that a get() that reads the count a writer's increment produced synchronizes with it,
  // so everything the writer did before is visible. Writer w writes k into a plain array, then
  // increments its own counter; a reader whose get() returns c reads element c - 1, which must hold
  // c - 1. With a weaker increment or load nothing orders the write before the read: a data race,
  // which ThreadSanitizer reports (x86-64 hides it: the orders compile alike there).
  constexpr std::size_t max_writers = 8;
  constexpr std::uint64_t per_writer = 50'000;
  constexpr std::uint64_t capacity = 8 * per_writer;
  const std::size_t writers = std::min(lab::stress_threads() - 1, max_writers);
  std::vector<std::unique_ptr<OrderedCounter<std::memory_order_acq_rel>>> counters;
  // Not zero-filled: only elements a writer has written are ever read.
  std::vector<std::unique_ptr<std::uint64_t[]>> payload;
  for (std::size_t w = 0; w < writers; ++w) {
    counters.push_back(std::make_unique<OrderedCounter<std::memory_order_acq_rel>>());
    payload.push_back(std::make_unique_for_overwrite<std::uint64_t[]>(capacity));
  }
  std::uint64_t wrong = 0, checked = 0;  // reader thread only; read after the join
  const auto report = lab::hammer(
      writers, {.min_ops = per_writer, .max_ops = capacity, .min_reader_steps = 200},
      [&](std::size_t w, std::uint64_t k) {
        payload[w][k] = k;  // plain write, published by the increment() below
        counters[w]->increment();
      },
      [&] {
        bool saw = false;
        for (std::size_t w = 0; w < writers; ++w) {
          const std::uint64_t c = counters[w]->get();
          if (c == 0) continue;
          saw = true;
          if (c > capacity || payload[w][c - 1] != c - 1) ++wrong;  // plain read
          ++checked;
        }
        return saw;  // a step that saw writers at work
      });
  INFO("reads while the writers ran: " << report.reader_steps << ", " << checked
                                       << " counts checked");
  CHECK(wrong == 0);
  for (std::size_t w = 0; w < writers; ++w) CHECK(counters[w]->get() == report.ops[w]);
  lab::conclude(report.missing);
}
