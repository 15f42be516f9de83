// percentiles.cpp: what a percentile "from buckets" can say, three ways, on one histogram.
//
// Eight observations in buckets le=10, le=50, le=100, le=500 and +Inf, with counts 0, 2, 4, 1
// and 1: the first bucket is EMPTY. For each p the program prints
//   - the floor rule many tutorials use, rank = floor(p * n) (no max(1, ...)),
//   - this course's rule, rank = max(1, ceil(p * n)), answered with the bucket's upper bound,
//   - Prometheus' histogram_quantile(), which interpolates linearly inside the bucket,
// then the mean from bucket midpoints against the exact mean from a tracked sum, and a
// floating-point trap in p * n.
//   build/student/lessons/lesson_03_percentiles
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
  std::uint64_t total() const {
    std::uint64_t n = 0;
    for (const std::uint64_t c : counts) n += c;
    return n;
  }
};

std::string bound_text(const Buckets& h, std::size_t i) {
  return i < h.bounds.size() ? std::to_string(h.bounds[i]) : std::string("+Inf");
}

// The first bucket whose running count reaches `rank`.
std::size_t bucket_of_rank(const Buckets& h, std::uint64_t rank) {
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    seen += h.counts[i];
    if (seen >= rank) return i;
  }
  return h.counts.size() - 1;
}

std::string floor_rule(const Buckets& h, double p) {  // floor, no max(1, ...)
  const auto rank = static_cast<std::uint64_t>(p * static_cast<double>(h.total()));
  return bound_text(h, bucket_of_rank(h, rank));
}

std::string course_rule(const Buckets& h, double p) {  // max(1, ceil(p * n))
  const auto ceiled = static_cast<std::uint64_t>(std::ceil(p * static_cast<double>(h.total())));
  return bound_text(h, bucket_of_rank(h, ceiled < 1 ? 1 : ceiled));
}

// Prometheus' bucketQuantile (promql/quantile.go), for buckets with positive bounds: rank =
// p * n, not rounded; the first bucket whose cumulative count is >= rank; linear
// interpolation between the bucket's lower and upper bound (0 below the first bucket); a rank
// in the +Inf bucket gives the highest finite bound.
double prometheus_rule(const Buckets& h, double p) {
  const double rank = p * static_cast<double>(h.total());
  double below = 0.0;  // cumulative count of the buckets before this one
  for (std::size_t i = 0; i < h.counts.size(); ++i) {
    const double in_bucket = static_cast<double>(h.counts[i]);
    if (below + in_bucket >= rank) {
      if (i == h.bounds.size()) return static_cast<double>(h.bounds.back());
      const double lower = i == 0 ? 0.0 : static_cast<double>(h.bounds[i - 1]);
      const double upper = static_cast<double>(h.bounds[i]);
      if (in_bucket == 0.0) return std::numeric_limits<double>::quiet_NaN();  // 0 / 0
      return lower + (upper - lower) * ((rank - below) / in_bucket);
    }
    below += in_bucket;
  }
  return static_cast<double>(h.bounds.back());
}

}  // namespace

int main() {
  const Buckets h{{10, 50, 100, 500}, {0, 2, 4, 1, 1}};
  std::printf("buckets le=10:0 le=50:2 le=100:4 le=500:1 +Inf:1 (n = %llu)\n\n",
              static_cast<unsigned long long>(h.total()));
  std::printf("%-8s %-18s %-22s %s\n", "p", "floor rank (wrong)", "max(1, ceil) (course)",
              "histogram_quantile");
  for (const double p : {0.0, 0.0625, 0.3, 0.5, 0.8, 0.9, 1.0}) {
    std::printf("%-8g %-18s %-22s %g\n", p, floor_rule(h, p).c_str(), course_rule(h, p).c_str(),
                prometheus_rule(h, p));
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
