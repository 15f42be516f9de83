// rwlock_writer_starvation.cpp: a writer waiting behind readers that never all leave
// (lesson 05, "Mutex, reader-writer lock or copy-on-write: measured").
//
//   lesson_05_rwlock_writer_starvation
//
// Two reader threads take a shared lock, hold it 2 ms (a slow snapshot), release it and take it
// again at once, staggered by 1 ms, so that at every instant one of them holds the lock. After
// 50 ms a writer asks for the exclusive lock; the readers stop at 500 ms. The program prints
// how long the writer waited, first with std::shared_mutex (libstdc++ builds it on glibc's
// pthread_rwlock_t, whose default kind PTHREAD_RWLOCK_PREFER_READER_NP lets a new reader in
// while a writer waits), then with a pthread_rwlock_t of kind
// PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP (new readers queue behind a waiting writer).
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <thread>

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A pthread_rwlock_t with a chosen kind, with the member names std::shared_lock needs.
class PthreadRwlock {
 public:
  explicit PthreadRwlock(int kind) {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, kind);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  PthreadRwlock(const PthreadRwlock&) = delete;
  PthreadRwlock& operator=(const PthreadRwlock&) = delete;
  ~PthreadRwlock() { pthread_rwlock_destroy(&lock_); }
  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

template <class Lock>
void run(const char* label, Lock& lock) {
  std::atomic<bool> stop{false};
  std::atomic<long> reads_done{0};
  auto reader = [&](milliseconds delay) {
    std::this_thread::sleep_for(delay);
    long mine = 0;
    while (!stop.load()) {
      const std::shared_lock guard(lock);
      std::this_thread::sleep_for(milliseconds(2));  // a slow snapshot
      ++mine;
    }
    reads_done.fetch_add(mine);
  };
  const auto start = Clock::now();
  std::thread r1(reader, milliseconds(0)), r2(reader, milliseconds(1));
  std::this_thread::sleep_for(milliseconds(50));
  const auto asked = Clock::now();
  std::thread writer([&] {
    const std::unique_lock guard(lock);
    const auto got = Clock::now();
    std::printf("%s: the writer waited %lld ms (asked at %lld ms)\n", label,
                static_cast<long long>(
                    std::chrono::duration_cast<milliseconds>(got - asked).count()),
                static_cast<long long>(
                    std::chrono::duration_cast<milliseconds>(asked - start).count()));
  });
  std::this_thread::sleep_until(start + milliseconds(500));
  stop.store(true);
  r1.join();
  r2.join();
  writer.join();
  std::printf("%s: %ld snapshots; the readers stopped at %lld ms\n", label, reads_done.load(),
              static_cast<long long>(
                  std::chrono::duration_cast<milliseconds>(Clock::now() - start).count()));
}

int main() {
  std::shared_mutex shared;
  run("std::shared_mutex", shared);
  PthreadRwlock prefer_writer(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  run("pthread_rwlock_t, PREFER_WRITER_NONRECURSIVE_NP", prefer_writer);
}
