// A data race: four threads increment a plain integer. Undefined behaviour, and TSan says so.
// Build and run (from the repository root):
//   cmake --preset student && cmake --build --preset student --target lesson_01_racy_counter
//   build/student/lessons/lesson_01_racy_counter
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

int main() {
  std::uint64_t count = 0;  // BROKEN: shared and written by several threads without atomics
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&count] {
      for (int i = 0; i < 100'000; ++i) ++count;
    });
  }
  for (auto& th : threads) th.join();
  std::printf("expected 400000, got %llu\n", static_cast<unsigned long long>(count));
}
