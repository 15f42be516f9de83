// upload_progress.cpp: two counters, and which write publishes which (lesson 03, "What a
// snapshot can promise").
//
// Not the histogram: an upload tracker with ONE uploader thread. For each file it writes the
// file's name id into a plain array, counts the file in `files_started`, and then raises
// `bytes_done` by the file's size as the upload completes. Both counters have a single writer,
// so the uploader updates them with a load and a store (no read-modify-write: nobody else can
// write in between). A monitor thread waits until it has seen every byte, then reads the file
// count and every name. The promise: a monitor that sees a file's bytes also counts that file
// and sees its name (bytes <= files * size: no bytes of a file it does not know).
//
// `bytes_done` is the write that comes second, so it is the one that must carry the earlier
// writes along (a release store), and the monitor's load of it must be the one that receives
// them (acquire). `files_started` publishes nothing: relaxed, kept in place by the other two.
// (With several uploaders, each counter would need read-modify-writes, and the question of
// lesson 2, section 4, "which writes continue a release sequence?", would come back.)
//
//   lesson_03_upload_progress             release store, acquire load: silent
//   lesson_03_upload_progress --relaxed   relaxed store and load: TSan reports the race
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

constexpr int kFiles = 2;
constexpr std::uint64_t kFileSize = 4096;

std::atomic<std::uint64_t> files_started{0};
std::atomic<std::uint64_t> bytes_done{0};
std::uint64_t name_id[kFiles] = {0, 0};  // plain memory: written by the uploader

}  // namespace

int main(int argc, char** argv) {
  const bool relaxed = argc > 1 && std::strcmp(argv[1], "--relaxed") == 0;
  const std::memory_order bytes_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_release;
  const std::memory_order read_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_acquire;
  std::printf("bytes_done store %s, bytes_done load %s\n", relaxed ? "relaxed" : "release",
              relaxed ? "relaxed" : "acquire");

  std::thread uploader([bytes_order] {
    for (int f = 0; f < kFiles; ++f) {
      name_id[f] = 0xC0FFEE + static_cast<std::uint64_t>(f);  // plain write
      // order: relaxed: the only writer reads its own last store.
      files_started.store(files_started.load(std::memory_order_relaxed) + 1,
                          std::memory_order_relaxed);
      // order: relaxed load for the same reason; the store is the second write: it carries
      // the first ones.
      bytes_done.store(bytes_done.load(std::memory_order_relaxed) + kFileSize, bytes_order);
    }
  });
  std::thread monitor([read_order] {
    std::uint64_t bytes = 0;
    while ((bytes = bytes_done.load(read_order)) < kFiles * kFileSize) std::this_thread::yield();
    const std::uint64_t files = files_started.load(std::memory_order_relaxed);  // read second
    std::printf("bytes=%llu files=%llu (bytes at most %llu) names %llx %llx\n",
                static_cast<unsigned long long>(bytes), static_cast<unsigned long long>(files),
                static_cast<unsigned long long>(files * kFileSize),
                static_cast<unsigned long long>(name_id[0]),
                static_cast<unsigned long long>(name_id[1]));
  });
  uploader.join();
  monitor.join();
}
