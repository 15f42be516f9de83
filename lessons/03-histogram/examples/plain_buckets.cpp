// plain_buckets.cpp: a histogram whose buckets are plain integers. BROKEN ON PURPOSE.
//
// Four threads record into the same five buckets. `++counts[b]` on a plain std::uint64_t is a
// read, an add and a write; two threads doing it at once is a data race, which is undefined
// behaviour. ThreadSanitizer reports it; without TSan, observations silently disappear.
// The buckets here are five of equal width (0-119, 120-239, ...: the bucket is value / 120),
// not the `le` buckets of the exercise: how a value finds its bucket is not this example's
// point, the increment is.
//   cmake --build build/student --target lesson_03_plain_buckets
//   build/student/lessons/lesson_03_plain_buckets
#include <array>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr std::uint64_t kWidth = 120;  // values 0..599: five buckets of equal width
std::array<std::uint64_t, 5> counts{};  // BROKEN: plain integers, not atomics

void record(std::uint64_t value) {
  ++counts[static_cast<std::size_t>(value / kWidth)];  // data race
}

}  // namespace

int main() {
  constexpr unsigned kThreads = 4;
  constexpr std::uint64_t kPerThread = 1'000'000;
  {
    std::vector<std::jthread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
      threads.emplace_back([] {
        for (std::uint64_t i = 0; i < kPerThread; ++i) record(i % 600);
      });
    }
  }  // joined here
  std::uint64_t counted = 0;
  for (const std::uint64_t c : counts) counted += c;
  const std::uint64_t recorded = kThreads * kPerThread;
  std::printf("recorded %llu observations, the buckets hold %llu: %llu lost\n",
              static_cast<unsigned long long>(recorded), static_cast<unsigned long long>(counted),
              static_cast<unsigned long long>(recorded - counted));
}
