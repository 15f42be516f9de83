// bench_common.hpp: what m6_bench and m6_prometheus_bench share: the starter guard, the
// histogram bounds and the values every histogram benchmark records.
//
// The values come from a table filled once, before any timing, not from a generator called
// in the timed loop. A generator such as xorshift64 makes six dependent shifts and xors per
// value, and each value depends on the one before: a chain of about 6 cycles per value
// (value_source/xorshift measures it: 2.3 ns on the course machine), close to the whole
// record() being measured. A table lookup depends only on an index that grows by one, so the
// loop measures record() and not the generator (value_source/table).
#pragma once

#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>

namespace bench {

// Runs `probe` once before the timed loop; if it throws (a starter TODO), the benchmark is
// reported as an error with the exception's message. Every thread of a multi-threaded
// benchmark must still enter the loop (Google Benchmark synchronizes the threads there), so
// this returns whether to run the body, and the caller always runs `for (auto _ : state)`.
template <class Probe>
bool ready(benchmark::State& state, Probe&& probe) {
  try {
    probe();
    return true;
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return false;
  }
}

// The same 10 inclusive upper bounds for every histogram kind.
inline constexpr std::array<std::uint64_t, 10> kHistogramBounds{1,  2,   5,   10,  20,
                                                                50, 100, 200, 500, 1000};

// xorshift64: a small pseudo-random sequence, for filling tables and for set-up code.
struct Xorshift {
  std::uint64_t state;
  explicit Xorshift(std::uint64_t seed) : state(seed * 0x9E3779B97F4A7C15ull + 1) {}
  std::uint64_t next() noexcept {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

// 4096 values in 0..1023, uniformly (every bucket but the first few gets a share, so a branchy
// binary search cannot guess its way through), made once. 32 KiB: it stays in the L1/L2 cache.
inline constexpr std::size_t kValueCount = 4096;
inline const std::array<std::uint64_t, kValueCount>& value_table() {
  static const std::array<std::uint64_t, kValueCount> table = [] {
    std::array<std::uint64_t, kValueCount> values{};
    Xorshift random(42);
    for (std::uint64_t& v : values) v = random.next() & 1023;
    return values;
  }();
  return table;
}

// One thread's walk through the table; threads start at different places.
class Values {
 public:
  explicit Values(int thread_index)
      : table_(value_table().data()),
        next_(static_cast<std::size_t>(thread_index) * 1031) {}  // 1031: a prime
  std::uint64_t next() noexcept { return table_[next_++ % kValueCount]; }

 private:
  const std::uint64_t* table_;
  std::size_t next_;
};

}  // namespace bench
