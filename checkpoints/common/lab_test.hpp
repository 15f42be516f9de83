// lab_test.hpp: the one overlap facility of the concurrency checkpoints.
//
// A concurrency test proves something only if its threads really ran at the same time, and on
// a busy 2-core machine (CI, a laptop compiling in the background, ThreadSanitizer's 5-15x
// slowdown) they often do not: the scheduler hands out slices of several milliseconds, so a
// fixed amount of work can finish before the next thread of the test has even started. So
// every concurrency checkpoint of every milestone uses this header, and nothing else, to
//
//   - start its threads together:          run_together(), StartLine;
//   - keep them working until they met:    Overlap / hammer(): a quota of calls, a minimum
//                                          time, reader progress, sightings, a give-up cap;
//   - repeat a race until it really raced: race_until();
//   - say so when the machine would not let it: conclude() / retry_until_conclusive().
//
// The protocol for "not run" (shared with CTest's SKIP_RETURN_CODE, `lab check` and the
// grader): a test that cannot establish its precondition prints one line starting with
// `skipped: ` (the machine lacks something, e.g. a second CPU) or `inconclusive: ` (the
// overlap it needs did not happen, even after its own retries and extensions) and exits with
// status 77. It never turns a failed check into "not run": once a CHECK of the test has failed,
// conclude() returns and the test fails as usual. Correct code is never failed for a busy
// machine; wrong code is never passed for one either (an inconclusive test earns nothing).
//
// The facility never synchronizes the threads it watches (every counter it shares is relaxed;
// only the start latch and the final join order anything), so it cannot hide a missing
// release or acquire in the code under test: a "payload" test still sees the data race.
// An exception thrown in a worker (a starter's TODO, a failed REQUIRE) is rethrown in the
// calling thread after every worker has been joined: nothing terminates, nothing hangs.
#pragma once

#include <doctest/doctest.h>
#include <sched.h>

#include "lab_harness.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <latch>
#include <limits>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace lab {

// A memory order that a failed CHECK prints by name (memory_order::acquire). doctest prints an
// enum as its number and offers no hook for one, so checkpoints compare named(a) == named(b).
struct NamedOrder {
  std::memory_order order;
  friend bool operator==(NamedOrder, NamedOrder) = default;
};
inline NamedOrder named(std::memory_order order) { return NamedOrder{order}; }

}  // namespace lab

template <>
struct doctest::StringMaker<lab::NamedOrder> {
  static doctest::String convert(lab::NamedOrder named) {
    switch (named.order) {
      case std::memory_order_relaxed: return "memory_order::relaxed";
      case std::memory_order_consume: return "memory_order::consume";
      case std::memory_order_acquire: return "memory_order::acquire";
      case std::memory_order_release: return "memory_order::release";
      case std::memory_order_acq_rel: return "memory_order::acq_rel";
      case std::memory_order_seq_cst: return "memory_order::seq_cst";
    }
    return ("memory_order(" + std::to_string(static_cast<int>(named.order)) + ")").c_str();
  }
};

namespace lab {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// --- Not run: exit status 77 -----------------------------------------------------------------

namespace detail {
// Failed assertions of the running test case, counted by the listener below (doctest keeps its
// own count in the runner's private state). A failure in any thread counts.
inline std::atomic<int> failed_assertions{0};

class FailureListener : public doctest::IReporter {
 public:
  explicit FailureListener(const doctest::ContextOptions& /*options*/) {}
  void report_query(const doctest::QueryData& /*data*/) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& /*stats*/) override {}
  void test_case_start(const doctest::TestCaseData& /*data*/) override { failed_assertions = 0; }
  void test_case_reenter(const doctest::TestCaseData& /*data*/) override {}
  void test_case_end(const doctest::CurrentTestCaseStats& /*stats*/) override {}
  void test_case_exception(const doctest::TestCaseException& /*e*/) override {
    failed_assertions.fetch_add(1);
  }
  void subcase_start(const doctest::SubcaseSignature& /*signature*/) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData& data) override {
    if (data.m_failed) failed_assertions.fetch_add(1);
  }
  void log_message(const doctest::MessageData& data) override {
    if ((data.m_severity & doctest::assertType::is_warn) == 0) failed_assertions.fetch_add(1);
  }
  void test_case_skipped(const doctest::TestCaseData& /*data*/) override {}
};
}  // namespace detail

// True once a CHECK (or FAIL_CHECK) of the running test case has failed.
[[nodiscard]] inline bool current_test_failed() { return detail::failed_assertions.load() > 0; }

// Prints "<kind>: <why>" and ends the process with status 77 ("not run"). _Exit: no static
// destructors and no leak check run for a test that stops in the middle of its work.
[[noreturn]] inline void end_not_run(std::string_view kind, std::string_view why) {
  std::cout << kind << ": " << why << std::endl;
  std::fflush(nullptr);
  // A graded run: the status 77 counts only with the harness's record of it (main.cpp).
  if (harness::record_not_run != nullptr) harness::record_not_run(std::string(kind).c_str());
  std::_Exit(77);
}

// The machine lacks what the test needs (the grader decides such skips itself, from the
// manifest's "needs_cpus"; this is what CTest and `lab check` see).
[[noreturn]] inline void skip(std::string_view why) { end_not_run("skipped", why); }

// Ends the test as inconclusive when `missing` (what the run lacked, "" if nothing) is not
// empty and no check of the test has failed; otherwise returns and the test goes on. Call it
// AFTER the checks of the invariant: a violation is a failure, with or without overlap.
inline void conclude(const std::string& missing) {
  if (missing.empty() || current_test_failed()) return;
  end_not_run("inconclusive", missing);
}

// Runs attempt() (which does its own checks and returns what it lacked, "" when the threads
// really overlapped) up to `attempts` times, until one is conclusive or a check has failed.
// For tests whose work cannot be extended while it runs (a fixed set of registrations).
template <class Attempt>
void retry_until_conclusive(int attempts, Attempt&& attempt) {
  std::string missing;
  for (int i = 0; i < attempts; ++i) {
    missing = attempt();
    if (missing.empty() || current_test_failed()) return;
  }
  conclude(missing + " (" + std::to_string(attempts) + " attempts)");
}

namespace detail {
inline std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  std::getline(in, text, '\0');
  return text;
}

// ceil(quota / period), or 0 for "no quota".
inline std::size_t cpus_of_quota(long long quota, long long period) {
  if (quota <= 0 || period <= 0) return 0;
  return static_cast<std::size_t>((quota + period - 1) / period);
}

// The CPUs the cgroup CPU quota allows (0: none): cgroup v2 `cpu.max` of this process's cgroup
// and its ancestors (at /sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid machine), or v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us`. The lab tool's scripts/labtool/cpus.py reads the same.
inline std::size_t cgroup_quota_cpus() {
  std::istringstream lines(read_small_file("/proc/self/cgroup"));
  std::size_t best = 0;
  auto keep = [&best](std::size_t n) {
    if (n != 0 && (best == 0 || n < best)) best = n;
  };
  for (std::string line; std::getline(lines, line);) {
    const auto a = line.find(':');
    const auto b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1);
    std::string rel = line.substr(b + 1);
    if (controllers.empty()) {  // cgroup v2
      const std::string base = std::ifstream("/sys/fs/cgroup/cgroup.controllers").good()
                                   ? "/sys/fs/cgroup"
                                   : "/sys/fs/cgroup/unified";
      for (;;) {
        std::istringstream max(read_small_file(base + rel + "/cpu.max"));
        std::string quota;
        long long period = 0;
        if (max >> quota >> period && quota != "max") keep(cpus_of_quota(std::atoll(quota.c_str()), period));
        if (rel.empty() || rel == "/") break;
        rel = rel.substr(0, rel.rfind('/'));
      }
    } else if (("," + controllers + ",").find(",cpu,") != std::string::npos) {  // cgroup v1
      for (const char* mount : {"/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"}) {
        const std::string dir = std::string(mount) + rel;
        const std::string quota = read_small_file(dir + "/cpu.cfs_quota_us");
        const std::string period = read_small_file(dir + "/cpu.cfs_period_us");
        if (quota.empty() || period.empty()) continue;
        keep(cpus_of_quota(std::atoll(quota.c_str()), std::atoll(period.c_str())));
        break;
      }
    }
  }
  return best;
}
}  // namespace detail

// The CPUs this process may really use: its affinity mask (`taskset -c 0` makes it 1), capped
// by its cgroup's CPU quota (a container given one vCPU often sees all of the host's CPUs).
[[nodiscard]] inline std::size_t usable_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  const auto mask = static_cast<std::size_t>(CPU_COUNT(&set));
  static const std::size_t quota = detail::cgroup_quota_cpus();
  return quota != 0 && quota < mask ? quota : mask;
}

// Pins the calling thread to the `i`-th usable CPU (counting round the affinity mask), so that
// threads pinned with different `i` on a 2-CPU machine can only meet in parallel. A busy
// scheduler tends to keep two threads of one process on one core, and a race whose window is a
// few instructions wide (a load, then a store) then never happens. Does nothing if the mask
// cannot be read or set.
inline void pin_to_usable_cpu(std::size_t i) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return;
  const auto count = static_cast<std::size_t>(CPU_COUNT(&allowed));
  if (count < 2) return;
  std::size_t nth = i % count;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (nth-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      (void)sched_setaffinity(0, sizeof one, &one);
      return;
    }
  }
}

// Skips the test ("skipped: needs N CPUs") when fewer than `n` CPUs are usable. Pair it with
// "needs_cpus": n in the manifest entry of the test.
inline void require_cpus(std::size_t n) {
  if (usable_cpus() < n) skip("needs " + std::to_string(n) + " CPUs");
}

// Number of threads for stress tests: at least 4, so that threads are preempted while they
// hold intermediate values even on a 2-core machine.
[[nodiscard]] inline std::size_t stress_threads() {
  return std::max<std::size_t>(4, std::thread::hardware_concurrency());
}

// --- Starting together -------------------------------------------------------------------------

struct RunReport {
  std::size_t threads = 0;
  // True when one instant existed at which every thread was inside its body.
  bool overlapped = false;
  std::chrono::nanoseconds elapsed{0};
};

// Runs body(i) for i in [0, threads) on `threads` new threads released together (std::latch),
// and reports whether they all overlapped.
// Thread safety: call from one test thread; body must be safe to run concurrently.
template <class Body>
RunReport run_together(std::size_t threads, Body&& body) {
  std::vector<Clock::time_point> started(threads), finished(threads);
  std::exception_ptr first_error;
  std::mutex error_mutex;  // test harness only: guards first_error
  std::latch ready(static_cast<std::ptrdiff_t>(threads));
  {
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) {
      workers.emplace_back([&, i] {
        ready.arrive_and_wait();
        started[i] = Clock::now();
        try {
          body(i);
        } catch (...) {
          const std::scoped_lock lock(error_mutex);
          if (!first_error) first_error = std::current_exception();
        }
        finished[i] = Clock::now();
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

// A released thread may get a CPU milliseconds after the others on a busy machine, and a
// short batch of work takes less than that. So the first thing each thread of a batch does is
// arrive_and_wait(), which returns once all `threads` threads have arrived: no thread can
// finish before the last one has started. It polls and yields, never sleeps. Relaxed: it
// orders nothing (run_together's latch already did the start).
class StartLine {
 public:
  explicit StartLine(std::size_t threads) : threads_(threads) {}
  StartLine(const StartLine&) = delete;
  StartLine& operator=(const StartLine&) = delete;

  void arrive_and_wait() noexcept {
    // order: relaxed: a count of arrivals; nothing is published through it.
    arrived_.fetch_add(1, std::memory_order_relaxed);
    // order: relaxed: as above.
    while (arrived_.load(std::memory_order_relaxed) < threads_) std::this_thread::yield();
  }

 private:
  const std::size_t threads_;
  std::atomic<std::size_t> arrived_{0};
};

// Runs writer(i) on `writers` threads and, on one more thread, calls reader_step() over and
// over until every writer has returned (or thrown), all released together. reader_steps says
// how often it ran. A writer that throws still counts as finished, so the reader never spins
// forever. For fixed work; Overlap/hammer() below keep the writers going until they met.
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
      // order: relaxed: the join, not this flag, orders the writers' work before the checks.
      while (finished.load(std::memory_order_relaxed) < writers) {
        reader_step();
        ++report.reader_steps;
      }
      return;
    }
    struct Finished {
      std::atomic<std::size_t>& count;
      // order: relaxed: as above.
      ~Finished() { count.fetch_add(1, std::memory_order_relaxed); }
    } guard{finished};
    writer(i);
  });
  return report;
}

// What a run with fixed work lacked: "" when every thread overlapped and the reader (if any)
// took at least `min_reader_steps` steps. For conclude() and retry_until_conclusive().
[[nodiscard]] inline std::string overlap_missing(const RunReport& run,
                                                 std::uint64_t reader_steps = 0,
                                                 std::uint64_t min_reader_steps = 0) {
  std::ostringstream out;
  if (!run.overlapped) out << "the " << run.threads << " threads never ran at the same time";
  if (reader_steps < min_reader_steps) {
    out << (run.overlapped ? "" : "; ") << "the reader took " << reader_steps << " of the "
        << min_reader_steps << " steps it needs while the writers ran";
  }
  return out.str();
}

// --- Keeping threads busy until they met --------------------------------------------------------

// What "the threads met" means for one test. Every worker keeps calling its operation until
// ALL of these hold (or give_up has passed since the Overlap was made, or it made max_ops
// calls): it made min_ops calls; every participant (workers and reader) has started, and
// min_time has passed since it saw that; the reader took min_reader_steps counted steps (or
// died); the threads saw each other make progress min_sightings times. On an idle machine that
// is quick; on a loaded one it takes longer, which is the point.
struct OverlapGoal {
  std::uint64_t min_ops = 0;                                   // the quota, per worker
  std::uint64_t max_ops = std::numeric_limits<std::uint64_t>::max();  // e.g. a buffer's size
  milliseconds min_time{0};
  std::uint64_t min_reader_steps = 0;
  // A sighting: a worker finds that the other workers made progress since it last looked, or
  // the reader finds that the workers did between two of its steps (the fewer of the two
  // counts). Each one is an interleaving, in parallel or by a thread switch.
  std::uint64_t min_sightings = 0;
  milliseconds give_up{10'000};
  // Calls between two looks at the clock and the counters (1 for slow operations, e.g. I/O).
  std::uint64_t check_every = 64;
  // hammer() pins worker w to usable CPU w and the reader to the next one (pin_to_usable_cpu),
  // for a race that needs two cores at the same instant. Pair it with require_cpus(2).
  bool one_cpu_each = false;
};

// The shared state of one overlapped run. Workers call work(); the reader (if any) calls
// reader_step() after each step and reader_died() if a step throws. After the join, missing()
// says what was not reached ("" when the goal was), for conclude().
class Overlap {
 public:
  Overlap(std::size_t workers, bool with_reader, OverlapGoal goal)
      : goal_(goal),
        workers_(workers),
        with_reader_(with_reader),
        give_up_at_(Clock::now() + goal.give_up),
        progress_(workers * kApart) {}
  Overlap(const Overlap&) = delete;
  Overlap& operator=(const Overlap&) = delete;

  // Worker `w` calls this once: op(i) for i = 0, 1, ... until the goal is met (see
  // OverlapGoal). Returns the number of calls, so a test can assert exact totals.
  template <class Op>
  std::uint64_t work(std::size_t w, Op&& op) {
    // order: relaxed: every counter of the facility is a hint or a statistic; the facility must
    // not synchronize the threads it watches (see the banner).
    arrived_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t every = std::max<std::uint64_t>(1, goal_.check_every);
    std::uint64_t last_seen = others_progress(w);
    bool everyone = false;
    Clock::time_point min_end = give_up_at_;
    std::uint64_t i = 0;
    for (; i < goal_.max_ops; ++i) {
      if (i % every == 0) {
        // order: relaxed: as above.
        progress_[w * kApart].store(i, std::memory_order_relaxed);
        const std::uint64_t seen = others_progress(w);
        if (seen != last_seen) {
          last_seen = seen;
          // order: relaxed: as above.
          worker_sightings_.fetch_add(1, std::memory_order_relaxed);
        }
        if (i >= goal_.min_ops) {
          const auto now = Clock::now();
          if (!everyone && everyone_arrived()) {
            everyone = true;
            // order: relaxed: as above.
            everyone_arrived_.store(true, std::memory_order_relaxed);
            min_end = now + goal_.min_time;
          }
          if (now >= give_up_at_) {
            // order: relaxed: as above.
            gave_up_.store(true, std::memory_order_relaxed);
            break;
          }
          if (everyone && now >= min_end && reader_satisfied() &&
              sightings() >= goal_.min_sightings) {
            break;
          }
          // Past the quota and a thread has not even started: let it have this CPU. (Not while
          // waiting for the reader's steps: a worker that keeps yielding stops competing with
          // the reader, and the races a test looks for need both at work.)
          if (!everyone) std::this_thread::yield();
        }
      }
      op(i);
    }
    return i;
  }

  // The reader calls this once per step, after its checks; `counted` says whether the step
  // saw the workers at work (e.g. a snapshot that was not empty): only those count towards
  // min_reader_steps.
  void reader_step(bool counted = true) noexcept {
    if (!reader_arrived_) {
      reader_arrived_ = true;
      // order: relaxed: as above.
      arrived_.fetch_add(1, std::memory_order_relaxed);
    }
    // order: relaxed: as above.
    if (counted) reader_steps_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t seen = others_progress(workers_);
    if (seen != reader_last_seen_) {
      reader_last_seen_ = seen;
      // order: relaxed: as above.
      reader_sightings_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  // The reader calls this if a step throws (a TODO): the workers stop waiting for it.
  // order: relaxed: as above.
  void reader_died() noexcept { reader_dead_.store(true, std::memory_order_relaxed); }

  // Counted reader steps so far.
  [[nodiscard]] std::uint64_t reader_steps() const noexcept {
    // order: relaxed: as above.
    return reader_steps_.load(std::memory_order_relaxed);
  }

  // How often the threads met (see OverlapGoal::min_sightings).
  [[nodiscard]] std::uint64_t sightings() const noexcept {
    // order: relaxed: as above.
    std::uint64_t n = workers_ >= 2 ? worker_sightings_.load(std::memory_order_relaxed)
                                    : std::numeric_limits<std::uint64_t>::max();
    // order: relaxed: as above.
    if (with_reader_ && !reader_dead_.load(std::memory_order_relaxed)) {
      // order: relaxed: as above.
      n = std::min(n, reader_sightings_.load(std::memory_order_relaxed));
    }
    return n == std::numeric_limits<std::uint64_t>::max() ? 0 : n;
  }

  // After the join: "" when the goal was reached, else what was missing.
  [[nodiscard]] std::string missing() const {
    std::ostringstream out;
    const char* sep = "";
    // order: relaxed: read after the join, which orders every write before it.
    if (!everyone_arrived_.load(std::memory_order_relaxed)) {
      out << "not every thread had started when the workers stopped";
      sep = "; ";
    }
    // order: relaxed: as above.
    if (with_reader_ && !reader_dead_.load(std::memory_order_relaxed) &&
        reader_steps() < goal_.min_reader_steps) {
      out << sep << "the reader took " << reader_steps() << " of the " << goal_.min_reader_steps
          << " steps it needs while the writers ran";
      sep = "; ";
    }
    if (sightings() < goal_.min_sightings) {
      out << sep << "the threads saw each other work " << sightings() << " of the "
          << goal_.min_sightings << " times needed";
      sep = "; ";
    }
    // order: relaxed: as above.
    if (*sep != '\0' && gave_up_.load(std::memory_order_relaxed)) {
      out << " (gave up after " << goal_.give_up.count() << " ms)";
    }
    return out.str();
  }

 private:
  // Worker w's count of calls is progress_[w * kApart]: kApart words (64 bytes) from the next
  // worker's, so that no two workers' counts share a cache line and publishing progress adds no
  // contention of its own.
  static constexpr std::size_t kApart = 8;

  [[nodiscard]] std::uint64_t others_progress(std::size_t self) const noexcept {
    std::uint64_t sum = 0;
    for (std::size_t w = 0; w < workers_; ++w) {
      // order: relaxed: as above.
      if (w != self) sum += progress_[w * kApart].load(std::memory_order_relaxed);
    }
    return sum;
  }

  [[nodiscard]] bool everyone_arrived() const noexcept {
    // order: relaxed: as above.
    const bool reader_counts = with_reader_ && !reader_dead_.load(std::memory_order_relaxed);
    // order: relaxed: as above.
    return arrived_.load(std::memory_order_relaxed) >= workers_ + (reader_counts ? 1 : 0);
  }

  [[nodiscard]] bool reader_satisfied() const noexcept {
    // order: relaxed: as above.
    return !with_reader_ || reader_dead_.load(std::memory_order_relaxed) ||
           reader_steps() >= goal_.min_reader_steps;
  }

  const OverlapGoal goal_;
  const std::size_t workers_;
  const bool with_reader_;
  const Clock::time_point give_up_at_;
  std::vector<std::atomic<std::uint64_t>> progress_;
  std::atomic<std::size_t> arrived_{0};
  std::atomic<bool> everyone_arrived_{false};
  std::atomic<bool> gave_up_{false};
  std::atomic<std::uint64_t> worker_sightings_{0};
  std::atomic<std::uint64_t> reader_sightings_{0};
  std::atomic<std::uint64_t> reader_steps_{0};
  std::atomic<bool> reader_dead_{false};
  bool reader_arrived_ = false;          // the reader thread's own
  std::uint64_t reader_last_seen_ = 0;   // the reader thread's own
};

// hammer(): the loop-owning form. Calls op(w, i) on `workers` threads under an Overlap with
// `goal` and, with a reader, calls reader_step() on one more thread until every worker has
// stopped. reader_step may return bool ("this step saw the workers at work"; only those count
// towards goal.min_reader_steps) or nothing (every step counts). Returns the calls each worker
// made, so tests assert exact totals (expected = sum(ops[w] * amount(w))), and in `missing`
// what the run lacked, for conclude():
//
//   const auto report = lab::hammer(threads, {.min_ops = 100'000}, [&](std::size_t, auto) {
//     counter.increment();
//   });
//   CHECK(counter.get() == report.total_ops());
//   lab::conclude(report.missing);
struct HammerReport {
  RunReport run;
  std::vector<std::uint64_t> ops;  // calls of op made by worker w
  std::uint64_t reader_steps = 0;  // every reader step, counted or not
  std::uint64_t sightings = 0;
  std::string missing;             // "" when the threads met as the goal asked
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
HammerReport hammer(std::size_t workers, const OverlapGoal& goal, Op&& op,
                    ReaderStep&& reader_step = {}) {
  constexpr bool has_reader = !std::is_same_v<std::decay_t<ReaderStep>, detail::NoReader>;
  HammerReport report;
  report.ops.assign(workers, 0);
  Overlap overlap(workers, has_reader, goal);
  std::atomic<std::size_t> stopped{0};
  std::uint64_t all_steps = 0;  // the reader thread's own; read after the join
  report.run = run_together(workers + (has_reader ? 1 : 0), [&](std::size_t i) {
    if (goal.one_cpu_each) pin_to_usable_cpu(i);
    if (i == workers) {  // the reader
      try {
        // order: relaxed: as in Overlap; the join orders the workers' writes before the checks.
        while (stopped.load(std::memory_order_relaxed) < workers) {
          if constexpr (std::is_same_v<std::invoke_result_t<ReaderStep&>, bool>) {
            overlap.reader_step(reader_step());
          } else {
            reader_step();
            overlap.reader_step();
          }
          ++all_steps;
        }
      } catch (...) {
        overlap.reader_died();
        throw;
      }
      return;
    }
    struct Stopped {
      std::atomic<std::size_t>& count;
      // order: relaxed: as above.
      ~Stopped() { count.fetch_add(1, std::memory_order_relaxed); }
    } guard{stopped};
    std::uint64_t done = 0;
    try {
      done = overlap.work(i, [&](std::uint64_t n) {
        done = n;  // so that a throwing op still reports the calls it completed
        op(i, n);
      });
    } catch (...) {
      report.ops[i] = done;
      throw;
    }
    report.ops[i] = done;
  });
  report.reader_steps = all_steps;
  report.sightings = overlap.sightings();
  report.missing = overlap.missing();
  if (!report.run.overlapped) {
    report.missing += (report.missing.empty() ? "" : "; ") +
                      std::string("the threads never ran at the same time");
  }
  return report;
}

// --- Repeating a race until it raced ------------------------------------------------------------

// A check-then-act bug (load, decide, then store or fetch_add) is made of atomic operations
// only, so ThreadSanitizer has nothing to report: a test has to catch the wrong result. And the
// wrong result needs two threads inside the same few instructions at once, or a thread
// preempted right there. race_until() runs one batch after another (each batch starts its
// threads with run_together and a StartLine, and counts what it saw) until
//   - a batch found a violation (tally.wrong > 0), or
//   - the batches produced `enough` contended events (a test-specific sign that threads
//     really competed at the critical moment), or
//   - `budget` has passed and at least `needed` contended events happened in batches whose
//     threads all overlapped, or
//   - `give_up` has passed.
// The busier the machine, the fewer real races per second, and the longer it runs. missing()
// says what a run that stopped at give_up lacked, for conclude().
struct RaceGoal {
  std::uint64_t enough = 4000;
  milliseconds budget{2000};
  std::uint64_t needed = 10;
  milliseconds give_up{15'000};
};

struct RaceTally {
  std::uint64_t batches = 0;
  std::uint64_t overlapped_batches = 0;  // batches whose threads all ran at the same time
  std::uint64_t contended = 0;           // critical moments that two threads competed for
  std::uint64_t wrong = 0;               // invariant violations (must stay 0)
  milliseconds elapsed{0};
  std::uint64_t needed = 0;              // from the goal, for missing()

  [[nodiscard]] std::string missing() const {
    if (overlapped_batches > 0 && contended >= needed) return "";
    std::ostringstream out;
    out << "the threads competed " << contended << " times (" << needed << " needed) in "
        << batches << " batches (" << overlapped_batches << " overlapped) within "
        << elapsed.count() << " ms";
    return out.str();
  }
};

// Calls batch(tally) until one of the conditions above holds; at least once. batch() adds its
// own counts to the tally, and counts contended events only in batches that overlapped.
template <class Batch>
RaceTally race_until(const RaceGoal& goal, Batch&& batch) {
  const auto start = Clock::now();
  RaceTally tally;
  tally.needed = goal.needed;
  for (;;) {
    batch(tally);
    ++tally.batches;
    tally.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    if (tally.wrong > 0 || tally.contended >= goal.enough) break;
    if (tally.elapsed >= goal.budget && tally.missing().empty()) break;
    if (tally.elapsed >= goal.give_up) break;
  }
  return tally;
}

// The short form: `enough` contended events, or `budget` with the default minimum.
template <class Batch>
RaceTally race_until(std::uint64_t enough, milliseconds budget, Batch&& batch) {
  return race_until(RaceGoal{.enough = enough, .budget = budget}, std::forward<Batch>(batch));
}

}  // namespace lab

// Counts failed assertions for conclude(); registered once per test executable (doctest keys
// listeners by name, so every translation unit registers the same one).
REGISTER_LISTENER("lab_failures", 1, lab::detail::FailureListener);
