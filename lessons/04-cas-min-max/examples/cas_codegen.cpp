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
//
// order: every operation here is seq_cst, what std::atomic uses when you name no order. This
// file is about which instructions a compare-exchange becomes, not about choosing orders.
namespace {

using u64 = unsigned long long;
static_assert(sizeof(u64) == 8, "a 64-bit counter");
constexpr bool kWeak = true;
constexpr bool kStrong = false;
constexpr int kSeqCst = __ATOMIC_SEQ_CST;

}  // namespace

// One attempt, may fail spuriously (LL/SC: the store-exclusive may fail even though the
// value matched). x86-64: lock cmpxchg. AArch64 without LSE: ldaxr/stlxr once, no loop.
bool cas_weak_once(u64* target, u64* expected, u64 desired) {
  return __atomic_compare_exchange_n(target, expected, desired, kWeak, kSeqCst, kSeqCst);
}

// One attempt that fails only if the value differed. x86-64: the same lock cmpxchg.
// AArch64 without LSE: ldaxr/stlxr with a loop back when the store-exclusive fails.
bool cas_strong_once(u64* target, u64* expected, u64 desired) {
  return __atomic_compare_exchange_n(target, expected, desired, kStrong, kSeqCst, kSeqCst);
}

// A CAS loop with an early exit, on a problem that is not the milestone's: a 64-slot bitmap
// (bit i set = slot i taken); claim the lowest free slot and return its index, or -1 when all
// 64 are taken. `seen | (seen + 1)` sets the lowest clear bit of `seen`. With weak: one loop.
int claim_slot_weak(u64* bitmap) {
  u64 seen = __atomic_load_n(bitmap, kSeqCst);
  do {
    if (seen == ~0ULL) return -1;  // full: nothing to claim, nothing to write
  } while (!__atomic_compare_exchange_n(bitmap, &seen, seen | (seen + 1), kWeak, kSeqCst,
                                        kSeqCst));
  return __builtin_ctzll(~seen);  // on success `seen` still holds the value replaced
}

// The same loop with strong: on LL/SC a loop inside a loop, for nothing.
int claim_slot_strong(u64* bitmap) {
  u64 seen = __atomic_load_n(bitmap, kSeqCst);
  do {
    if (seen == ~0ULL) return -1;
  } while (!__atomic_compare_exchange_n(bitmap, &seen, seen | (seen + 1), kStrong, kSeqCst,
                                        kSeqCst));
  return __builtin_ctzll(~seen);
}

#if defined(__clang__)
// Going further: clang's builtin for what C++26 calls std::atomic::fetch_max (P0493).
// x86-64: a lock cmpxchg loop that always writes. AArch64 with LSE: one instruction.
u64 builtin_fetch_max(u64* target, u64 value) {
  return __atomic_fetch_max(target, value, kSeqCst);
}
#endif

int main() {
  u64 x = 5;
  u64 expected = 5;
  const bool first = cas_weak_once(&x, &expected, 6) || cas_strong_once(&x, &expected, 6);
  const int a = claim_slot_weak(&x);    // 0b110 -> 0b111: slot 0
  const int b = claim_slot_strong(&x);  // 0b111 -> 0b1111: slot 3
#if defined(__clang__)
  (void)builtin_fetch_max(&x, 20);
#endif
  return first && a == 0 && b == 3 && x >= 15 ? 0 : 1;
}
