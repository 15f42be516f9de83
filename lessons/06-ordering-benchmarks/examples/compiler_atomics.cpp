// compiler_atomics.cpp: what the compiler may and does do to plain and atomic accesses
// (lesson 06, "What a compiler may do to atomics"). Read its assembly:
//   clang++ -std=c++20 -O2 -S -o - THIS_FILE
// Each function is extern "C" so its label is its name. main() runs the ones that terminate.
#include <atomic>

extern "C" {
bool plain_ready;               // a plain flag another thread would set: a data race
std::atomic<bool> ready{false};
int data;                       // plain data published by a flag
std::atomic<int> a{0};

// A loop on a plain flag: nothing in the loop can change it (a racing write would be UB), so
// the load may be done once.
void spin_plain() {
  while (!plain_ready) {
  }
}
// The same loop on an atomic: every iteration loads it ([intro.progress]: an implementation
// "should ensure" the store becomes visible "in a finite period of time", and [atomics.order]
// p11 "should make" it visible "within a reasonable amount of time": recommendations, not
// requirements, which is why compilers do not merge the loads of such a loop).
void spin_atomic() {
  while (!ready.load(std::memory_order_relaxed)) {
  }
}
// Two relaxed stores to one atomic: no other thread could tell if the first never happened
// (it could always have been overwritten before anyone looked), so merging is allowed.
void two_stores() {
  a.store(1, std::memory_order_relaxed);
  a.store(2, std::memory_order_relaxed);
}
// Plain stores around a relaxed store: relaxed orders nothing, so `data = 1` is dead.
void around_relaxed() {
  data = 1;
  a.store(1, std::memory_order_relaxed);
  data = 2;
}
// Around a release store: data = 1 may not move below the store, but data = 2 may move above
// it, and a reader that acquires a == 1 and reads data races with data = 2: no race-free
// program observes data == 1, so it may be dropped here too (clang 14 keeps it).
void around_release() {
  data = 1;
  a.store(1, std::memory_order_release);
  data = 2;
}
// A relaxed load whose value is unused.
void unused_load() { (void)a.load(std::memory_order_relaxed); }
}

int main() {
  ready.store(true);
  plain_ready = true;
  spin_atomic();
  two_stores();
  around_relaxed();
  around_release();
  unused_load();
  return a.load() == 1 && data == 2 ? 0 : 1;
}
