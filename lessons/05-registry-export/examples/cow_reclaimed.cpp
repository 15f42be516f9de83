// cow_reclaimed.cpp: the same copy-on-write registry, reclaimed with hazard pointers
// (lesson 05, "Reclaiming what readers may still hold").
//
//   lesson_05_cow_reclaimed     the interleaving of cow_use_after_free.cpp, then a stress run
//
// The reader publishes the pointer it reads in a hazard slot (cow_hazard.hpp); the writer
// retires the old map instead of deleting it, and deletes it only when no slot holds it.
// Part 1 replays cow_use_after_free.cpp's interleaving and prints how many old maps wait for
// deletion at each step. Part 2 runs 2 readers against 1 writer for 20,000 registrations; the
// sanitizer of the build (TSan in the student preset, ASan with the lesson's command) checks
// that no read touches a deleted map.
#include <atomic>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cow_hazard.hpp"

using Names = std::map<std::string, int>;

int main() {
  lab_cow::CowValue<Names> registry(Names{{"http_requests", 1}});
  std::atomic<int> step{0};
  auto wait_for = [&](int s) {
    while (step.load() != s) std::this_thread::yield();
  };

  // Part 1: the forced interleaving.
  std::thread reader([&] {
    auto hp = registry.make_hazard_pointer();
    registry.read(hp, [&](const Names& names) {
      step.store(1);  // loaded and protected
      wait_for(2);    // (the writer runs here)
      std::size_t n = 0;
      for (const auto& entry : names) n += entry.first.size();
      std::printf("reader walked %zu bytes of names (the old map: %zu names)\n", n, names.size());
    });
    step.store(3);  // protection reset
  });
  wait_for(1);
  registry.update([](Names& names) { names.emplace("http_errors", 1); });
  std::printf("after the update: %zu old map(s) retired, not yet deleted\n",
              registry.retired_count());
  step.store(2);
  reader.join();
  registry.update([](Names& names) { names.emplace("http_bytes", 1); });
  std::printf("after the next update: %zu old map(s) waiting\n", registry.retired_count());

  // Part 2: 2 readers, 1 writer, every read checked by the build's sanitizer.
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  std::atomic<long> reads{0};
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      auto hp = registry.make_hazard_pointer();
      long mine = 0;
      while (!done.load()) {
        registry.read(hp, [&](const Names& names) { mine += static_cast<long>(names.size()); });
        ++mine;
      }
      reads.fetch_add(mine);
    });
  }
  for (int i = 0; i < 20'000; ++i)
    registry.update([i](Names& names) { names["name_" + std::to_string(i % 50)] = i; });
  done.store(true);
  for (auto& t : readers) t.join();
  auto hp = registry.make_hazard_pointer();
  registry.read(hp, [](const Names& names) { std::printf("final map: %zu names\n", names.size()); });
  std::printf("20000 updates beside 2 readers; %zu old map(s) left to delete at exit\n",
              registry.retired_count());
}
