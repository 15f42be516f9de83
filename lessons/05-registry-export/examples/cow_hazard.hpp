// cow_hazard.hpp: a copy-on-write value whose readers take no lock, reclaimed with hazard
// pointers (lesson 05, "Reclaiming what readers may still hold").
//
// Readers load a pointer to an immutable object and read it; a writer copies the object,
// changes the copy, publishes it with one atomic exchange, and *retires* the old one. The old
// object may still be read by a reader that loaded its pointer a moment before the exchange,
// so it is deleted only once no hazard slot holds it. This is the scheme of Michael's hazard
// pointers (IEEE TPDS 15(6), 2004), cut down to what a registry needs: few writers (one at a
// time, under a mutex), many readers, a fixed table of slots. The names follow C++26's
// <hazard_pointer> (P2530): make_hazard_pointer(), protect(), reset_protection(), retire.
//
// Used by examples/cow_reclaimed.cpp (the lesson) and by m5_bench's registry-read benchmarks
// (checkpoints/05-registry-export/bench_registry.cpp), so what the lesson shows is what it
// measures. Not production code: a fixed slot table, a reclaim scan on every retire.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

namespace lab_cow {

// A table of hazard slots. A reader owns one slot (HazardPointer) and publishes in it the
// pointer it is about to read; a reclaimer deletes a retired object only when no slot holds
// it. Thread safety: every member may be called concurrently.
class HazardDomain {
 public:
  static constexpr std::size_t kSlots = 64;

  HazardDomain() = default;
  HazardDomain(const HazardDomain&) = delete;
  HazardDomain& operator=(const HazardDomain&) = delete;

  // Claims a free slot; throws std::length_error when all kSlots are owned.
  std::size_t acquire_slot() {
    for (std::size_t i = 0; i < kSlots; ++i) {
      bool expected = false;
      // order: acq_rel: the previous owner's last store to the slot (nullptr) happens before
      // our use of it.
      if (hazards_[i].owned.compare_exchange_strong(expected, true, std::memory_order_acq_rel))
        return i;
    }
    throw std::length_error("HazardDomain: all hazard slots are in use");
  }
  void release_slot(std::size_t i) noexcept {
    hazards_[i].pointer.store(nullptr);
    // order: release: pairs with the acq_rel claim above.
    hazards_[i].owned.store(false, std::memory_order_release);
  }

  // Publishes p in slot i. seq_cst, and so is protect()'s re-load of the source and the
  // writer's exchange and scan: the store-buffering shape (lesson 6), where release/acquire
  // lets both sides miss each other and four seq_cst accesses do not ([atomics.order], the
  // single total order S). Either the scan sees our slot, or our re-load sees the new pointer.
  void set(std::size_t i, const void* p) noexcept { hazards_[i].pointer.store(p); }

  // True when some slot holds p.
  bool is_protected(const void* p) const noexcept {
    for (const auto& s : hazards_)
      if (s.pointer.load() == p) return true;
    return false;
  }

 private:
  struct alignas(64) Slot {  // one cache line each: readers write only their own line
    std::atomic<const void*> pointer{nullptr};
    std::atomic<bool> owned{false};
  };
  std::array<Slot, kSlots> hazards_{};
};

// One reader's hazard slot (move-only, like std::hazard_pointer). Thread safety: one thread
// uses a HazardPointer at a time.
class HazardPointer {
 public:
  explicit HazardPointer(HazardDomain& domain) : domain_(&domain), slot_(domain.acquire_slot()) {}
  HazardPointer(HazardPointer&& other) noexcept
      : domain_(std::exchange(other.domain_, nullptr)), slot_(other.slot_) {}
  HazardPointer& operator=(HazardPointer&&) = delete;
  HazardPointer(const HazardPointer&) = delete;
  HazardPointer& operator=(const HazardPointer&) = delete;
  ~HazardPointer() {
    if (domain_) domain_->release_slot(slot_);
  }

  // Loads src and protects what it points to: until reset_protection() (or the next
  // protect()), the object is not deleted by a reclaimer. Returns the protected pointer.
  template <class T>
  const T* protect(const std::atomic<const T*>& src) noexcept {
    const T* p = src.load();
    for (;;) {
      domain_->set(slot_, p);
      const T* again = src.load();  // still published after our slot became visible?
      if (again == p) return p;
      p = again;  // a writer replaced it in between: protect the new one instead
    }
  }
  void reset_protection() noexcept { domain_->set(slot_, nullptr); }

 private:
  HazardDomain* domain_;
  std::size_t slot_;
};

// A value of type T read without a lock and replaced by copy-on-write.
// Thread safety: read() from any number of threads, each with its own HazardPointer;
// update() from any thread (writers are serialized by a mutex).
template <class T>
class CowValue {
 public:
  explicit CowValue(T initial = T{}) : current_(new T(std::move(initial))) {}
  CowValue(const CowValue&) = delete;
  CowValue& operator=(const CowValue&) = delete;
  ~CowValue() {  // no reader may be left: they would hold a HazardPointer on our domain
    delete current_.load();
    for (const T* p : retired_) delete p;
  }

  HazardPointer make_hazard_pointer() { return HazardPointer(domain_); }

  // Calls f(const T&) on the current value; the value stays alive until f returns.
  template <class F>
  decltype(auto) read(HazardPointer& hp, F&& f) const {
    struct Reset {
      HazardPointer& hp;
      ~Reset() { hp.reset_protection(); }
    } reset{hp};
    return std::forward<F>(f)(*hp.protect(current_));
  }

  // Copies the value, applies f(T&) to the copy, publishes it and retires the old value.
  template <class F>
  void update(F&& f) {
    const std::scoped_lock lock(writers_);
    auto next = std::make_unique<T>(*current_.load());
    std::forward<F>(f)(*next);
    retired_.push_back(current_.exchange(next.release()));
    reclaim();
  }

  // Retired values not deleted yet (some reader still protects them). Writers' lock.
  std::size_t retired_count() {
    const std::scoped_lock lock(writers_);
    return retired_.size();
  }

 private:
  void reclaim() {  // under writers_
    std::vector<const T*> keep;
    for (const T* p : retired_) {
      if (domain_.is_protected(p)) {
        keep.push_back(p);
      } else {
        delete p;
      }
    }
    retired_ = std::move(keep);
  }

  std::atomic<const T*> current_;
  mutable HazardDomain domain_;
  std::mutex writers_;
  std::vector<const T*> retired_;  // guarded by writers_
};

}  // namespace lab_cow
