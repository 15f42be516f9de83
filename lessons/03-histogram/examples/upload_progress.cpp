// upload_progress.cpp: two counters, and which write publishes which (lesson 03, "What a
// snapshot can promise").
//
// Not the histogram: an upload tracker with ONE uploader thread. For each file it writes the
// file's checksum into a plain array, raises `bytes_done` by the file's size, and then raises
// `files_done` by one. Both counters have a single writer, so the uploader updates them with a
// load and a store (no read-modify-write: nobody else can write in between). A monitor thread
// waits until it has counted every file, then reads every checksum and the bytes. The promise:
// a monitor that counts a file also sees its bytes and its checksum.
//
// `files_done` is the write that comes second, so it is the one that must carry the earlier
// writes along (a release store), and the monitor's load of it must be the one that receives
// them (acquire). `bytes_done` publishes nothing: relaxed, kept in place by the other two.
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

std::atomic<std::uint64_t> bytes_done{0};
std::atomic<std::uint64_t> files_done{0};
std::uint64_t checksum[kFiles] = {0, 0};  // plain memory: written by the uploader

}  // namespace

int main(int argc, char** argv) {
  const bool relaxed = argc > 1 && std::strcmp(argv[1], "--relaxed") == 0;
  const std::memory_order count_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_release;
  const std::memory_order read_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_acquire;
  std::printf("files_done store %s, files_done load %s\n", relaxed ? "relaxed" : "release",
              relaxed ? "relaxed" : "acquire");

  std::thread uploader([count_order] {
    for (int f = 0; f < kFiles; ++f) {
      checksum[f] = 0xC0FFEE + static_cast<std::uint64_t>(f);  // plain write
      // order: relaxed: the only writer reads its own last store.
      bytes_done.store(bytes_done.load(std::memory_order_relaxed) + kFileSize,
                       std::memory_order_relaxed);
      // order: relaxed load for the same reason; the store is the second write: it carries
      // the first ones.
      files_done.store(files_done.load(std::memory_order_relaxed) + 1, count_order);
    }
  });
  std::thread monitor([read_order] {
    std::uint64_t files = 0;
    while ((files = files_done.load(read_order)) < kFiles) std::this_thread::yield();
    const std::uint64_t bytes = bytes_done.load(std::memory_order_relaxed);  // read second
    std::printf("files=%llu bytes=%llu (at least %llu) checksums %llx %llx\n",
                static_cast<unsigned long long>(files), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(files * kFileSize),
                static_cast<unsigned long long>(checksum[0]),
                static_cast<unsigned long long>(checksum[1]));
  });
  uploader.join();
  monitor.join();
}
