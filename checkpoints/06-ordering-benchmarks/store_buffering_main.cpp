// m6_store_buffering: the store-buffering experiment as a program, for the lesson's table.
//
//   build/bench/checkpoints/06-ordering-benchmarks/m6_store_buffering [TRIALS] [--json]
//
// Runs TRIALS (default 1000000) synchronized-start trials of each variant of
// store_buffering.hpp and prints how often both threads saw the other's flag still at 0.
// Built without sanitizers in every preset.
#include <store_buffering.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include "store_buffering_harness.hpp"

namespace {

struct Row {
  const char* name;
  const char* code;
  lab::sb::Outcomes outcomes;
};

template <class Variant>
Row measure(const char* name, const char* code, std::uint64_t trials) {
  // A long limit: the program is run by hand, and a busy machine only slows it down.
  return {name, code,
          lab::sb::run<Variant, metrics::StoreBufferingFlags>(trials, std::chrono::minutes(5))};
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t trials = 1'000'000;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) {
      json = true;
    } else {
      trials = std::strtoull(argv[i], nullptr, 10);
    }
  }
  try {
    const Row rows[] = {
        measure<metrics::RelaxedStoreBuffering>("relaxed", "store(relaxed); load(relaxed)",
                                                trials),
        measure<metrics::ReleaseAcquireStoreBuffering>(
            "release/acquire", "store(release); load(acquire)", trials),
        measure<metrics::SeqCstStoreBuffering>("seq_cst", "store(seq_cst); load(seq_cst)",
                                               trials),
        // The fenced row names no fence: which one, and where, is the exercise.
        measure<metrics::FencedStoreBuffering>("fenced", "your FencedStoreBuffering", trials),
    };
    if (json) {
      std::printf("[\n");
      for (std::size_t i = 0; i < std::size(rows); ++i) {
        const auto& o = rows[i].outcomes;
        std::printf(
            "  {\"variant\": \"%s\", \"trials\": %llu, \"r1r2_00\": %llu, \"r1r2_01\": %llu, "
            "\"r1r2_10\": %llu, \"r1r2_11\": %llu, \"late\": %llu, \"pinned\": %s, "
            "\"elapsed_ms\": %lld}%s\n",
            rows[i].name, static_cast<unsigned long long>(o.trials),
            static_cast<unsigned long long>(o.seen[0][0]),
            static_cast<unsigned long long>(o.seen[0][1]),
            static_cast<unsigned long long>(o.seen[1][0]),
            static_cast<unsigned long long>(o.seen[1][1]),
            static_cast<unsigned long long>(o.late), o.pinned ? "true" : "false",
            static_cast<long long>(o.elapsed.count()), i + 1 < std::size(rows) ? "," : "");
      }
      std::printf("]\n");
      return 0;
    }
    std::printf("store buffering, %llu trials per variant, threads pinned: %s, %u CPUs\n\n",
                static_cast<unsigned long long>(trials), rows[0].outcomes.pinned ? "yes" : "no",
                std::thread::hardware_concurrency());
    std::printf("| variant | thread bodies | r1 = r2 = 0 | per million | (0,1) | (1,0) | (1,1) | late starts |\n");
    std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const Row& row : rows) {
      const auto& o = row.outcomes;
      std::printf("| %s | `%s` | %llu | %.0f | %llu | %llu | %llu | %llu |\n", row.name,
                  row.code, static_cast<unsigned long long>(o.weak()), o.weak_per_million(),
                  static_cast<unsigned long long>(o.seen[0][1]),
                  static_cast<unsigned long long>(o.seen[1][0]),
                  static_cast<unsigned long long>(o.seen[1][1]),
                  static_cast<unsigned long long>(o.late));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "m6_store_buffering: %s\n", e.what());
    return 1;
  }
  return 0;
}
