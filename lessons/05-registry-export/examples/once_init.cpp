// once_init.cpp: run something once - std::call_once and a function-local static (lesson 05,
// "Once: std::call_once and function-local statics").
//
//   lesson_05_once_init
//   clang++ -std=c++20 -O2 -S -o - THIS_FILE     the guard the compiler emits (static_config)
//
// Go's sync.Once is std::call_once(flag, f); a function-local static is initialized the first time
// control passes through it, exactly once even with threads racing ([stmt.dcl]: a concurrent caller
// waits), and the compiler emits the check. 4 threads call each 100,000 times; each initializer
// counts its runs. Last, a callable that throws on its first run: the call is not done, so the next
// call_once with that flag runs the callable again ([thread.once.callonce] p2; Go's Once.Do counts
// a panicking f as done). Not under ThreadSanitizer: its pthread_once interceptor (compiler-rt,
// tsan_interceptors_posix.cpp) marks the flag "running" and has no cleanup for an exception, so the
// second call would wait forever. Build without a sanitizer to see it:
//   clang++ -std=c++20 -O2 -pthread THIS_FILE -o build/once_init && build/once_init
#include <atomic>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

std::atomic<int> static_inits{0}, once_inits{0};

struct Config {
  std::string name;
};
Config load_config(std::atomic<int>& runs) {  // the expensive part, counted
  runs.fetch_add(1);
  return Config{"metrics"};
}

extern "C" const Config* static_config() {
  static const Config config = load_config(static_inits);  // the first caller only
  return &config;
}

std::once_flag config_once;
const Config* once_value = nullptr;
extern "C" const Config* once_config() {
  std::call_once(config_once, [] {
    once_value = new Config(load_config(once_inits));  // lives as long as the program
  });
  return once_value;  // written inside call_once: happens before every return ([thread.once.callonce] p3)
}

// Throws the first time it runs; returns how many times call_once ran it.
int runs_after_a_throw() {
  std::once_flag flag;
  int runs = 0;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      std::call_once(flag, [&] {
        if (++runs == 1) throw std::runtime_error("first run fails");
      });
    } catch (const std::runtime_error&) {
    }
  }
  return runs;
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LESSON_UNDER_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define LESSON_UNDER_TSAN 1
#endif

int main() {
  std::vector<std::thread> threads;
  std::atomic<long> mismatches{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100'000; ++i) {
        if (static_config()->name != "metrics") mismatches.fetch_add(1);
        if (once_config()->name != "metrics") mismatches.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::printf("function-local static: initializer ran %d time(s) for 400000 calls\n",
              static_inits.load());
  std::printf("std::call_once: callable ran %d time(s) for 400000 calls; %ld wrong reads\n",
              once_inits.load(), mismatches.load());
#ifdef LESSON_UNDER_TSAN
  std::printf("std::call_once whose callable threw once: not tried under ThreadSanitizer "
              "(the second call would hang)\n");
#else
  std::printf("std::call_once whose callable threw once: callable ran %d time(s) in 2 calls\n",
              runs_after_a_throw());
#endif
}
