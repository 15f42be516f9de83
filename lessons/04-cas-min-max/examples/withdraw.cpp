// withdraw.cpp: lesson 04, the check-then-act trap and its compare-exchange fix.
//
// Many small accounts start with a balance of 6, of which 1 is a reserve that no withdrawal may
// take. Four threads drain each account together, each with its own amount: thread t asks for
// t + 2 (2, 3, 4 or 5) per withdrawal and takes that, or what is left above the reserve if that
// is less; a thread moves on to the next account once a withdrawal got nothing. Two versions of
// take_up_to():
//   check_then_act_take  decide from balance.load(), then balance.fetch_sub(take)
//   cas_take             a compare_exchange_weak loop that decides and writes in one step
// Every access is atomic, so ThreadSanitizer has nothing to report about either. The program
// counts the accounts that did NOT end at the reserve: for the check-then-act version, two
// threads that both saw a balance of 6 both took their amounts (say 4 and 5), and the unsigned
// balance wrapped around.
//
// Build and run (from the repository root, TSan build):
//   cmake --preset student && cmake --build build/student --target lesson_04_withdraw
//   ./build/student/lessons/lesson_04_withdraw
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <thread>
#include <vector>

namespace {

constexpr std::uint64_t kReserve = 1;  // what must stay in every account

// How much a withdrawal of `amount` takes from a balance of `balance`: the amount, or what is
// left above the reserve if that is less.
std::uint64_t take_from(std::uint64_t balance, std::uint64_t amount) {
  return balance > kReserve ? std::min(balance - kReserve, amount) : 0;
}

// BROKEN: the check and the act are two atomic steps. Between them another thread may
// withdraw, and then this thread takes money that is no longer there.
std::uint64_t check_then_act_take(std::atomic<std::uint64_t>& balance, std::uint64_t amount) {
  const std::uint64_t take = take_from(balance.load(), amount);  // check ...
  balance.fetch_sub(take);                                        // ... then act on a stale check
  return take;
}

// FIXED: load, decide how much to take, and install the new balance only if the balance is
// still the one we decided on. If another thread changed it, compare_exchange_weak fails and
// writes the balance it found into `seen`; we decide again with that fresh value.
std::uint64_t cas_take(std::atomic<std::uint64_t>& balance, std::uint64_t amount) {
  std::uint64_t seen = balance.load();
  std::uint64_t take = 0;
  do {
    take = take_from(seen, amount);
    if (take == 0) return 0;  // early exit: nothing to write
  } while (!balance.compare_exchange_weak(seen, seen - take));
  return take;
}

using Take = std::uint64_t (*)(std::atomic<std::uint64_t>&, std::uint64_t);

// Drains `accounts` accounts of `start` each with `threads` threads; returns how many
// accounts did not end at exactly the reserve.
std::size_t broken_accounts(Take take_up_to, std::size_t accounts, std::size_t threads) {
  constexpr std::uint64_t start = 6;
  std::deque<std::atomic<std::uint64_t>> balances;
  for (std::size_t i = 0; i < accounts; ++i) balances.emplace_back(start);
  {
    std::vector<std::jthread> workers;
    for (std::size_t t = 0; t < threads; ++t) {
      workers.emplace_back([&, amount = static_cast<std::uint64_t>(t) + 2] {
        for (std::atomic<std::uint64_t>& balance : balances) {
          // At most `start` withdrawals per thread and account: a wrapped balance would
          // otherwise look like 18 quintillion and keep this loop busy forever.
          for (std::uint64_t n = 0; n < start && take_up_to(balance, amount) != 0; ++n) {
          }
        }
      });
    }
  }  // join
  std::size_t broken = 0;
  for (const std::atomic<std::uint64_t>& balance : balances) {
    if (balance.load() != kReserve) {
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
  std::printf("check-then-act take-up-to-k (k = 2, 3, 4, 5):\n");
  const std::size_t broken = broken_accounts(check_then_act_take, accounts, threads);
  std::printf("  %zu of %zu accounts did not end at the reserve\n", broken, accounts);
  std::printf("compare-exchange take-up-to-k (k = 2, 3, 4, 5):\n");
  const std::size_t fixed = broken_accounts(cas_take, accounts, threads);
  std::printf("  %zu of %zu accounts did not end at the reserve\n", fixed, accounts);
  return fixed == 0 ? 0 : 1;
}
