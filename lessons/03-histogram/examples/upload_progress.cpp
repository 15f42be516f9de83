// upload_progress.cpp: one counter that publishes plain data (lesson 03, "What a snapshot can
// promise").
//
// Not the histogram, but the same publication pattern on different data: ONE writer, ONE
// atomic and plain memory. An uploader thread writes each file's name id into a plain array and
// then raises `files_done`, the number of files completed. A monitor thread waits until
// `files_done` says every file is done, then reads every name. The promise: a monitor that sees
// a file counted as done also sees its name: lesson 2's message passing, a count for a flag.
//
//   lesson_03_upload_progress             release increment, acquire load: silent
//   lesson_03_upload_progress --relaxed   relaxed increment and load: TSan reports the race
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>

namespace {

constexpr int kFiles = 2;

std::atomic<int> files_done{0};
std::uint64_t name_id[kFiles] = {0, 0};  // plain memory: written by the uploader

}  // namespace

int main(int argc, char** argv) {
  const bool relaxed = argc > 1 && std::strcmp(argv[1], "--relaxed") == 0;
  const std::memory_order store_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_release;
  const std::memory_order load_order =
      relaxed ? std::memory_order_relaxed : std::memory_order_acquire;
  std::printf("files_done increment %s, files_done load %s\n", relaxed ? "relaxed" : "release",
              relaxed ? "relaxed" : "acquire");

  std::thread uploader([store_order] {
    for (int f = 0; f < kFiles; ++f) {
      name_id[f] = 0xC0FFEE + static_cast<std::uint64_t>(f);  // plain write
      files_done.fetch_add(1, store_order);  // order: chosen by the command line (see main)
    }
  });
  std::thread monitor([load_order] {
    int done = 0;
    while ((done = files_done.load(load_order)) < kFiles) std::this_thread::yield();
    std::printf("files done=%d names %llx %llx\n", done,
                static_cast<unsigned long long>(name_id[0]),
                static_cast<unsigned long long>(name_id[1]));
  });
  uploader.join();
  monitor.join();
}
