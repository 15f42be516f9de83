// lab_test.hpp: helpers for concurrency checkpoints.
//
// A concurrency test proves something only if its threads really ran at the same time.
// lab::run_together() starts every thread at once (std::latch), records when each one
// started and finished its body, and reports whether all of them overlapped. Tests assert
// that, so a test that "passes" because the threads ran one after another fails instead.
// An exception thrown in a worker (a starter's TODO, a failed REQUIRE) is rethrown in the
// calling thread after every worker has been joined: nothing terminates, nothing hangs.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <latch>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace lab {

struct RunReport {
  std::size_t threads = 0;
  // True when one instant existed at which every thread was inside its body.
  bool overlapped = false;
  std::chrono::nanoseconds elapsed{0};
};

// Runs body(i) for i in [0, threads) on `threads` new threads released together.
// Thread safety: call from one test thread; body must be safe to run concurrently.
template <class Body>
RunReport run_together(std::size_t threads, Body&& body) {
  using clock = std::chrono::steady_clock;
  std::vector<clock::time_point> started(threads), finished(threads);
  std::exception_ptr first_error;
  std::mutex error_mutex;  // test harness only: guards first_error
  std::latch ready(static_cast<std::ptrdiff_t>(threads));
  {
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        ready.arrive_and_wait();
        started[i] = clock::now();
        try {
          body(i);
        } catch (...) {
          const std::scoped_lock lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
        }
        finished[i] = clock::now();
      });
    }
  }  // jthreads join here
  if (first_error) std::rethrow_exception(first_error);
  RunReport report;
  report.threads = threads;
  const auto last_start = *std::max_element(started.begin(), started.end());
  const auto first_end = *std::min_element(finished.begin(), finished.end());
  report.overlapped = threads < 2 || last_start < first_end;
  report.elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(
      *std::max_element(finished.begin(), finished.end()) -
      *std::min_element(started.begin(), started.end()));
  return report;
}

// Runs writer(i) on `writers` threads and, on one more thread, calls reader_step() over and
// over until every writer has returned (or thrown), all released together. Returns how many
// times reader_step ran in `reader_steps`, so a test can check that reads really overlapped
// the writes. A writer that throws still counts as finished, so the reader never spins forever.
struct WritersReaderReport {
  RunReport run;
  std::uint64_t reader_steps = 0;
};

template <class Writer, class ReaderStep>
WritersReaderReport run_writers_and_reader(std::size_t writers, Writer&& writer,
                                           ReaderStep&& reader_step) {
  std::atomic<std::size_t> finished{0};
  WritersReaderReport report;
  report.run = run_together(writers + 1, [&](std::size_t i) {
    if (i == writers) {
      while (finished.load() < writers) {
        reader_step();
        ++report.reader_steps;
      }
      return;
    }
    struct Finished {
      std::atomic<std::size_t>& count;
      ~Finished() { count.fetch_add(1); }
    } guard{finished};
    writer(i);
  });
  return report;
}

// hammer(): the loop-owning form, which overlaps by construction, with or without sanitizers.
//
// Calls op(i) over and over on `threads` threads. A thread stops only when it has made at
// least `min_ops` calls AND every thread has started AND (with a reader) the reader has taken
// `min_reader_steps` steps or stopped. So even a fast, uninstrumented build on a 2-core
// machine cannot finish one thread before the next one starts. The reader (optional) calls
// reader_step() until every writer has stopped. Returns the number of calls each thread
// made, so tests assert exact totals: expected = sum(ops[i] * amount(i)).
// Exceptions (a TODO, a failed REQUIRE) stop the thread that threw, release the others and
// are rethrown after the join.
struct HammerReport {
  RunReport run;
  std::vector<std::uint64_t> ops;  // calls of op(i) made by writer i
  std::uint64_t reader_steps = 0;
  [[nodiscard]] std::uint64_t total_ops() const {
    std::uint64_t sum = 0;
    for (auto n : ops) sum += n;
    return sum;
  }
};

namespace detail {
struct NoReader {
  void operator()() const {}
};
}  // namespace detail

template <class Op, class ReaderStep = detail::NoReader>
HammerReport hammer(std::size_t threads, std::uint64_t min_ops, Op&& op,
                    ReaderStep&& reader_step = {}, std::uint64_t min_reader_steps = 0) {
  constexpr bool has_reader = !std::is_same_v<std::decay_t<ReaderStep>, detail::NoReader>;
  HammerReport report;
  report.ops.assign(threads, 0);
  std::atomic<std::size_t> started{0}, stopped{0};
  std::atomic<std::uint64_t> reader_progress{0};
  std::atomic<bool> reader_gone{!has_reader};
  struct Flag {
    std::atomic<std::size_t>& count;
    ~Flag() { count.fetch_add(1); }
  };
  report.run = run_together(threads + (has_reader ? 1 : 0), [&](std::size_t i) {
    if (i == threads) {  // the reader
      struct Gone {
        std::atomic<bool>& gone;
        ~Gone() { gone.store(true); }
      } gone{reader_gone};
      while (stopped.load() < threads) {
        reader_step();
        reader_progress.fetch_add(1);
      }
      report.reader_steps = reader_progress.load();
      return;
    }
    const Flag stop{stopped};
    started.fetch_add(1);
    std::uint64_t done = 0;
    try {
      while (done < min_ops || started.load() < threads ||
             (reader_progress.load() < min_reader_steps && !reader_gone.load())) {
        op(i);
        ++done;
      }
    } catch (...) {
      report.ops[i] = done;
      throw;
    }
    report.ops[i] = done;
  });
  report.reader_steps = reader_progress.load();
  return report;
}

// Number of threads for stress tests: at least 4, so that threads are preempted while they
// hold intermediate values even on a 2-core machine.
inline std::size_t stress_threads() {
  return std::max<std::size_t>(4, std::thread::hardware_concurrency());
}

}  // namespace lab
