// cpp20_toolbox.cpp: four C++20 atomics tools next to the counter of milestone 1.
//
//   1. is_always_lock_free (compile time, for every object of the type) against is_lock_free()
//      (run time; the standard words it per object, libstdc++ 12 answers per type: it passes a
//      fake, minimally aligned address, bits/atomic_base.h:440-445) for a counter and for a
//      3-byte struct;
//   2. atomic_flag, which the standard promises is lock-free ([atomics.flag]; C++20's
//      atomic_signed_lock_free and atomic_unsigned_lock_free are too, [atomics.alias], but
//      libstdc++ 12 does not define them), as a test-and-test-and-set spinlock (C++20 added
//      atomic_flag::test(), an atomic read of the flag, seq_cst by default);
//   3. atomic<T>::wait / notify_one: block until the value changes, without a condition
//      variable and without burning a core;
//   4. atomic_ref: atomic operations on an object that is not a std::atomic (a plain array
//      filled single-threaded first, then counted into by several threads).
//   build/student/lessons/lesson_01_cpp20_toolbox
// lab-link: atomic
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

struct Rgb {  // 3 bytes: no CPU has a 3-byte atomic instruction
  std::uint8_t r, g, b;
};

// A spinlock on atomic_flag. test_and_set is an RMW (it takes the line exclusively); spinning
// on it would make every waiting core steal the line on every iteration. test() is a load:
// waiters read a shared copy and only try the RMW when the flag looks clear (TTAS).
class FlagLock {
 public:
  void lock() noexcept {
    while (flag_.test_and_set(std::memory_order_acquire)) {  // order: acquires the section
      while (flag_.test(std::memory_order_relaxed)) {        // order: only a hint to retry
      }
    }
  }
  void unlock() noexcept { flag_.clear(std::memory_order_release); }  // order: publishes it

 private:
  std::atomic_flag flag_;  // C++20: default-initialized to clear
};

}  // namespace

int main() {
  // 1. Lock-freedom: a property of the type, and of an object.
  std::atomic<std::uint64_t> counter{0};
  std::atomic<Rgb> colour{Rgb{1, 2, 3}};
  std::printf("atomic<uint64_t>: is_always_lock_free=%d is_lock_free()=%d\n",
              std::atomic<std::uint64_t>::is_always_lock_free, counter.is_lock_free());
  std::printf("atomic<Rgb>:      is_always_lock_free=%d is_lock_free()=%d (sizeof %zu)\n",
              std::atomic<Rgb>::is_always_lock_free, colour.is_lock_free(), sizeof(Rgb));

  // 2. atomic_flag as a TTAS spinlock protecting a plain counter.
  FlagLock lock;
  std::uint64_t plain = 0;
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 100'000; ++i) {
          lock.lock();
          ++plain;
          lock.unlock();
        }
      });
    }
  }
  std::printf("atomic_flag TTAS lock: %llu (expected 200000)\n",
              static_cast<unsigned long long>(plain));

  // 3. wait / notify_one: the consumer sleeps until the value differs from the one it saw.
  std::atomic<int> state{0};
  const auto t0 = std::chrono::steady_clock::now();
  std::jthread waiter([&] {
    state.wait(0);  // returns once state != 0 (re-checks after every wake-up)
    const auto waited = std::chrono::steady_clock::now() - t0;
    std::printf("wait(0) returned after %lld ms, state=%d\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()),
                state.load());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  state.store(1);
  state.notify_one();
  waiter.join();

  // 4. atomic_ref: a plain array, atomic only while several threads share it.
  alignas(std::atomic_ref<std::uint64_t>::required_alignment) std::uint64_t buckets[4] = {};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&buckets] {
        for (int i = 0; i < 100'000; ++i) {
          std::atomic_ref<std::uint64_t>(buckets[i % 4]).fetch_add(1, std::memory_order_relaxed);
        }
      });
    }
  }  // joined: the plain reads below happen after every atomic_ref operation
  std::printf("atomic_ref buckets: %llu %llu %llu %llu (expected 50000 each)\n",
              static_cast<unsigned long long>(buckets[0]),
              static_cast<unsigned long long>(buckets[1]),
              static_cast<unsigned long long>(buckets[2]),
              static_cast<unsigned long long>(buckets[3]));
  return 0;
}
