// plain_slots.cpp: "each thread has its own slot, so the slot need not be atomic". Wrong.
//
// Three writer threads each count into their own slot; a reporter thread sums the slots while
// they run, as ShardedCounter::get() does. The writes do not conflict with each other, but the
// reporter READS a slot while its owner WRITES it: that is a data race, undefined behaviour,
// and ThreadSanitizer says so. Build with -DLAB_FIXED for the safe-default fix: std::atomic
// slots with seq_cst operations. (What a slot with one writer really needs, and which order its
// reader needs, is milestone 6's ShardedCounter exercise: this example does not answer it.)
//
//   cmake --preset student && cmake --build --preset student --target lesson_06_plain_slots
//   build/student/lessons/lesson_06_plain_slots
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr int kWriters = 3;
constexpr std::uint64_t kPerWriter = 100'000;

struct Slot {  // not padded: this example is about the race, not about speed
#if defined(LAB_FIXED)
  std::atomic<std::uint64_t> value{0};
#else
  std::uint64_t value = 0;  // BROKEN: read by the reporter while its owner writes it
#endif
};

Slot slots[kWriters];

std::uint64_t sum() {
  std::uint64_t total = 0;
  for (const Slot& s : slots) {
#if defined(LAB_FIXED)
    total += s.value.load();  // the safe default, seq_cst
#else
    total += s.value;
#endif
  }
  return total;
}

}  // namespace

int main() {
  std::atomic<int> running{kWriters};
  std::atomic<std::uint64_t> reports{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([w, &running, &reports] {
      for (std::uint64_t i = 0; i < kPerWriter; ++i) {
#if defined(LAB_FIXED)
        slots[w].value.fetch_add(1);  // the safe default, seq_cst
#else
        ++slots[w].value;
#endif
      }
      // Stay until the reporter has really read the slots a few times, even on a busy machine.
      while (reports.load() < 100) std::this_thread::yield();
      running.fetch_sub(1);
    });
  }
  std::uint64_t last = 0;
  while (running.load() > 0) {
    last = sum();
    reports.fetch_add(1);
  }
  for (std::thread& t : writers) t.join();
  std::printf("%llu reports, the last one %llu, final %llu (expected %llu)\n",
              static_cast<unsigned long long>(reports.load()),
              static_cast<unsigned long long>(last), static_cast<unsigned long long>(sum()),
              static_cast<unsigned long long>(kWriters * kPerWriter));
  return 0;
}
