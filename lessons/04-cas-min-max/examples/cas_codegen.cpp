// cas_codegen.cpp: lesson 04, what compare_exchange_weak and _strong compile to.
//
// Compile to assembly and read it (commands and output in the lesson):
//   clang++ -std=c++20 -O2 -S -o - lessons/04-cas-min-max/examples/cas_codegen.cpp
//   clang++ -std=c++20 -O2 -S -o - --target=aarch64-linux-gnu lessons/04-cas-min-max/examples/cas_codegen.cpp
//   (add -march=armv8.1-a for AArch64 with the LSE atomics)
//
// The functions use the compiler builtins that libstdc++'s std::atomic<std::uint64_t> is made
// of (bits/atomic_base.h: compare_exchange_weak is __atomic_compare_exchange_n(..., 1, ...),
// compare_exchange_strong the same with 0), because this machine has no AArch64 C++ headers
// to cross-compile <atomic> with. On x86-64 the std::atomic spelling compiles to the same
// instructions. (No #include at all, for the same reason: unsigned long long is 64 bits on
// both targets.)
namespace {

using u64 = unsigned long long;
static_assert(sizeof(u64) == 8, "a 64-bit counter");
constexpr bool kWeak = true;
constexpr bool kStrong = false;

}  // namespace

// One attempt, may fail spuriously (LL/SC: the store-exclusive may fail even though the
// value matched). x86-64: lock cmpxchg. AArch64 without LSE: ldxr/stxr once, no loop.
bool cas_weak_once(u64* target, u64* expected, u64 desired) {
  return __atomic_compare_exchange_n(target, expected, desired, kWeak, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED);
}

// One attempt that fails only if the value differed. x86-64: the same lock cmpxchg.
// AArch64 without LSE: ldxr/stxr with a loop back when the store-exclusive fails.
bool cas_strong_once(u64* target, u64* expected, u64 desired) {
  return __atomic_compare_exchange_n(target, expected, desired, kStrong, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED);
}

// A CAS loop with an early exit, on a problem that is not the milestone's: double a backoff
// delay, but never beyond `cap` (the decision and the new value both come from `seen`).
// With weak: one loop.
void double_delay_weak(u64* target, u64 cap) {
  u64 seen = __atomic_load_n(target, __ATOMIC_RELAXED);
  while (seen < cap && !__atomic_compare_exchange_n(target, &seen, seen < cap / 2 ? 2 * seen : cap,
                                                    kWeak, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

// The same loop with strong: on LL/SC a loop inside a loop, for nothing.
void double_delay_strong(u64* target, u64 cap) {
  u64 seen = __atomic_load_n(target, __ATOMIC_RELAXED);
  while (seen < cap && !__atomic_compare_exchange_n(target, &seen, seen < cap / 2 ? 2 * seen : cap,
                                                    kStrong, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
}

#if defined(__clang__)
// Going further: clang's builtin for what C++26 calls std::atomic::fetch_max (P0493).
// x86-64: a lock cmpxchg loop that always writes. AArch64 with LSE: one ldumax.
u64 builtin_fetch_max(u64* target, u64 value) {
  return __atomic_fetch_max(target, value, __ATOMIC_RELAXED);
}
#endif

int main() {
  u64 x = 5;
  u64 expected = 5;
  const bool first = cas_weak_once(&x, &expected, 6) || cas_strong_once(&x, &expected, 6);
  double_delay_weak(&x, 9);      // 6 -> 9 (capped)
  double_delay_strong(&x, 40);   // 9 -> 18
#if defined(__clang__)
  (void)builtin_fetch_max(&x, 20);
#endif
  return first && x >= 12 ? 0 : 1;
}
