// relaxed_publish.cpp: relaxed gives atomicity, not ordering (lesson 02).
//
// A producer fills in a plain struct and raises an atomic flag; a consumer waits for the flag
// and reads the struct. With memory_order_relaxed on the flag, nothing orders the plain writes
// before the flag, so the read is a data race (undefined behaviour) and ThreadSanitizer says
// so. With release on the store and acquire on the load, the writes happen before the read.
//
//   lesson_02_relaxed_publish            relaxed flag: TSan reports a data race
//   lesson_02_relaxed_publish --fixed    release/acquire: no report
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

struct Config {
  int port = 0;
  std::string name;
};

Config config;                   // plain data, written by the producer only
std::atomic<bool> ready{false};  // the flag that says "config is filled in"

void run(std::memory_order store_order, std::memory_order load_order) {
  std::thread producer([store_order] {
    config.port = 8080;
    config.name = "http";
    ready.store(true, store_order);
  });
  std::thread consumer([load_order] {
    while (!ready.load(load_order)) {
      std::this_thread::yield();
    }
    std::printf("consumer read port=%d name=%s\n", config.port, config.name.c_str());
  });
  producer.join();
  consumer.join();
}

}  // namespace

int main(int argc, char** argv) {
  const bool fixed = argc > 1 && std::strcmp(argv[1], "--fixed") == 0;
  if (fixed) {
    std::puts("release store, acquire load:");
    run(std::memory_order_release, std::memory_order_acquire);
  } else {
    std::puts("relaxed store, relaxed load:");
    // Deliberately broken: relaxed publishes nothing. Do not copy this.
    run(std::memory_order_relaxed, std::memory_order_relaxed);
  }
}
