// treiber_aba.cpp: a Treiber stack, the ABA problem, and a tagged head (lesson 04,
// "A structure with pointers: the Treiber stack and ABA").
//
//   lesson_04_treiber_aba
//
// A lock-free stack (R. K. Treiber, "Systems Programming: Coping with Parallelism", IBM RJ 5118,
// 1986): push and pop are one compare_exchange on the head. The nodes come from a small pool
// and are reused, as any allocator reuses freed memory. Two threads take turns through a
// handshake (forced interleaving), so the outcome is the same on every run and every machine:
//   thread 1: pop() loads head == A and A->next == B, then pauses before its CAS
//   thread 2: pop() -> A, pop() -> B, push(A) again (A reused): the head is A once more
//   thread 1: CAS(head: A -> B) succeeds, because the head *is* A: B, which thread 2 owns,
//             is back on the stack.
// The same interleaving against a head that carries a tag (a counter bumped by every change):
// thread 1's CAS fails, it reloads and pops A correctly.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>

constexpr std::uint32_t kNone = 0xffffffff;

struct Node {
  char name;
  std::uint32_t next;  // index of the next node, kNone at the bottom
};
Node pool[3] = {{'A', kNone}, {'B', kNone}, {'C', kNone}};  // indices 0, 1, 2

// The head is a node index; Tagged = true adds a 32-bit tag in the upper half of the word.
template <bool Tagged>
class Stack {
 public:
  void push(std::uint32_t node) {
    std::uint64_t old = head_.load();
    do {
      pool[node].next = index(old);
    } while (!head_.compare_exchange_weak(old, make(node, old)));
  }
  // pause() runs between reading head->next and the CAS: where a preemption would hit.
  std::uint32_t pop(const std::function<void()>& pause = [] {}) {
    std::uint64_t old = head_.load();
    for (;;) {
      if (index(old) == kNone) return kNone;
      const std::uint32_t next = pool[index(old)].next;
      pause();
      if (head_.compare_exchange_strong(old, make(next, old))) return index(old);
      std::printf("    (CAS failed: head changed from what was loaded; retrying)\n");
    }
  }
  std::string contents() const {
    std::string s;
    for (std::uint32_t i = index(head_.load()); i != kNone && s.size() < 8; i = pool[i].next)
      s += pool[i].name;
    return s.empty() ? "(empty)" : s;
  }

 private:
  static std::uint32_t index(std::uint64_t word) { return static_cast<std::uint32_t>(word); }
  static std::uint64_t make(std::uint32_t node, std::uint64_t old) {
    const std::uint64_t tag = Tagged ? (old >> 32) + 1 : 0;  // every change bumps the tag
    return tag << 32 | node;
  }
  std::atomic<std::uint64_t> head_{kNone};
};

template <bool Tagged>
void demonstrate(const char* title) {
  Stack<Tagged> stack;
  stack.push(2);  // C
  stack.push(1);  // B
  stack.push(0);  // A
  std::printf("%s\n  start: %s\n", title, stack.contents().c_str());
  std::atomic<int> step{0};
  auto wait_for = [&](int s) {
    while (step.load() != s) std::this_thread::yield();
  };
  std::uint32_t popped_by_1 = kNone;
  std::thread thread1([&] {
    popped_by_1 = stack.pop([&] {
      if (step.load() == 0) {  // only the first attempt pauses
        step.store(1);
        wait_for(2);
      }
    });
  });
  wait_for(1);
  const std::uint32_t a = stack.pop();
  const std::uint32_t b = stack.pop();
  stack.push(a);  // A is free again, and reused
  std::printf("  thread 2 popped %c and %c, pushed %c back: %s\n", pool[a].name, pool[b].name,
              pool[a].name, stack.contents().c_str());
  step.store(2);
  thread1.join();
  std::printf("  thread 1 popped %c; the stack is now: %s%s\n", pool[popped_by_1].name,
              stack.contents().c_str(),
              stack.contents().find(pool[b].name) != std::string::npos
                  ? "  <- B is on the stack, yet thread 2 owns it"
                  : "");
}

int main() {
  demonstrate<false>("untagged head (a bare index):");
  pool[0].next = pool[1].next = pool[2].next = kNone;
  demonstrate<true>("tagged head (index + 32-bit change counter):");
}
