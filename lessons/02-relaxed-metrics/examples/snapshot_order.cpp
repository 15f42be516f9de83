// snapshot_order.cpp: which load comes first decides whether a job pipeline's snapshot keeps
// started - finished <= workers (lesson 02).
//
// Each writer thread starts a job and then finishes it, over and over: it is busy with at most
// one job at a time, so at any instant at most `workers` jobs are in flight. A reader takes
// snapshots of the two counters while they run and counts the snapshots that show MORE jobs in
// flight than there are workers (started - finished > workers). Four ways to take the snapshot:
//
//   finished first, relaxed          the order a beginner writes (it is the declaration order)
//   finished first, seq_cst          stronger orders do not help: the loads are still apart
//   started first (acquire), then finished (relaxed), with started incremented with release:
//                                    correct for THIS bound (the proof is in the lesson)
//   started first, all seq_cst       also correct (seq_cst includes acquire and release)
//
// Not the collector of milestone 2: the promise here is an UPPER bound on a difference, and the
// write that carries what the reader needs is a job's start, which comes after the previous
// job's finish. Which promise the collector makes, which of its writes comes after what its
// reader needs, and so which orders and which load order it takes, is yours to work out.
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

enum class Variant { kFinishedFirstRelaxed, kFinishedFirstSeqCst, kStartedFirstAcquire, kStartedFirstSeqCst };

const char* name(Variant v) {
  switch (v) {
    case Variant::kFinishedFirstRelaxed: return "finished first, relaxed        ";
    case Variant::kFinishedFirstSeqCst: return "finished first, seq_cst        ";
    case Variant::kStartedFirstAcquire: return "started first, release/acquire ";
    case Variant::kStartedFirstSeqCst: return "started first, seq_cst         ";
  }
  return "?";
}

// One job: start it, then finish it. The NEXT call's start comes after this finish.
void run_one_job(Counters& c, Variant v) {
  if (v == Variant::kFinishedFirstSeqCst || v == Variant::kStartedFirstSeqCst) {
    c.started.fetch_add(1);
    c.finished.fetch_add(1);
  } else {
    c.started.fetch_add(1, std::memory_order_release);
    c.finished.fetch_add(1, std::memory_order_relaxed);
  }
}

Snapshot take(const Counters& c, Variant v) {
  Snapshot s{};
  switch (v) {
    case Variant::kFinishedFirstRelaxed:  // WRONG for this bound: jobs start between two loads
      s.finished = c.finished.load(std::memory_order_relaxed);
      s.started = c.started.load(std::memory_order_relaxed);
      break;
    case Variant::kFinishedFirstSeqCst:  // WRONG in the same way
      s.finished = c.finished.load();
      s.started = c.started.load();
      break;
    case Variant::kStartedFirstAcquire:
      s.started = c.started.load(std::memory_order_acquire);
      s.finished = c.finished.load(std::memory_order_relaxed);
      break;
    case Variant::kStartedFirstSeqCst:
      s.started = c.started.load();
      s.finished = c.finished.load();
      break;
  }
  return s;
}

void run(Variant v, std::chrono::milliseconds duration, unsigned writers) {
  Counters counters;
  std::atomic<bool> stop{false};
  std::vector<std::uint64_t> jobs(writers, 0);
  std::uint64_t snapshots = 0, bad = 0, worst = 0;
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        std::uint64_t n = 0;
        // order: relaxed: a stop request; the join below publishes everything that matters.
        while (!stop.load(std::memory_order_relaxed)) {
          run_one_job(counters, v);
          ++n;
        }
        jobs[w] = n;
      });
    }
    threads.emplace_back([&] {
      const auto end = std::chrono::steady_clock::now() + duration;
      while (std::chrono::steady_clock::now() < end) {
        const Snapshot s = take(counters, v);
        ++snapshots;
        // In flight = started - finished; a snapshot whose finished is ahead of its started is
        // not what this program measures (it counts only the upper bound).
        if (s.started > s.finished && s.started - s.finished > writers) {
          ++bad;
          worst = std::max(worst, s.started - s.finished);
        }
      }
      // order: relaxed: see the writers' loop.
      stop.store(true, std::memory_order_relaxed);
    });
  }  // every thread is joined here
  std::uint64_t expected = 0;
  for (const std::uint64_t n : jobs) expected += n;
  const Snapshot after = take(counters, v);
  std::printf("%s %8llu of %9llu snapshots had more than %u in flight (worst %llu); after join: %s\n",
              name(v), static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(snapshots), writers,
              static_cast<unsigned long long>(worst),
              after.started == expected && after.finished == expected ? "exact" : "WRONG");
}

}  // namespace

int main(int argc, char** argv) {
  const std::chrono::milliseconds duration{argc > 1 ? std::stoi(argv[1]) : 300};
  const unsigned writers = std::max(3U, std::thread::hardware_concurrency());
  std::printf("%u writer threads and 1 reader, %lld ms per variant\n", writers,
              static_cast<long long>(duration.count()));
  for (const Variant v : {Variant::kFinishedFirstRelaxed, Variant::kFinishedFirstSeqCst,
                          Variant::kStartedFirstAcquire, Variant::kStartedFirstSeqCst}) {
    run(v, duration, writers);
  }
}
