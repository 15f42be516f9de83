// object_pool.cpp: what an object pool saves, and what its lock costs (lesson 05, "An object
// pool: Go's sync.Pool in C++").
//
//   lesson_05_object_pool
//
// 4 threads each render 100,000 times into a 4 KiB buffer (get, write, put), with three ways
// to get the buffer: new/delete each time, one shared pool behind a mutex, and a per-thread
// cache in front of that pool (object_pool.hpp). The program prints how many buffers each way
// allocated and how many times it took the pool's lock; m5_bench measures the time
// (`pool_*` benchmarks).
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "object_pool.hpp"

struct Buffer {
  std::string text;
  Buffer() { text.reserve(4096); }
};

constexpr int kThreads = 4;
constexpr int kRenders = 100'000;

void render(Buffer& b, int i) {
  b.text.clear();
  b.text += "http_requests_total ";
  b.text += std::to_string(i);
}

template <class Body>
void run(const char* label, lab_pool::PoolStats& stats, Body body) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(body);
  for (auto& t : threads) t.join();
  std::printf("%-28s %7ld buffers allocated, %7ld lock acquisitions\n", label,
              stats.allocations.load(), stats.lock_acquisitions.load());
}

int main() {
  lab_pool::PoolStats none;
  run("new/delete each time:", none, [&] {
    for (int i = 0; i < kRenders; ++i) {
      auto b = std::make_unique<Buffer>();
      none.allocations.fetch_add(1);
      render(*b, i);
    }
  });
  lab_pool::PoolStats shared_stats;
  lab_pool::SharedPool<Buffer> shared(&shared_stats);
  run("one shared pool (mutex):", shared_stats, [&] {
    for (int i = 0; i < kRenders; ++i) {
      auto b = shared.get();
      render(*b, i);
      shared.put(std::move(b));
    }
  });
  lab_pool::PoolStats cached_stats;
  lab_pool::SharedPool<Buffer> backing(&cached_stats);
  run("per-thread cache + shared:", cached_stats, [&] {
    lab_pool::ThreadCache<Buffer> cache(backing);
    for (int i = 0; i < kRenders; ++i) {
      auto b = cache.get();
      render(*b, i);
      cache.put(std::move(b));
    }
  });
}
