// detached_exporter.cpp: an exporter thread that is never joined (lesson 05).
//
// A naive registry starts its export thread and drops the handle: the thread is detached.
// stop() only clears a flag. Here the owner destroys the registry right after stop(), while
// the exporter is still inside its loop, reading the registry's map: ThreadSanitizer reports
// the use of freed memory.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>

using namespace std::chrono_literals;

struct Registry {
  std::map<std::string, int> metrics{{"http_requests_total", 0}};
  std::atomic<bool> running{false};

  void start_export() {
    running.store(true);
    std::thread([this] {
      while (running.load()) {
        std::size_t n = 0;
        for (const auto& entry : metrics) n += entry.first.size();  // reads *this
        if (n == 0) std::puts("empty");
        std::this_thread::sleep_for(1ms);
      }
    }).detach();  // BROKEN: nobody can wait for this thread any more
  }
  void stop() { running.store(false); }  // BROKEN: returns while the thread still runs
};

int main() {
  auto registry = std::make_unique<Registry>();
  registry->start_export();
  std::this_thread::sleep_for(20ms);
  registry->stop();
  registry.reset();                    // the exporter may be inside the loop right now
  std::this_thread::sleep_for(20ms);   // give it time to touch the freed registry
  std::puts("done");
}
