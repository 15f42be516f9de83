// snapshot_order.cpp: which load comes first decides whether errors <= requests (lesson 02).
//
// Writers record a request and then its error, over and over. A reader takes snapshots of the
// two counters while they run and counts the snapshots that show more errors than requests.
// Four ways to take the snapshot are compared:
//
//   requests first, relaxed          the order a beginner writes (it is the declaration order)
//   requests first, seq_cst          stronger orders do not help: the loads are still apart
//   errors first (acquire), then requests (relaxed), errors incremented with release: correct
//   errors first, all seq_cst        also correct (seq_cst includes acquire and release)
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
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> errors{0};
};

struct Snapshot {
  std::uint64_t requests;
  std::uint64_t errors;
};

enum class Variant { kRequestsFirstRelaxed, kRequestsFirstSeqCst, kErrorsFirstAcquire, kErrorsFirstSeqCst };

const char* name(Variant v) {
  switch (v) {
    case Variant::kRequestsFirstRelaxed: return "requests first, relaxed         ";
    case Variant::kRequestsFirstSeqCst: return "requests first, seq_cst         ";
    case Variant::kErrorsFirstAcquire: return "errors first, release/acquire   ";
    case Variant::kErrorsFirstSeqCst: return "errors first, seq_cst           ";
  }
  return "?";
}

void record(Counters& c, Variant v) {
  if (v == Variant::kRequestsFirstSeqCst || v == Variant::kErrorsFirstSeqCst) {
    c.requests.fetch_add(1);
    c.errors.fetch_add(1);
  } else {
    c.requests.fetch_add(1, std::memory_order_relaxed);
    c.errors.fetch_add(1, std::memory_order_release);
  }
}

Snapshot take(const Counters& c, Variant v) {
  Snapshot s{};
  switch (v) {
    case Variant::kRequestsFirstRelaxed:  // WRONG: a request and its error can land in between
      s.requests = c.requests.load(std::memory_order_relaxed);
      s.errors = c.errors.load(std::memory_order_relaxed);
      break;
    case Variant::kRequestsFirstSeqCst:  // WRONG in the same way
      s.requests = c.requests.load();
      s.errors = c.errors.load();
      break;
    case Variant::kErrorsFirstAcquire:
      s.errors = c.errors.load(std::memory_order_acquire);
      s.requests = c.requests.load(std::memory_order_relaxed);
      break;
    case Variant::kErrorsFirstSeqCst:
      s.errors = c.errors.load();
      s.requests = c.requests.load();
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
        if (s.errors > s.requests) {
          ++bad;
          worst = std::max(worst, s.errors - s.requests);
        }
      }
      // order: relaxed: see the writers' loop.
      stop.store(true, std::memory_order_relaxed);
    });
  }  // every thread is joined here
  std::uint64_t expected = 0;
  for (const std::uint64_t n : pairs) expected += n;
  const Snapshot after = take(counters, v);
  std::printf("%s %8llu of %9llu snapshots had errors > requests (worst by %llu); after join: %s\n",
              name(v), static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(snapshots), static_cast<unsigned long long>(worst),
              after.requests == expected && after.errors == expected ? "exact" : "WRONG");
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::milliseconds duration{argc > 1 ? std::stoi(argv[1]) : 300};
  const unsigned writers = std::max(3U, std::thread::hardware_concurrency());
  std::printf("%u writer threads and 1 reader, %lld ms per variant\n", writers,
              static_cast<long long>(duration.count()));
  for (const Variant v : {Variant::kRequestsFirstRelaxed, Variant::kRequestsFirstSeqCst,
                          Variant::kErrorsFirstAcquire, Variant::kErrorsFirstSeqCst}) {
    run(v, duration, writers);
  }
}
