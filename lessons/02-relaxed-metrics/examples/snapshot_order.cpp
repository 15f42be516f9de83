// snapshot_order.cpp: two loads are two moments, whatever the memory order (lesson 02).
//
// Each writer thread increments `x` and then `y`, over and over, both seq_cst. At every instant
// the two counters are therefore at most `writers` apart, with x never behind y: 0 <= x - y <=
// writers. A reader takes snapshots of the two counters while the writers run and counts the
// snapshots that fall OUTSIDE that band, for two load orders (x first, y first), all seq_cst.
//
// It does not say on which side of the band a bad snapshot falls: working that out for each
// load order is the question the lesson asks (section 5). Add the counters and find out.
//
// After the writers are joined, the totals are exact in both variants: join makes every write
// of the joined thread visible to the thread that joined it.
//
//   lesson_02_snapshot_order [milliseconds per variant, default 300]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Counters {
  std::atomic<std::uint64_t> x{0};
  std::atomic<std::uint64_t> y{0};
};

struct Snapshot {
  std::uint64_t x;
  std::uint64_t y;
};

Snapshot take(const Counters& c, bool x_first) {
  Snapshot s{};
  if (x_first) {
    s.x = c.x.load();
    s.y = c.y.load();
  } else {
    s.y = c.y.load();
    s.x = c.x.load();
  }
  return s;
}

void run(bool x_first, std::chrono::milliseconds duration, unsigned writers) {
  Counters counters;
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> rounds(writers, 0);
  std::uint64_t snapshots = 0, outside = 0, worst = 0;
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        std::uint64_t n = 0;
        // order: relaxed: a stop request; the join below publishes everything that matters.
        while (!stop.load(std::memory_order_relaxed)) {
          counters.x.fetch_add(1);
          counters.y.fetch_add(1);
          ++n;
        }
        rounds[w] = n;
      });
    }
    threads.emplace_back([&] {
      const auto end = std::chrono::steady_clock::now() + duration;
      while (std::chrono::steady_clock::now() < end) {
        const Snapshot s = take(counters, x_first);
        ++snapshots;
        // Distance from the band [0, writers] of x - y, on whichever side.
        const std::uint64_t off = s.x < s.y ? s.y - s.x
                                  : s.x - s.y > writers ? s.x - s.y - writers
                                                        : 0;
        if (off > 0) {
          ++outside;
          worst = std::max(worst, off);
        }
      }
      // order: relaxed: see the writers' loop.
      stop.store(true, std::memory_order_relaxed);
    });
  }  // every thread is joined here
  std::uint64_t expected = 0;
  for (const std::uint64_t n : rounds) expected += n;
  const Snapshot after = take(counters, x_first);
  std::printf("%s %8llu of %9llu snapshots outside the band (worst by %llu); after join: %s\n",
              x_first ? "x first, seq_cst" : "y first, seq_cst",
              static_cast<unsigned long long>(outside),
              static_cast<unsigned long long>(snapshots),
              static_cast<unsigned long long>(worst),
              after.x == expected && after.y == expected ? "exact" : "WRONG");
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::milliseconds duration{argc > 1 ? std::stoi(argv[1]) : 300};
  const unsigned writers = std::max(3U, std::thread::hardware_concurrency());
  std::printf("%u writer threads and 1 reader, %lld ms per variant, band 0 <= x - y <= %u\n",
              writers, static_cast<long long>(duration.count()), writers);
  for (const bool x_first : {true, false}) run(x_first, duration, writers);
}
