// upload_progress_model.cpp: upload_progress.cpp's two counters, checked by a model checker
// (lesson 03, "Checking orders with a model checker").
// lab-model: relacy
//
// Two uploaders each count a file in `files_started`, then add its size to `bytes_done`;
// a monitor reads `bytes_done`, then `files_started`. The promise of upload_progress.cpp: a
// monitor that sees a file's bytes also counts the file, so bytes <= files * kFileSize. (The
// plain name array is left out: Relacy would report it as a DATA RACE, as ThreadSanitizer
// does.) The monitor reads once instead of waiting: the model explores every moment it could.
//
//   lesson_03_upload_progress_model             release increment, acquire load: holds
//   lesson_03_upload_progress_model --relaxed   relaxed increment and load: violated
#include <cstdint>
#include <cstring>

#include "model_check.hpp"

namespace {

constexpr std::uint64_t kFileSize = 4096;

template <rl::memory_order BytesOrder, rl::memory_order ReadOrder>
struct UploadProgress : rl::test_suite<UploadProgress<BytesOrder, ReadOrder>, 3> {
  rl::atomic<std::uint64_t> files_started{0};
  rl::atomic<std::uint64_t> bytes_done{0};

  void thread(unsigned index) {
    if (index < 2) {  // an uploader
      files_started(RL_INFO).fetch_add(1, rl::mo_relaxed);
      bytes_done(RL_INFO).fetch_add(kFileSize, BytesOrder);
      return;
    }
    const std::uint64_t bytes = bytes_done(RL_INFO).load(ReadOrder);  // the monitor
    const std::uint64_t files = files_started(RL_INFO).load(rl::mo_relaxed);
    RL_ASSERT(bytes <= files * kFileSize);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "a monitor that sees a file's bytes also counts the file "
                     "(bytes <= files * 4096; 2 uploaders, 1 monitor)";
  if (argc > 1 && std::strcmp(argv[1], "--relaxed") == 0) {
    // Deliberately broken: a relaxed increment publishes nothing. Do not copy this.
    return lesson::check_model<UploadProgress<rl::mo_relaxed, rl::mo_relaxed>>(what);
  }
  return lesson::check_model<UploadProgress<rl::mo_release, rl::mo_acquire>>(what);
}
