// withdraw.cpp: lesson 04, the check-then-act trap and its compare-exchange fix.
//
// Many small accounts start with a balance of 4. Four threads drain each account together by
// withdrawing 1 at a time until a withdrawal is refused, then move to the next account. Two
// versions of withdraw():
//   check_then_act_withdraw  if (balance.load() >= amount) balance.fetch_sub(amount);
//   cas_withdraw             a compare_exchange_weak loop that checks and writes in one step
// Every access is atomic, so ThreadSanitizer has nothing to report about either. The program
// counts the accounts that did NOT end at 0: for the check-then-act version, two threads that
// both saw a balance of 1 both subtracted, and the unsigned balance wrapped around.
//
// Build and run (from the repository root, TSan build):
//   cmake --preset student && cmake --build build/student --target lesson_04_withdraw
//   ./build/student/lessons/lesson_04_withdraw
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <thread>
#include <vector>

namespace {

// BROKEN: the check and the act are two atomic steps. Between them another thread may
// withdraw, and then this thread withdraws from money that is no longer there.
bool check_then_act_withdraw(std::atomic<std::uint64_t>& balance, std::uint64_t amount) {
  if (balance.load() < amount) return false;  // check ...
  balance.fetch_sub(amount);                  // ... then act on a stale check
  return true;
}

// FIXED: load, decide, and install the new balance only if the balance is still the one we
// decided on. If another thread changed it, compare_exchange_weak fails and writes the
// balance it found into `seen`; we decide again with that fresh value.
bool cas_withdraw(std::atomic<std::uint64_t>& balance, std::uint64_t amount) {
  std::uint64_t seen = balance.load();
  do {
    if (seen < amount) return false;  // early exit: nothing to write
  } while (!balance.compare_exchange_weak(seen, seen - amount));
  return true;
}

using Withdraw = bool (*)(std::atomic<std::uint64_t>&, std::uint64_t);

// Drains `accounts` accounts of `start` each with `threads` threads; returns how many
// accounts did not end at exactly 0.
std::size_t broken_accounts(Withdraw withdraw, std::size_t accounts, std::size_t threads) {
  constexpr std::uint64_t start = 4;
  std::deque<std::atomic<std::uint64_t>> balances;
  for (std::size_t i = 0; i < accounts; ++i) balances.emplace_back(start);
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        for (std::atomic<std::uint64_t>& balance : balances) {
          // At most `start` withdrawals per thread and account: a wrapped balance would
          // otherwise look like 18 quintillion and keep this loop busy forever.
          for (std::uint64_t n = 0; n < start && withdraw(balance, 1); ++n) {
          }
        }
      });
    }
  }  // join
  std::size_t broken = 0;
  for (const std::atomic<std::uint64_t>& balance : balances) {
    if (balance.load() != 0) {
      if (broken == 0) std::printf("  e.g. an account ended at %llu\n",
                                   static_cast<unsigned long long>(balance.load()));
      ++broken;
    }
  }
  return broken;
}

}  // namespace

int main() {
  constexpr std::size_t accounts = 200'000;
  constexpr std::size_t threads = 4;
  std::printf("check-then-act withdraw:\n");
  const std::size_t broken = broken_accounts(check_then_act_withdraw, accounts, threads);
  std::printf("  %zu of %zu accounts did not end at 0\n", broken, accounts);
  std::printf("compare-exchange withdraw:\n");
  const std::size_t fixed = broken_accounts(cas_withdraw, accounts, threads);
  std::printf("  %zu of %zu accounts did not end at 0\n", fixed, accounts);
  return fixed == 0 ? 0 : 1;
}
