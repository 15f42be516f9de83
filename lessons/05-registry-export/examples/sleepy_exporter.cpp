// sleepy_exporter.cpp: why an exporter must not sleep (lesson 05).
//
// Two exporters with a 2 s interval, each started and stopped after 100 ms:
//   SleepyExporter  the naive design: a running flag checked after sleep_for(interval);
//   WakeableExporter the C++17 fix: a flag guarded by a mutex, and a condition variable that
//                    stop() notifies. (C++20's std::jthread, std::stop_token and
//                    std::condition_variable_any do the same job: the lesson's exercise.)
// Both join their thread in stop(); the program prints how long stop() took.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class SleepyExporter {
 public:
  explicit SleepyExporter(std::chrono::milliseconds interval) : interval_(interval) {}
  void start() {
    running_.store(true);
    thread_ = std::thread([this] {
      while (running_.load()) {
        std::this_thread::sleep_for(interval_);  // BROKEN: nobody can wake this up
        if (running_.load()) ++exports_;
      }
    });
  }
  void stop() {
    running_.store(false);  // seen only after the current sleep ends
    thread_.join();
  }

 private:
  std::chrono::milliseconds interval_;
  std::atomic<bool> running_{false};
  int exports_ = 0;
  std::thread thread_;
};

class WakeableExporter {
 public:
  explicit WakeableExporter(std::chrono::milliseconds interval) : period_(interval) {}
  void start() {
    thread_ = std::thread([this] {
      std::unique_lock lock(m_);
      while (true) {
        // Returns true as soon as stop() has set the flag (and notified), false at the deadline.
        // The predicate is checked under the mutex, so a stop between "check" and "sleep" is
        // not lost.
        if (cv_.wait_until(lock, Clock::now() + period_, [this] { return stopping_; })) break;
        ++exports_;  // a real exporter would unlock around its (slow) export
      }
    });
  }
  void stop() {
    {
      std::lock_guard guard(m_);
      stopping_ = true;  // under the mutex, or the thread could check, miss it, and then sleep
    }
    cv_.notify_one();
    thread_.join();  // nothing runs on that thread after stop() returns
  }

 private:
  std::chrono::milliseconds period_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int exports_ = 0;
  std::thread thread_;
};

template <class Exporter>
void measure(const char* name) {
  Exporter exporter(2000ms);
  exporter.start();
  std::this_thread::sleep_for(100ms);
  const auto start = Clock::now();
  exporter.stop();
  const std::chrono::duration<double, std::milli> took = Clock::now() - start;
  std::printf("%-17s stop() took %8.3f ms\n", name, took.count());
}

int main() {
  measure<SleepyExporter>("SleepyExporter");
  measure<WakeableExporter>("WakeableExporter");
}
