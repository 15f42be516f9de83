// withdraw_model.cpp: withdraw.cpp's two withdraw() versions, checked by a model checker
// (lesson 04, "Checking orders with a model checker").
// lab-model: relacy
//
// One account holds 1; two threads each try to withdraw 1. The promise: the balance never
// goes below 0 (an unsigned balance that does wraps around to 2^64 - 1), so exactly one
// withdrawal succeeds and the balance ends at 0. Every operation is seq_cst, as in
// withdraw.cpp: the check-then-act version breaks on an interleaving alone.
//
//   lesson_04_withdraw_model         check then act: violated
//   lesson_04_withdraw_model --cas   a compare_exchange_weak loop: holds
#include <cstdint>
#include <cstring>

#include "model_check.hpp"

namespace {

template <bool kCas>
struct Withdraw : rl::test_suite<Withdraw<kCas>, 2> {
  rl::atomic<std::uint64_t> balance{1};
  bool succeeded[2] = {false, false};

  bool withdraw(std::uint64_t amount) {
    if (!kCas) {
      if (balance(RL_INFO).load(rl::mo_seq_cst) < amount) return false;  // check ...
      balance(RL_INFO).fetch_sub(amount, rl::mo_seq_cst);  // ... then act on a stale check
      return true;
    }
    std::uint64_t seen = balance(RL_INFO).load(rl::mo_seq_cst);
    do {
      if (seen < amount) return false;
    } while (!balance(RL_INFO).compare_exchange_weak(seen, seen - amount, rl::mo_seq_cst));
    return true;
  }

  void thread(unsigned index) { succeeded[index] = withdraw(1); }

  void after() {
    RL_ASSERT(balance(RL_INFO).load(rl::mo_seq_cst) == 0 && succeeded[0] != succeeded[1]);
  }
};

}  // namespace

int main(int argc, char** argv) {
  const char* what = "the balance never goes below 0: of two withdrawals of 1 from a balance "
                     "of 1, exactly one succeeds";
  if (argc > 1 && std::strcmp(argv[1], "--cas") == 0) {
    return lesson::check_model<Withdraw<true>>(what);
  }
  // Deliberately broken: check-then-act. Do not copy this.
  return lesson::check_model<Withdraw<false>>(what);
}
