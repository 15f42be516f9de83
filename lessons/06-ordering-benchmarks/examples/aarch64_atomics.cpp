// aarch64_atomics.cpp: what an acquire load, a seq_cst load and a relaxed fetch_add become on
// AArch64 with different compiler flags (lesson 06, "AArch64: LL/SC, LSE, outline atomics").
// Written with the __atomic builtins that std::atomic is made of, because this machine has no
// AArch64 C++ headers; it also builds and runs here (x86-64) as an ordinary program.
//   clang++ -std=c++20 -O2 -S -o - --target=aarch64-linux-gnu [FLAGS] THIS_FILE
extern "C" {
unsigned long counter;

unsigned long load_acquire() { return __atomic_load_n(&counter, __ATOMIC_ACQUIRE); }
unsigned long load_seq_cst() { return __atomic_load_n(&counter, __ATOMIC_SEQ_CST); }
unsigned long add_relaxed() { return __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED); }
}

int main() {
  add_relaxed();
  return load_acquire() == 1 && load_seq_cst() == 1 ? 0 : 1;
}
