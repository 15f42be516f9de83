// snapshot_order.cpp: which load comes first decides whether finished <= started (lesson 02).
//
// Writers start a job and then finish it, over and over. A reader takes snapshots of the
// two counters while they run and counts the snapshots that show more finished than started.
// Four ways to take the snapshot are compared:
//
//   started first, relaxed           the order a beginner writes (it is the declaration order)
//   started first, seq_cst           stronger orders do not help: the loads are still apart
//   finished first (acquire), then started (relaxed), finished incremented with release: correct
//   finished first, all seq_cst      also correct (seq_cst includes acquire and release)
//
// Not the collector of milestone 2: a job monitor, where every job is finished after it was
// started, by the thread that started it. The collector's decision is the same kind; which of
// its counters plays which role is yours to work out.
//
// After the writers are joined, the totals are exact in every variant: join makes every write
// of the joined thread, relaxed ones included, visible to the thread that joined it.
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
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> finished{0};
};

struct Snapshot {
  std::uint64_t started;
  std::uint64_t finished;
};

enum class Variant { kStartedFirstRelaxed, kStartedFirstSeqCst, kFinishedFirstAcquire, kFinishedFirstSeqCst };

const char* name(Variant v) {
  switch (v) {
    case Variant::kStartedFirstRelaxed: return "started first, relaxed          ";
    case Variant::kStartedFirstSeqCst: return "started first, seq_cst          ";
    case Variant::kFinishedFirstAcquire: return "finished first, release/acquire ";
    case Variant::kFinishedFirstSeqCst: return "finished first, seq_cst         ";
  }
  return "?";
}

void record(Counters& c, Variant v) {
  if (v == Variant::kStartedFirstSeqCst || v == Variant::kFinishedFirstSeqCst) {
    c.started.fetch_add(1);
    c.finished.fetch_add(1);
  } else {
    c.started.fetch_add(1, std::memory_order_relaxed);
    c.finished.fetch_add(1, std::memory_order_release);
  }
}

Snapshot take(const Counters& c, Variant v) {
  Snapshot s{};
  switch (v) {
    case Variant::kStartedFirstRelaxed:  // WRONG: a request and its error can land in between
      s.started = c.started.load(std::memory_order_relaxed);
      s.finished = c.finished.load(std::memory_order_relaxed);
      break;
    case Variant::kStartedFirstSeqCst:  // WRONG in the same way
      s.started = c.started.load();
      s.finished = c.finished.load();
      break;
    case Variant::kFinishedFirstAcquire:
      s.finished = c.finished.load(std::memory_order_acquire);
      s.started = c.started.load(std::memory_order_relaxed);
      break;
    case Variant::kFinishedFirstSeqCst:
      s.finished = c.finished.load();
      s.started = c.started.load();
      break;
  }
  return s;
}

void run(Variant v, std::chrono::milliseconds duration, unsigned writers) {
  Counters counters;
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> pairs(writers, 0);
  std::uint64_t snapshots = 0, bad = 0, worst = 0;
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        std::uint64_t n = 0;
        // order: relaxed: a stop request; the join below publishes everything that matters.
        while (!stop.load(std::memory_order_relaxed)) {
          record(counters, v);
          ++n;
        }
        pairs[w] = n;
      });
    }
    threads.emplace_back([&] {
      const auto end = std::chrono::steady_clock::now() + duration;
      while (std::chrono::steady_clock::now() < end) {
        const Snapshot s = take(counters, v);
        ++snapshots;
        if (s.finished > s.started) {
          ++bad;
          worst = std::max(worst, s.finished - s.started);
        }
      }
      // order: relaxed: see the writers' loop.
      stop.store(true, std::memory_order_relaxed);
    });
  }  // every thread is joined here
  std::uint64_t expected = 0;
  for (const std::uint64_t n : pairs) expected += n;
  const Snapshot after = take(counters, v);
  std::printf("%s %8llu of %9llu snapshots had finished > started (worst by %llu); after join: %s\n",
              name(v), static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(snapshots), static_cast<unsigned long long>(worst),
              after.started == expected && after.finished == expected ? "exact" : "WRONG");
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::milliseconds duration{argc > 1 ? std::stoi(argv[1]) : 300};
  const unsigned writers = std::max(3U, std::thread::hardware_concurrency());
  std::printf("%u writer threads and 1 reader, %lld ms per variant\n", writers,
              static_cast<long long>(duration.count()));
  for (const Variant v : {Variant::kStartedFirstRelaxed, Variant::kStartedFirstSeqCst,
                          Variant::kFinishedFirstAcquire, Variant::kFinishedFirstSeqCst}) {
    run(v, duration, writers);
  }
}
