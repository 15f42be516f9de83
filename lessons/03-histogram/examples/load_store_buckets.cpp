// load_store_buckets.cpp: atomic buckets incremented with load() + store(). BROKEN ON PURPOSE.
//
// Every access is atomic, so there is no data race and ThreadSanitizer stays silent. But
// load() and store() are two steps: two threads that load the same count both store count + 1,
// and one observation is lost. Only counting finds this; the checkpoints count. The same
// program then records with fetch_add, one indivisible read-modify-write, and loses nothing.
// The five buckets have equal width (the bucket is value / 120), not the exercise's `le`
// buckets: the increment is the point here, not the bucket search.
//   build/student/lessons/lesson_03_load_store_buckets
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kBuckets = 5;
constexpr std::uint64_t kWidth = 120;  // values 0..599: five buckets of equal width
constexpr unsigned kThreads = 4;
constexpr std::uint64_t kPerThread = 1'000'000;

std::size_t bucket_of(std::uint64_t value) { return static_cast<std::size_t>(value / kWidth); }

template <class Record>
std::uint64_t lost_with(Record record) {
  std::array<std::atomic<std::uint64_t>, kBuckets> counts{};
  {
    std::vector<std::jthread> threads;
    for (unsigned t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (std::uint64_t i = 0; i < kPerThread; ++i) record(counts, i % 600);
      });
    }
  }
  std::uint64_t counted = 0;
  for (const auto& c : counts) counted += c.load();
  return kThreads * kPerThread - counted;
}

}  // namespace

int main() {
  const std::uint64_t lost_load_store = lost_with([](auto& counts, std::uint64_t value) {
    auto& bucket = counts[bucket_of(value)];
    bucket.store(bucket.load() + 1);  // BROKEN: two atomic steps, not one
  });
  const std::uint64_t lost_fetch_add = lost_with([](auto& counts, std::uint64_t value) {
    counts[bucket_of(value)].fetch_add(1);  // one atomic read-modify-write
  });
  std::printf("%u threads x %llu observations\n", kThreads,
              static_cast<unsigned long long>(kPerThread));
  std::printf("load() + store(): %llu lost\n", static_cast<unsigned long long>(lost_load_store));
  std::printf("fetch_add():      %llu lost\n", static_cast<unsigned long long>(lost_fetch_add));
}
