// cow_use_after_free.cpp: copy-on-write without reclamation (lesson 05, "Reclaiming what
// readers may still hold").
//
//   lesson_05_cow_use_after_free     a reader loads the map's pointer, a writer publishes a
//                                    copy and deletes the old map, the reader reads it
//
// Readers take no lock: they load a pointer to an immutable std::map and walk it. The writer
// copies the map, adds a name, publishes the copy with one atomic exchange - and deletes the
// old map at once. The two threads take turns through a small handshake (forced interleaving)
// so that the reader is always between its load and its read when the delete happens: on any
// machine, every run. Build it with AddressSanitizer to see the report (the lesson's command).
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

using Names = std::map<std::string, int>;

std::atomic<const Names*> current{new Names{{"http_requests", 1}}};
std::mutex writers;
std::atomic<int> step{0};  // the handshake: 1 = reader has loaded, 2 = writer has replaced

void wait_for(int s) {
  while (step.load() != s) std::this_thread::yield();
}

void register_name(const std::string& name) {
  const std::scoped_lock lock(writers);
  auto* next = new Names(*current.load());
  next->emplace(name, 1);
  delete current.exchange(next);  // the bug: a reader may still be walking the old map
}

int main() {
  std::thread reader([] {
    const Names* names = current.load();  // 1. load the pointer
    step.store(1);
    wait_for(2);                          // (the writer runs here)
    std::size_t n = 0;
    for (const auto& entry : *names) n += entry.first.size();  // 3. read: the map is gone
    std::printf("reader walked %zu bytes of names\n", n);
  });
  wait_for(1);
  register_name("http_errors");  // 2. copy, publish, delete the old map
  step.store(2);
  reader.join();
  std::printf("registry has %zu names\n", current.load()->size());
  delete current.load();
}
