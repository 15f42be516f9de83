// withdraw_model.cpp: withdraw.cpp's two take_up_to() versions, checked by a model checker
// (lesson 04, "Checking orders with a model checker").
// lab-model: relacy
//
// One account holds 5; two threads withdraw from it at once, thread 0 up to 3 and thread 1 up
// to 4: each takes what it asked for, or what is left if that is less, and returns what it took.
// The promise: the balance never goes below 0 (an unsigned balance that does wraps around to
// 2^64 - 1), so the two take exactly the 5 there were between them and the balance ends at 0.
// Every operation is seq_cst, as in withdraw.cpp: the check-then-act version breaks on an
// interleaving alone.
//
//   lesson_04_withdraw_model         check then act: violated
//   lesson_04_withdraw_model --cas   a compare_exchange_weak loop: holds
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "model_check.hpp"

namespace {

template <bool kCas>
struct Withdraw : rl::test_suite<Withdraw<kCas>, 2> {
  rl::atomic<std::uint64_t> balance{5};
  std::uint64_t taken[2] = {0, 0};

  std::uint64_t take_up_to(std::uint64_t amount) {
    if (!kCas) {
      const std::uint64_t take = std::min(balance(RL_INFO).load(rl::mo_seq_cst), amount);  // check
      balance(RL_INFO).fetch_sub(take, rl::mo_seq_cst);  // ... then act on a stale check
      return take;
    }
    std::uint64_t seen = balance(RL_INFO).load(rl::mo_seq_cst);
    std::uint64_t take = 0;
    do {
      take = std::min(seen, amount);
      if (take == 0) return 0;  // early exit: nothing to write
    } while (!balance(RL_INFO).compare_exchange_weak(seen, seen - take, rl::mo_seq_cst));
    return take;
  }

  void thread(unsigned index) { taken[index] = take_up_to(index == 0 ? 3 : 4); }

  void after() {
    RL_ASSERT(balance(RL_INFO).load(rl::mo_seq_cst) == 0 && taken[0] + taken[1] == 5);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "the balance never goes below 0: withdrawals of up to 3 and up to 4 from a "
                     "balance of 5 take exactly the 5 between them";
  if (argc > 1 && std::strcmp(argv[1], "--cas") == 0) {
    return lesson::check_model<Withdraw<true>>(what);
  }
  // Deliberately broken: check-then-act. Do not copy this.
  return lesson::check_model<Withdraw<false>>(what);
}
