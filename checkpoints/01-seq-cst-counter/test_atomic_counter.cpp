// Checkpoints for milestone 1: AtomicCounter (atomic_counter.hpp).
// Each TEST_CASE names the mistake it exists to catch; manifest.json gives its points and
// mutants.json keeps a wrong implementation that it must fail.
#include <atomic_counter.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "lab_test.hpp"

using metrics::AtomicCounter;

TEST_CASE("a new counter reads zero and cannot be copied") {
  // Catches: a signed or 32-bit API, and a copyable counter (a copy splits one count in two).
  CHECK(std::is_same_v<decltype(std::declval<const AtomicCounter&>().get()), std::uint64_t>);
  CHECK(std::is_same_v<decltype(std::declval<AtomicCounter&>().reset()), std::uint64_t>);
  CHECK_FALSE(std::is_copy_constructible_v<AtomicCounter>);
  CHECK_FALSE(std::is_copy_assignable_v<AtomicCounter>);
  const AtomicCounter counter;
  CHECK(counter.get() == 0);
}

TEST_CASE("increment adds one") {
  // Catches: an increment() that is still a TODO, adds nothing, or adds more than one.
  AtomicCounter counter;
  counter.increment();
  CHECK(counter.get() == 1);
  counter.increment();
  counter.increment();
  CHECK(counter.get() == 3);
}

TEST_CASE("add adds the given amount") {
  // Catches: add() that ignores its argument or increments by one.
  AtomicCounter counter;
  counter.add(5);
  CHECK(counter.get() == 5);
  counter.increment();
  counter.add(0);
  counter.add(36);
  CHECK(counter.get() == 42);
}

TEST_CASE("add keeps all 64 bits") {
  // Catches: a 32-bit (or size_t-on-32-bit) count that truncates large byte totals.
  AtomicCounter counter;
  counter.add(std::uint64_t{1} << 40);
  counter.add(3);
  CHECK(counter.get() == (std::uint64_t{1} << 40) + 3);
  counter.add(std::numeric_limits<std::uint64_t>::max() - (std::uint64_t{1} << 40));
  CHECK(counter.get() == 2);  // wraps modulo 2^64, like every unsigned integer
}

TEST_CASE("reset returns the old value and zeroes") {
  // Catches: reset() that returns the value but forgets to clear it, or clears and returns 0.
  AtomicCounter counter;
  counter.add(42);
  CHECK(counter.reset() == 42);
  CHECK(counter.get() == 0);
  CHECK(counter.reset() == 0);
  counter.increment();
  CHECK(counter.get() == 1);
}

TEST_CASE("concurrent increments lose nothing") {
  // Catches: load() then store(count + 1). TSan does not report it (both calls are atomic),
  // but two threads that load the same value both store value + 1 and one update is lost.
  AtomicCounter counter;
  const auto report = lab::hammer(
      lab::stress_threads(), {.min_ops = 200'000, .min_time = lab::milliseconds(100)},
      [&](std::size_t, std::uint64_t) { counter.increment(); });
  CHECK(counter.get() == report.total_ops());
  lab::conclude(report.missing);
}

TEST_CASE("concurrent adds lose nothing") {
  // Catches: add() built from load() + store(), and non-atomic members (TSan reports the race).
  AtomicCounter counter;
  const auto report = lab::hammer(
      lab::stress_threads(), {.min_ops = 100'000, .min_time = lab::milliseconds(100)},
      [&](std::size_t t, std::uint64_t) { counter.add(t + 1); });
  std::uint64_t expected = 0;
  for (std::size_t t = 0; t < report.ops.size(); ++t) expected += report.ops[t] * (t + 1);
  CHECK(counter.get() == expected);
  lab::conclude(report.missing);
}

TEST_CASE("reset concurrent with increments loses nothing") {
  // Catches: reset() as get() followed by store(0): every increment that lands between the
  // two calls is neither returned nor kept. Invariant: sum of resets + final value == total.
  // One writer and one resetter, so that on a 2-core machine both really run at once, in
  // several rounds: a round whose two threads shared one core may not hit the window. Each
  // round lasts until the resetter has reset 100'000 times while the writer ran.
  for (int round = 0; round < 5; ++round) {
    CAPTURE(round);
    AtomicCounter counter;
    std::uint64_t reset_sum = 0;  // touched by the reader thread only, read after the join
    const auto report = lab::hammer(
        1, {.min_ops = 100'000, .min_reader_steps = 100'000},
        [&](std::size_t, std::uint64_t) { counter.increment(); },
        [&] { reset_sum += counter.reset(); });
    REQUIRE(reset_sum + counter.get() == report.total_ops());
    lab::conclude(report.missing);
  }
}

TEST_CASE("get never goes backwards while writers run") {
  // Catches: a read that goes backwards or is torn, e.g. a plain uint64_t member read without
  // synchronization (TSan reports the data race). A value that is old but never goes backwards
  // is allowed (coherence), so this cannot catch staleness.
  AtomicCounter counter;
  std::uint64_t backwards = 0, last_seen = 0;
  const auto report = lab::hammer(
      lab::stress_threads() - 1, {.min_ops = 100'000, .min_reader_steps = 10'000},
      [&](std::size_t, std::uint64_t) { counter.increment(); },
      [&] {
        const std::uint64_t now = counter.get();
        if (now < last_seen) ++backwards;
        last_seen = now;
      });
  CHECK(backwards == 0);
  CHECK(counter.get() == report.total_ops());
  lab::conclude(report.missing);
}
