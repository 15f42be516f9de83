// unlocked_registry.cpp: registering while an exporter reads the map (lesson 05).
//
//   lesson_05_unlocked_registry          no lock: ThreadSanitizer reports a data race
//   lesson_05_unlocked_registry --fixed  one std::mutex, taken by the writer AND the reader;
//                                        TSan is silent (is one mode enough? the lesson asks)
// One thread registers 2,000 metrics (std::map::emplace) while another keeps taking
// snapshots (walking the map). The metrics themselves are atomics; only the map is shared.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <string>
#include <thread>

struct Registry {
  bool locked = false;
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<std::atomic<std::uint64_t>>> counters;

  std::shared_ptr<std::atomic<std::uint64_t>> register_counter(const std::string& name) {
    auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
    std::unique_lock lock(mutex, std::defer_lock);
    if (locked) lock.lock();  // the fix: the writer excludes the reader
    counters.emplace(name, counter);
    return counter;
  }

  std::uint64_t snapshot_total() const {
    std::unique_lock lock(mutex, std::defer_lock);
    if (locked) lock.lock();  // the fix: and the reader the writer
    std::uint64_t total = 0;
    for (const auto& [name, counter] : counters) total += counter->load();
    return total;
  }
};

int main(int argc, char** argv) {
  Registry registry;
  registry.locked = argc > 1 && std::strcmp(argv[1], "--fixed") == 0;
  std::atomic<bool> done{false};
  std::thread exporter([&] {
    std::uint64_t snapshots = 0;
    while (!done.load()) {
      static_cast<void>(registry.snapshot_total());
      ++snapshots;
    }
    std::printf("exporter took %llu snapshots\n", static_cast<unsigned long long>(snapshots));
  });
  for (int i = 0; i < 2000; ++i) {
    registry.register_counter("service_" + std::to_string(i))->fetch_add(1);
  }
  done.store(true);
  exporter.join();
  std::printf("registered %zu counters, total %llu (%s)\n", registry.counters.size(),
              static_cast<unsigned long long>(registry.snapshot_total()),
              registry.locked ? "with std::mutex" : "no lock");
}
