// snapshot_order.cpp: which order of operations keeps "the total includes every counted
// item"? Not the histogram: a shop's till. Each sale adds its price to `revenue` and counts
// the sale in its price tier, `sales[tier]`; a report (a snapshot taken while sales go on)
// promises that every sale it counts has its price in its revenue. Four versions of the same
// till, differing only in ORDER:
//   sell():     revenue first, then tier   |  tier first, then revenue
//   report():   tiers first, then revenue  |  revenue first, then tiers
// Every write is a release RMW and every read an acquire load, so only the order of the
// statements differs. Each sale in tier t costs price_of(t) (1'000'000 in the last tier), so a
// report's counted sales add up to exactly sum(sales[t] * price_of(t)); the program counts the
// reports whose revenue is smaller than that. No data race anywhere: TSan stays silent.
//   build/student/lessons/lesson_03_snapshot_order
#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

constexpr std::size_t kN = 64;  // tiers priced 10, 20, ..., 640, then one at 1'000'000
constexpr unsigned kWriters = 4;
constexpr std::uint64_t kPerWriter = 300'000;

constexpr std::uint64_t price_of(std::size_t tier) {
  return tier < kN ? 10 * (tier + 1) : 1'000'000;
}

struct Report {
  std::array<std::uint64_t, kN + 1> sales{};
  std::uint64_t revenue = 0;
};

template <bool kSellRevenueFirst, bool kReportTiersFirst>
class Till {
 public:
  void sell(std::size_t tier) {
    if constexpr (kSellRevenueFirst) {
      revenue.fetch_add(price_of(tier), std::memory_order_release);
      sales[tier].fetch_add(1, std::memory_order_release);
    } else {
      sales[tier].fetch_add(1, std::memory_order_release);
      revenue.fetch_add(price_of(tier), std::memory_order_release);
    }
  }
  Report report() const {
    Report r;
    if constexpr (!kReportTiersFirst) r.revenue = revenue.load(std::memory_order_acquire);
    for (std::size_t t = 0; t <= kN; ++t) r.sales[t] = sales[t].load(std::memory_order_acquire);
    if constexpr (kReportTiersFirst) r.revenue = revenue.load(std::memory_order_acquire);
    return r;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kN + 1> sales{};
  std::atomic<std::uint64_t> revenue{0};
};

template <bool kSellRevenueFirst, bool kReportTiersFirst>
void run(const char* sell_order, const char* report_order) {
  Till<kSellRevenueFirst, kReportTiersFirst> till;
  std::atomic<unsigned> finished{0};
  std::uint64_t snapshots = 0, bad = 0;
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 0; w < kWriters; ++w) {
      threads.emplace_back([&till, &finished, w] {
        for (std::uint64_t i = 0; i < kPerWriter; ++i) {
          till.sell(i % 2 == 0 ? kN : (i / 2 + w) % kN);  // half the sales in the last tier
        }
        finished.fetch_add(1);
      });
    }
    threads.emplace_back([&] {
      while (finished.load() < kWriters) {
        const Report r = till.report();
        std::uint64_t counted = 0;
        for (std::size_t t = 0; t <= kN; ++t) counted += r.sales[t] * price_of(t);
        ++snapshots;
        if (r.revenue < counted) ++bad;
      }
    });
  }
  std::printf("sell: %-23s report: %-23s %6llu of %6llu reports lack counted sales\n",
              sell_order, report_order, static_cast<unsigned long long>(bad),
              static_cast<unsigned long long>(snapshots));
}

}  // namespace

int main() {
  run<true, true>("revenue, then tier", "tiers, then revenue");
  run<true, false>("revenue, then tier", "revenue, then tiers");
  run<false, true>("tier, then revenue", "tiers, then revenue");
  run<false, false>("tier, then revenue", "revenue, then tiers");
}
