// error_payload.cpp: how a test catches a missing release or acquire on x86 (lesson 02, 7).
//
// The job pipeline of section 5, with one addition: after finishing its first job, each worker
// writes a PLAIN payload (think "the first job's result") and then starts its second job. The
// reader waits until its acquire load of `started` has counted all four starts, then reads both
// payloads. If the start increment is a release RMW and the load an acquire, every payload
// write happens before the read (release sequence + synchronizes-with): no data race. Drop
// either order and nothing orders the plain write before the plain read: a data race, which
// ThreadSanitizer reports on x86 too, because it tracks happens-before instead of waiting for
// the hardware to reorder.
//
//   lesson_02_error_payload                  release increment, acquire load: silent
//   lesson_02_error_payload --relaxed-add    relaxed increment: TSan reports the race
//   lesson_02_error_payload --relaxed-load   relaxed load: TSan reports the race
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

std::atomic<std::uint64_t> started{0};
std::atomic<std::uint64_t> finished{0};
std::uint64_t payload[2] = {0, 0};  // plain memory: written by writer t, read by the reader

}  // namespace

int main(int argc, char** argv) {
  const bool relaxed_add = argc > 1 && std::strcmp(argv[1], "--relaxed-add") == 0;
  const bool relaxed_load = argc > 1 && std::strcmp(argv[1], "--relaxed-load") == 0;
  const std::memory_order add_order =
      relaxed_add ? std::memory_order_relaxed : std::memory_order_release;
  const std::memory_order load_order =
      relaxed_load ? std::memory_order_relaxed : std::memory_order_acquire;
  std::printf("start increment %s, started load %s\n", relaxed_add ? "relaxed" : "release",
              relaxed_load ? "relaxed" : "acquire");

  std::thread writers[2];
  for (int t = 0; t < 2; ++t) {
    writers[t] = std::thread([t, add_order] {
      started.fetch_add(1, add_order);                   // the first job starts
      finished.fetch_add(1, std::memory_order_relaxed);  // and finishes
      payload[t] = 100 + static_cast<std::uint64_t>(t);  // plain write: its result
      started.fetch_add(1, add_order);                   // the second job starts
    });
  }
  std::thread reader([load_order] {
    std::uint64_t s = 0;
    while ((s = started.load(load_order)) < 4) std::this_thread::yield();  // read first
    const std::uint64_t f = finished.load(std::memory_order_relaxed);
    std::printf("started=%llu finished=%llu payloads %llu %llu\n",
                static_cast<unsigned long long>(s), static_cast<unsigned long long>(f),
                static_cast<unsigned long long>(payload[0]),
                static_cast<unsigned long long>(payload[1]));
  });
  for (auto& w : writers) w.join();
  reader.join();
  return 0;
}
