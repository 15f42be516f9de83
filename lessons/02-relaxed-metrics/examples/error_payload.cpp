// error_payload.cpp: how a test catches a missing release or acquire on x86 (lesson 02, 7).
//
// The job monitor of section 5, with one addition: before finishing its job, each worker also
// writes a PLAIN payload (think "the job's result"). The reader waits until its acquire load
// of `finished` has counted both jobs, then reads both payloads. If the finish increment is a
// release RMW and the load an acquire, every payload write happens before the read (release
// sequence + synchronizes-with): no data race. Drop either order and nothing orders the plain
// write before the plain read: a data race, which ThreadSanitizer reports on x86 too, because
// it tracks happens-before instead of waiting for the hardware to reorder.
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
  std::printf("finish increment %s, finished load %s\n", relaxed_add ? "relaxed" : "release",
              relaxed_load ? "relaxed" : "acquire");

  std::thread writers[2];
  for (int t = 0; t < 2; ++t) {
    writers[t] = std::thread([t, add_order] {
      started.fetch_add(1, std::memory_order_relaxed);   // the job starts
      payload[t] = 100 + static_cast<std::uint64_t>(t);  // plain write before the finish
      finished.fetch_add(1, add_order);                  // the job is finished
    });
  }
  std::thread reader([load_order] {
    std::uint64_t e = 0;
    while ((e = finished.load(load_order)) < 2) std::this_thread::yield();  // read first
    const std::uint64_t r = started.load(std::memory_order_relaxed);
    std::printf("finished=%llu started=%llu payloads %llu %llu\n",
                static_cast<unsigned long long>(e), static_cast<unsigned long long>(r),
                static_cast<unsigned long long>(payload[0]),
                static_cast<unsigned long long>(payload[1]));
  });
  for (auto& w : writers) w.join();
  reader.join();
  return 0;
}
