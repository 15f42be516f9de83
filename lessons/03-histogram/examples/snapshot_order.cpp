// snapshot_order.cpp: which order of operations keeps "the sum includes every counted
// observation"? Four versions of the same histogram, differing only in ORDER:
//   record():   sum first, then bucket   |  bucket first, then sum
//   snapshot(): buckets first, then sum  |  sum first, then buckets
// Memory orders are release/acquire everywhere, so only the order of the statements differs.
// Writers record values equal to their bucket's bound (1'000'000 in the overflow bucket), so
// a snapshot's counted values add up to exactly sum(counts[b] * value[b]); the program counts
// the snapshots whose sum is smaller than that. No data race anywhere: TSan stays silent.
//   build/student/lessons/lesson_03_snapshot_order
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kN = 64;  // bounds 10, 20, ..., 640, then overflow
constexpr unsigned kWriters = 4;
constexpr std::uint64_t kPerWriter = 300'000;

constexpr std::uint64_t value_of(std::size_t bucket) {
  return bucket < kN ? 10 * (bucket + 1) : 1'000'000;
}

struct Snapshot {
  std::array<std::uint64_t, kN + 1> counts{};
  std::uint64_t sum = 0;
};

template <bool kRecordSumFirst, bool kSnapshotBucketsFirst>
class Histogram {
 public:
  void record(std::size_t bucket) {
    if constexpr (kRecordSumFirst) {
      sum_.fetch_add(value_of(bucket), std::memory_order_relaxed);
      counts_[bucket].fetch_add(1, std::memory_order_release);
    } else {
      counts_[bucket].fetch_add(1, std::memory_order_release);
      sum_.fetch_add(value_of(bucket), std::memory_order_release);
    }
  }
  Snapshot snapshot() const {
    Snapshot s;
    if constexpr (!kSnapshotBucketsFirst) s.sum = sum_.load(std::memory_order_acquire);
    for (std::size_t b = 0; b <= kN; ++b) s.counts[b] = counts_[b].load(std::memory_order_acquire);
    if constexpr (kSnapshotBucketsFirst) s.sum = sum_.load(std::memory_order_acquire);
    return s;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kN + 1> counts_{};
  std::atomic<std::uint64_t> sum_{0};
};

template <bool kRecordSumFirst, bool kSnapshotBucketsFirst>
void run(const char* record_order, const char* snapshot_order) {
  Histogram<kRecordSumFirst, kSnapshotBucketsFirst> h;
  std::atomic<unsigned> finished{0};
  std::uint64_t snapshots = 0, bad = 0;
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < kWriters; ++w) {
      threads.emplace_back([&h, &finished, w] {
        for (std::uint64_t i = 0; i < kPerWriter; ++i) {
          h.record(i % 2 == 0 ? kN : (i / 2 + w) % kN);  // half the values in the overflow
        }
        finished.fetch_add(1);
      });
    }
    threads.emplace_back([&] {
      while (finished.load() < kWriters) {
        const Snapshot s = h.snapshot();
        std::uint64_t counted = 0;
        for (std::size_t b = 0; b <= kN; ++b) counted += s.counts[b] * value_of(b);
        ++snapshots;
        if (s.sum < counted) ++bad;
      }
    });
  }
  std::printf("record: %-22s snapshot: %-22s %6llu of %6llu snapshots lack counted values\n",
              record_order, snapshot_order, static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(snapshots));
}

}  // namespace

int main() {
  run<true, true>("sum, then bucket", "buckets, then sum");
  run<true, false>("sum, then bucket", "sum, then buckets");
  run<false, true>("bucket, then sum", "buckets, then sum");
  run<false, false>("bucket, then sum", "sum, then buckets");
}
