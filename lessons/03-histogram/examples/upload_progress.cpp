// upload_progress.cpp: two counters, and which write publishes which (lesson 03, "What a
// snapshot can promise").
//
// Not the histogram: an upload tracker. Each uploader thread finishes a file, writes the file's
// checksum into a plain array, adds the file's size to `bytes_done`, and then counts the file in
// `files_done`. A monitor thread waits until it has counted every file, then reads every
// checksum. The promise: a monitor that counts a file also sees its bytes and its checksum.
//
// `files_done` is the write that comes second, so it is the one that must carry the earlier
// writes along (release), and the monitor's load of it must be the one that receives them
// (acquire). `bytes_done` publishes nothing: relaxed, kept in place by the other two.
//
//   lesson_03_upload_progress             release increment, acquire load: silent
//   lesson_03_upload_progress --relaxed   relaxed increment and load: TSan reports the race
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

constexpr int kUploaders = 2;
constexpr std::uint64_t kFileSize = 4096;

std::atomic<std::uint64_t> bytes_done{0};
std::atomic<std::uint64_t> files_done{0};
std::uint64_t checksum[kUploaders] = {0, 0};  // plain memory: written by uploader t

}  // namespace

int main(int argc, char** argv) {
  const bool relaxed = argc > 1 && std::strcmp(argv[1], "--relaxed") == 0;
  const std::memory_order count_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_release;
  const std::memory_order read_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_acquire;
  std::printf("files_done increment %s, files_done load %s\n",
              relaxed ? "relaxed" : "release", relaxed ? "relaxed" : "acquire");

  std::thread uploaders[kUploaders];
  for (int t = 0; t < kUploaders; ++t) {
    uploaders[t] = std::thread([t, count_order] {
      checksum[t] = 0xC0FFEE + static_cast<std::uint64_t>(t);  // plain write
      bytes_done.fetch_add(kFileSize, std::memory_order_relaxed);
      files_done.fetch_add(1, count_order);  // the second write: it carries the first ones
    });
  }
  std::thread monitor([read_order] {
    std::uint64_t files = 0;
    while ((files = files_done.load(read_order)) < kUploaders) std::this_thread::yield();
    const std::uint64_t bytes = bytes_done.load(std::memory_order_relaxed);  // read second
    std::printf("files=%llu bytes=%llu (at least %llu) checksums %llx %llx\n",
                static_cast<unsigned long long>(files), static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(files * kFileSize),
                static_cast<unsigned long long>(checksum[0]),
                static_cast<unsigned long long>(checksum[1]));
  });
  for (auto& u : uploaders) u.join();
  monitor.join();
}
