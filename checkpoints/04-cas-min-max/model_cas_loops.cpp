// Model checkpoints of milestone 4: the compare-exchange loops of AtomicMinMax, BoundedCounter
// and (stretch) RateLimiter under the C++ memory model (Relacy, through the stand-in <atomic>
// of checkpoints/common/relacy/). Relacy explores every interleaving of the threads' steps and
// lets each compare_exchange_weak fail spuriously, as it may on LL/SC hardware (AArch64,
// POWER); this x86-64 CPU never does.
#include "lab_model.hpp"

#include "lab_model_student_begin.hpp"
#include "atomic_min_max.hpp"
#include "bounded_counter.hpp"
#include "rate_limiter.hpp"
#include "lab_model_student_end.hpp"

namespace {

// Two threads fold 7 and 3 into one AtomicMinMax at once: no extreme may be lost. (Three
// threads take the full search past 20 s: two already show every lost-update shape.)
struct MinMaxKeepsExtremes : lab_model::Suite<MinMaxKeepsExtremes, 2> {
  std::optional<metrics::AtomicMinMax> mm;
  void setup() { mm.emplace(); }
  void run(unsigned thread) {
    static constexpr std::uint64_t kValues[] = {7, 3};
    mm->update(kValues[thread]);
  }
  void check() {
    LAB_MODEL_ASSERT(mm->min() == 3);
    LAB_MODEL_ASSERT(mm->max() == 7);
  }
};

// A BoundedCounter with limit 1. Upwards: at 0, two threads try to take the one slot while a
// third gives one back. Downwards: at 1, two threads try to give it back while a third takes
// one. Every get() stays within [0, 1], and the final count is exactly the successful
// increments minus the successful decrements (plus the start).
template <bool Upwards>
struct BoundedStaysInBounds : lab_model::Suite<BoundedStaysInBounds<Upwards>, 3> {
  std::optional<metrics::BoundedCounter> c;
  bool ok[3] = {false, false, false};
  void setup() {
    c.emplace(1);
    if (!Upwards) LAB_MODEL_ASSERT(c->try_increment());
  }
  void run(unsigned thread) {
    const bool increments = (thread < 2) == Upwards;
    ok[thread] = increments ? c->try_increment() : c->try_decrement();
    const std::uint64_t now = c->get();
    LAB_MODEL_ASSERT(now <= 1);
  }
  void check() {
    int count = Upwards ? 0 : 1;
    for (unsigned t = 0; t < 3; ++t) {
      const bool increments = (t < 2) == Upwards;
      if (ok[t]) count += increments ? 1 : -1;
    }
    LAB_MODEL_ASSERT(count >= 0 && count <= 1);
    LAB_MODEL_ASSERT(c->get() == std::uint64_t(count));
  }
};

// RateLimiter (stretch), a window of 1 ms: `Prefill` calls in window 10 happen first; then two
// threads call try_acquire() at once, in window 10 again or (`NextWindow`) in window 11, a
// rollover. Exactly as many are admitted as the window has slots left, at most 2.
template <std::uint64_t Limit, std::uint64_t Prefill, bool NextWindow>
struct RateLimiterRace : lab_model::Suite<RateLimiterRace<Limit, Prefill, NextWindow>, 2> {
  using clock = metrics::RateLimiter::clock;
  static constexpr std::chrono::milliseconds kWindow{1};
  std::optional<metrics::RateLimiter> r;
  bool admitted[2] = {false, false};
  void setup() {
    r.emplace(Limit, kWindow);
    for (std::uint64_t i = 0; i < Prefill; ++i) {
      LAB_MODEL_ASSERT(r->try_acquire(clock::time_point(kWindow * 10)));
    }
  }
  void run(unsigned thread) {
    admitted[thread] = r->try_acquire(clock::time_point(kWindow * (NextWindow ? 11 : 10)));
  }
  void check() {
    const std::uint64_t left = NextWindow ? Limit : Limit - Prefill;
    LAB_MODEL_ASSERT(std::uint64_t(admitted[0]) + std::uint64_t(admitted[1]) ==
                     (left < 2 ? left : 2));
  }
};

}  // namespace

TEST_CASE("model: concurrent updates never lose the minimum or the maximum") {
  // Catches: a check-then-store update, or a compare-exchange loop that gives up after a spurious
  // failure or keeps a stale expected value: an extreme is overwritten by a worse one.
  lab_model::require_holds<MinMaxKeepsExtremes>(
      "min() and max() keep the extremes of updates racing each other (2 threads, spurious "
      "compare_exchange_weak failures included)",
      lab_model::exhaustive());
}

TEST_CASE("model: BoundedCounter never exceeds its limit or goes below zero") {
  // Catches: check-then-act: the limit (or zero) is checked in one step and the count changed in
  // another, or a single compare-exchange attempt treated as final.
  lab_model::require_holds<BoundedStaysInBounds<true>>(
      "0 <= get() <= limit at every step, and the count is exactly the successful increments "
      "minus the successful decrements (limit 1, at 0: 2 threads increment, 1 decrements)",
      lab_model::exhaustive());
  lab_model::require_holds<BoundedStaysInBounds<false>>(
      "0 <= get() <= limit at every step, and the count is exactly the successful increments "
      "minus the successful decrements (limit 1, at 1: 2 threads decrement, 1 increments)",
      lab_model::exhaustive());
}

TEST_CASE("model: RateLimiter admits exactly limit per window across a rollover") {
  // Catches: window and count updated in more than one atomic step, or a rollover that lets two
  // threads each start the new window.
  lab_model::require_holds<RateLimiterRace<1, 0, false>>(
      "two calls racing for the one slot of a fresh limiter: exactly one is admitted",
      lab_model::exhaustive());
  lab_model::require_holds<RateLimiterRace<2, 1, false>>(
      "two calls racing for the last slot of a window: exactly one is admitted",
      lab_model::exhaustive());
  lab_model::require_holds<RateLimiterRace<1, 1, true>>(
      "two calls racing into a new window with a limit of 1: exactly one is admitted",
      lab_model::exhaustive());
  lab_model::require_holds<RateLimiterRace<2, 2, true>>(
      "two calls racing into a new window with a limit of 2: both are admitted",
      lab_model::exhaustive());
}
