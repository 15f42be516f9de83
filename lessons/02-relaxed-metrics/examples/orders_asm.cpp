// orders_asm.cpp: what a counter's operations compile to, order by order (lesson 02).
//
// Compile to assembly and compare the functions (the lesson shows the output):
//   clang++ -std=c++20 -O2 -S -o - lessons/02-relaxed-metrics/examples/orders_asm.cpp
//   clang++ -std=c++20 -O2 -S -o - --target=aarch64-linux-gnu lessons/02-relaxed-metrics/examples/orders_asm.cpp
//   (add -march=armv8.1-a for AArch64 with the LSE atomics)
//
// The functions use the compiler builtins that libstdc++'s std::atomic<std::uint64_t> is made
// of: counter.fetch_add(1, std::memory_order_release) is __atomic_fetch_add(&v, 1,
// __ATOMIC_RELEASE), load(acquire) is __atomic_load_n(&v, __ATOMIC_ACQUIRE), and so on (see
// /usr/include/c++/12/bits/atomic_base.h). That is because this machine has no AArch64 C++
// headers to cross-compile <atomic> with; for x86-64 the std::atomic spelling compiles to the
// same instructions. No #include at all, for the same reason.
namespace {

using u64 = unsigned long long;
static_assert(sizeof(u64) == 8, "a 64-bit counter");

}  // namespace

u64 counter = 0;

// The adds return the old value, as fetch_add does (with the result unused, x86-64 compilers
// emit `lock add` instead of `lock xadd`: another spelling of the same locked RMW).
u64 add_relaxed() { return __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED); }
u64 add_release() { return __atomic_fetch_add(&counter, 1, __ATOMIC_RELEASE); }
u64 add_seq_cst() { return __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST); }

u64 load_relaxed() { return __atomic_load_n(&counter, __ATOMIC_RELAXED); }
u64 load_acquire() { return __atomic_load_n(&counter, __ATOMIC_ACQUIRE); }
u64 load_seq_cst() { return __atomic_load_n(&counter, __ATOMIC_SEQ_CST); }

void store_release(u64 v) { __atomic_store_n(&counter, v, __ATOMIC_RELEASE); }
void store_seq_cst(u64 v) { __atomic_store_n(&counter, v, __ATOMIC_SEQ_CST); }

int main() {
  const u64 before = add_relaxed() + add_release() + add_seq_cst();  // 0 + 1 + 2
  store_release(load_relaxed() + load_acquire());                     // 3 + 3
  store_seq_cst(load_seq_cst() + before);                             // 6 + 3
  return load_acquire() == 9 ? 0 : 1;
}
