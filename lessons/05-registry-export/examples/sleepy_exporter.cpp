// sleepy_exporter.cpp: why an exporter must not sleep (lesson 05).
//
// Two exporters with a 2 s interval, each started and stopped after 100 ms:
//   SleepyExporter  the naive design: a running flag checked after sleep_for(interval);
//   WakeableExporter std::jthread + std::stop_token + std::condition_variable_any.
// Both join their thread in stop(); the program prints how long stop() took.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <stop_token>
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
    thread_ = std::jthread([this](std::stop_token stop) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      while (true) {
        // Returns at the deadline, or at once when request_stop() is called.
        static_cast<void>(cv.wait_until(lock, stop, Clock::now() + period_, [] { return false; }));
        if (stop.stop_requested()) break;
        ++exports_;
      }
    });
  }
  void stop() {
    thread_.request_stop();  // runs the token's callbacks: notifies `cv`
    thread_.join();
  }

 private:
  std::chrono::milliseconds period_;
  int exports_ = 0;
  std::jthread thread_;
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
