// object_pool.hpp: two object pools - one shared free list behind a mutex, and the same with
// a small per-thread cache in front (lesson 05, "An object pool: Go's sync.Pool in C++").
//
// Used by examples/object_pool.cpp (what each pool allocates and how often it locks) and by
// m5_bench's pool benchmarks (checkpoints/05-registry-export/bench_registry.cpp: what a
// get()/put() pair costs at 1, 2 and 4 threads). Not production code: no bound on the shared
// list, no trimming (sync.Pool drops its contents at each garbage collection).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace lab_pool {

// Counts what a pool did, for the example's output (relaxed: statistics only).
struct PoolStats {
  std::atomic<long> allocations{0};
  std::atomic<long> lock_acquisitions{0};
};

// One free list for all threads. Thread safety: get() and put() from any thread.
template <class T>
class SharedPool {
 public:
  explicit SharedPool(PoolStats* stats = nullptr) : stats_(stats) {}
  SharedPool(const SharedPool&) = delete;
  SharedPool& operator=(const SharedPool&) = delete;

  // An object from the free list, or a new one.
  std::unique_ptr<T> get() {
    {
      const std::scoped_lock lock(mu_);
      count(&PoolStats::lock_acquisitions);
      if (!free_.empty()) {
        auto object = std::move(free_.back());
        free_.pop_back();
        return object;
      }
    }
    count(&PoolStats::allocations);
    return std::make_unique<T>();
  }
  // Returns an object for reuse (any state: the next user resets what it needs).
  void put(std::unique_ptr<T> object) {
    const std::scoped_lock lock(mu_);
    count(&PoolStats::lock_acquisitions);
    free_.push_back(std::move(object));
  }
  // Moves up to n objects into out under one lock; returns how many.
  std::size_t take(std::vector<std::unique_ptr<T>>& out, std::size_t n) {
    const std::scoped_lock lock(mu_);
    count(&PoolStats::lock_acquisitions);
    std::size_t moved = 0;
    for (; moved < n && !free_.empty(); ++moved) {
      out.push_back(std::move(free_.back()));
      free_.pop_back();
    }
    return moved;
  }
  // Moves every object of in back under one lock.
  void give(std::vector<std::unique_ptr<T>>& in) {
    const std::scoped_lock lock(mu_);
    count(&PoolStats::lock_acquisitions);
    for (auto& object : in) free_.push_back(std::move(object));
    in.clear();
  }
  void count_allocation() { count(&PoolStats::allocations); }

 private:
  void count(std::atomic<long> PoolStats::*field) {
    // order: relaxed: a statistic, read after the threads are joined.
    if (stats_) (stats_->*field).fetch_add(1, std::memory_order_relaxed);
  }
  PoolStats* stats_;
  std::mutex mu_;
  std::vector<std::unique_ptr<T>> free_;  // guarded by mu_
};

// A per-thread cache of up to kCache objects in front of a SharedPool: a thread touches the
// shared list (and its lock) only to refill an empty cache or to drain a full one, kCache / 2
// objects at a time; like the per-P caches of Go's sync.Pool. A thread's cached objects go
// back to the shared pool when the thread's ThreadCache ends.
// Thread safety: one ThreadCache per thread; the SharedPool outlives every ThreadCache.
template <class T>
class ThreadCache {
 public:
  static constexpr std::size_t kCache = 16;

  explicit ThreadCache(SharedPool<T>& shared) : shared_(shared) { cache_.reserve(kCache); }
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;
  ~ThreadCache() { shared_.give(cache_); }

  std::unique_ptr<T> get() {
    if (cache_.empty() && shared_.take(cache_, kCache / 2) == 0) {
      shared_.count_allocation();
      return std::make_unique<T>();
    }
    auto object = std::move(cache_.back());
    cache_.pop_back();
    return object;
  }
  void put(std::unique_ptr<T> object) {
    if (cache_.size() == kCache) {  // full: hand half back in one lock
      std::vector<std::unique_ptr<T>> half;
      half.reserve(kCache / 2);
      for (std::size_t i = 0; i < kCache / 2; ++i) {
        half.push_back(std::move(cache_.back()));
        cache_.pop_back();
      }
      shared_.give(half);
    }
    cache_.push_back(std::move(object));
  }

 private:
  SharedPool<T>& shared_;
  std::vector<std::unique_ptr<T>> cache_;
};

}  // namespace lab_pool
