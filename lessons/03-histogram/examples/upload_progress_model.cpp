// upload_progress_model.cpp: upload_progress.cpp's message passing, checked by a model checker
// (lesson 03, "Checking orders with a model checker").
// lab-model: relacy
//
// The name id is an atomic here (read and written relaxed), so that there is no data race for
// a tool to report: what is left is an ordering question between two atomics. An uploader
// stores the name, then raises `files_done` to 1; a monitor reads `files_done`, then the name,
// and asserts "if the file is done, its name is there". The monitor reads once instead of
// waiting: the model explores every moment it could.
//
//   lesson_03_upload_progress_model             release store, acquire load: holds
//   lesson_03_upload_progress_model --relaxed   relaxed store and load: violated
#include <cstdint>
#include <cstring>

#include "model_check.hpp"

namespace {

constexpr std::uint64_t kName = 0xC0FFEE;

template <rl::memory_order StoreOrder, rl::memory_order LoadOrder>
struct UploadProgress : rl::test_suite<UploadProgress<StoreOrder, LoadOrder>, 2> {
  rl::atomic<std::uint64_t> name_id{0};
  rl::atomic<int> files_done{0};

  void thread(unsigned index) {
    if (index == 0) {  // the uploader
      name_id(RL_INFO).store(kName, rl::mo_relaxed);
      files_done(RL_INFO).store(1, StoreOrder);
      return;
    }
    const int done = files_done(RL_INFO).load(LoadOrder);  // the monitor
    const std::uint64_t name = name_id(RL_INFO).load(rl::mo_relaxed);
    RL_ASSERT(done == 0 || name == kName);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "a monitor that sees the file done also sees its name "
                     "(1 uploader, 1 monitor)";
  if (argc > 1 && std::strcmp(argv[1], "--relaxed") == 0) {
    // Deliberately broken: a relaxed flag publishes nothing. Do not copy this.
    return lesson::check_model<UploadProgress<rl::mo_relaxed, rl::mo_relaxed>>(what);
  }
  return lesson::check_model<UploadProgress<rl::mo_release, rl::mo_acquire>>(what);
}
