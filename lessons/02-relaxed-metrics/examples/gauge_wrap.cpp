// gauge_wrap.cpp: why the connection gauge is signed (lesson 02).
//
// One connection_closed() too many (a double close in the caller, or a close counted before its
// open on another thread) takes an unsigned gauge from 0 to the largest value of its type: a
// dashboard suddenly shows 18 quintillion open connections. A signed gauge shows -1, which is
// both the truth and an obvious hint at the caller's bug. Atomic arithmetic never has undefined
// behaviour, signed or not: fetch_sub on std::atomic<std::int64_t> wraps like unsigned would,
// but only after 2^63 + 1 decrements from 0, which no server reaches.
#include <atomic>
#include <cstdint>
#include <cstdio>

int main() {
  std::atomic<std::uint64_t> unsigned64{0};
  std::atomic<std::uint32_t> unsigned32{0};
  std::atomic<std::int64_t> signed64{0};

  // Two connections open, three close.
  for (int i = 0; i < 2; ++i) {
    // The default order: this single-threaded demo is about values, not orders.
    unsigned64.fetch_add(1);
    unsigned32.fetch_add(1);
    signed64.fetch_add(1);
  }
  for (int i = 0; i < 3; ++i) {
    unsigned64.fetch_sub(1);
    unsigned32.fetch_sub(1);
    signed64.fetch_sub(1);
  }

  std::printf("std::atomic<std::uint64_t>: %llu\n",
              static_cast<unsigned long long>(unsigned64.load()));
  std::printf("std::atomic<std::uint32_t>: %lu\n", static_cast<unsigned long>(unsigned32.load()));
  std::printf("std::atomic<std::int64_t>:  %lld\n", static_cast<long long>(signed64.load()));
}
