// percentiles.cpp: what a percentile "from buckets" can say, seen from the buckets' side.
//
// Eight observations in buckets le=10, le=50, le=100, le=500 and +Inf, with counts 0, 2, 4, 1
// and 1: the first bucket is EMPTY. The program does not compute percentile(p) for a p; it
// goes the other way. For each bucket it prints
//   - the ranks of the observations it holds (ranks count from 1, in increasing order of value),
//   - every p that this course's rank rule, rank = max(1, ceil(p * n)), sends to that bucket,
//   - every p that the floor rule many tutorials use, rank = floor(p * n), sends there,
// then Prometheus' histogram_quantile() at a few p, computed from the cumulative counts a scrape
// delivers and interpolated inside the bucket, then the mean from bucket midpoints against the
// exact mean from a tracked sum, and a floating-point trap in p * n.
//   build/student/lessons/lesson_03_percentiles
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

struct Buckets {
  std::vector<std::uint64_t> bounds;  // N inclusive upper bounds
  std::vector<std::uint64_t> counts;  // N + 1 per-bucket counts, the last is +Inf
};

std::string bound_text(const Buckets& h, std::size_t i) {
  return "le=" + (i < h.bounds.size() ? std::to_string(h.bounds[i]) : std::string("+Inf"));
}

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", x);
  return text;
}

// A bucket holds the ranks first..last (none when first > last): the observations of every
// lower bucket come before its own.
struct Ranks {
  std::uint64_t first;
  std::uint64_t last;
};

std::vector<Ranks> ranks_per_bucket(const Buckets& h) {
  std::vector<Ranks> ranks;
  std::uint64_t lower = 0;  // observations in the buckets below this one
  for (const std::uint64_t c : h.counts) {
    ranks.push_back({lower + 1, lower + c});
    lower += c;
  }
  return ranks;
}

// The p in [0, 1] whose rank max(1, ceil(p * n)) is one of first..last: ceil(p * n) >= first
// means p > (first - 1) / n, ceil(p * n) <= last means p <= last / n, and p = 0 gives rank 1.
std::string course_ps(Ranks r, std::uint64_t n) {
  if (r.first > r.last) return "no p";
  const std::string upper = " <= " + number(static_cast<double>(r.last) / static_cast<double>(n));
  if (r.first == 1) return "0 <= p" + upper;
  return number(static_cast<double>(r.first - 1) / static_cast<double>(n)) + " < p" + upper;
}

// The p whose rank floor(p * n) is one of first..last: p >= first / n and p < (last + 1) / n.
// Rank 0 (every p below 1 / n) is no observation at all; a rule that lets it through answers
// with the first bucket, empty or not, so that bucket is given rank 0 as well.
std::string floor_ps(Ranks r, std::uint64_t n, bool first_bucket) {
  if (first_bucket) r.first = 0;
  if (r.first > r.last) return "no p";
  const double from = static_cast<double>(r.first) / static_cast<double>(n);
  if (r.last >= n) return r.first == n ? "p = 1" : number(from) + " <= p <= 1";
  const std::string upper = " <= p < " + number(static_cast<double>(r.last + 1) /
                                                static_cast<double>(n));
  return number(from) + upper;
}

// Prometheus' bucketQuantile (promql/quantile.go), for buckets with positive bounds. Its input
// is what a scrape delivers: CUMULATIVE counts, cumulative[i] = the observations <= bound i, the
// last one +Inf (= n). rank = p * n, not rounded; the first bucket whose cumulative count is
// >= rank; linear interpolation between the bucket's lower and upper bound (0 below the first
// bucket); a rank in the +Inf bucket gives the highest finite bound.
double prometheus_rule(const std::vector<std::uint64_t>& bounds,
                       const std::vector<double>& cumulative, double p) {
  const double rank = p * cumulative.back();
  const auto found = std::find_if(cumulative.begin(), cumulative.end(),
                                  [rank](double c) { return c >= rank; });
  const auto b = static_cast<std::size_t>(found - cumulative.begin());
  if (b == bounds.size()) return static_cast<double>(bounds.back());
  const double lower = b == 0 ? 0.0 : static_cast<double>(bounds[b - 1]);
  const double below = b == 0 ? 0.0 : cumulative[b - 1];
  const double in_bucket = cumulative[b] - below;
  if (in_bucket == 0.0) return std::numeric_limits<double>::quiet_NaN();  // 0 / 0
  return lower + (static_cast<double>(bounds[b]) - lower) * ((rank - below) / in_bucket);
}

}  // namespace

int main() {
  const Buckets h{{10, 50, 100, 500}, {0, 2, 4, 1, 1}};
  const std::vector<Ranks> ranks = ranks_per_bucket(h);
  const std::uint64_t n = ranks.back().last;
  std::printf("buckets le=10:0 le=50:2 le=100:4 le=500:1 +Inf:1 (n = %llu)\n\n",
              static_cast<unsigned long long>(n));
  std::printf("%-8s %-6s %-6s %-28s %s\n", "bucket", "count", "ranks",
              "max(1, ceil(p*n)) (course)", "floor(p*n) (wrong)");
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    const Ranks r = ranks[i];
    const std::string held = r.first > r.last ? "none"
                             : r.first == r.last
                                 ? std::to_string(r.first)
                                 : std::to_string(r.first) + "-" + std::to_string(r.last);
    std::printf("%-8s %-6llu %-6s %-28s %s\n", bound_text(h, i).c_str(),
                static_cast<unsigned long long>(h.counts[i]), held.c_str(),
                course_ps(r, n).c_str(), floor_ps(r, n, i == 0).c_str());
  }

  // The same buckets as Prometheus scrapes them (lesson 5 exports them cumulative), and as
  // promql/histogram_quantile_test.yml feeds them to promtool.
  const std::vector<double> scraped{0, 2, 6, 7, 8};
  std::printf("\n%-8s %-10s %s\n", "p", "rank p*n", "histogram_quantile");
  for (const double p : {0.0, 0.0625, 0.3, 0.5, 0.8, 0.9, 1.0}) {
    std::printf("%-8g %-10g %g\n", p, p * static_cast<double>(n),
                prometheus_rule(h.bounds, scraped, p));
  }

  // The mean: bucket midpoints against the tracked sum. Two observations, 1 and 1'000'000,
  // in buckets le=10 and le=UINT64_MAX.
  const double midpoints = ((0.0 + 10.0) / 2.0 + (100.0 + static_cast<double>(kMax)) / 2.0) / 2.0;
  const double exact = (1.0 + 1'000'000.0) / 2.0;
  std::printf("\nmean of {1, 1000000} with bounds {10, 100, UINT64_MAX}:\n");
  std::printf("  from bucket midpoints: %.4g\n  from the tracked sum:  %.1f\n", midpoints, exact);

  // p * n is computed in double, and 0.07 is not exactly representable.
  const double product = 0.07 * 100.0;
  std::printf("\n0.07 * 100 = %.17g, ceil = %g: rank 8, not 7\n", product, std::ceil(product));
}
