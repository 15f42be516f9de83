// consume_dependency.cpp: memory_order_consume in practice (lesson 06, "Consume and
// dependency ordering"). A reader loads a pointer to a published object and reads through it:
// the second load depends on the first (its address comes from it), which is all that consume
// was designed to need. Written with the __atomic builtins so that it also compiles for AArch64
// on this machine (no AArch64 C++ headers here); it builds and runs on x86-64 as well.
//   clang++ -std=c++20 -O2 -S -o - --target=aarch64-linux-gnu THIS_FILE
extern "C" {
struct Config {
  int value;
};
Config* current;

int read_relaxed() { return __atomic_load_n(&current, __ATOMIC_RELAXED)->value; }
int read_consume() { return __atomic_load_n(&current, __ATOMIC_CONSUME)->value; }
int read_acquire() { return __atomic_load_n(&current, __ATOMIC_ACQUIRE)->value; }
}

int main() {
  static Config config{7};
  __atomic_store_n(&current, &config, __ATOMIC_RELEASE);
  return read_relaxed() + read_consume() + read_acquire() == 21 ? 0 : 1;
}
