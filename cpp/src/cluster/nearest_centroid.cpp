#include "vidx/cluster/nearest_centroid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace vidx::kmeans_detail {
namespace {

constexpr size_t kRows = simd::kPanelRows;
constexpr size_t kWidth = simd::kPanelWidth;
constexpr double kUnitRoundoff = 1.0 / (1 << 24);  // float32's

// Panels read per pass over a group of points: about 96 KB of centroids, so they stay in L2
// while every point of the group is scored against them.
size_t panels_per_pass(size_t dim) { return std::max<size_t>(1, (96 * 1024) / (dim * kWidth * sizeof(float))); }

// How far an estimate's cost may lie from the exact one, in units of u (float32 rounding) times
// (|x| + |c|)^2 for centred x and c: the centring (about 2), the inner product (dim / 2, after
// 2 <x, c> <= (|x| + |c|)^2 / 2), |c|^2 with its extra and the estimate (2), and the exact
// kernel's own sum (about dim + 3). Candidates lie within twice the sum of the best estimate,
// rounded up with room to spare; the extra's rounding to float adds u |extra| on each side.
// Results below float32's normal range round to a fixed grid instead (steps of 2^-149, half a
// step an operation): an absolute term for those, or points whose distances are all
// subnormal lost their nearest centroid (a review's rows of spread 1e-22).
double tolerance(size_t dim, double reach, double largest_extra) {
  const double relative = kUnitRoundoff * ((4.0 * static_cast<double>(dim) + 32.0) * reach * reach + 4.0 * largest_extra);
  return relative + (4.0 * static_cast<double>(dim) + 16.0) * std::ldexp(1.0, -149);
}

// Past this |x| + |c| the inner products or |c|^2 may overflow float32 (estimates of +-inf or
// NaN): such points score every centroid exactly.
constexpr double kLargestReach = 1e18;

}  // namespace

NearestCentroid::NearestCentroid(size_t dim, std::vector<float> centre)
    : kernels_(simd::kernels()), dim_(dim), centre_(std::move(centre)) {}

void NearestCentroid::set_centroids(const float* centroids, size_t k, const double* extra) {
  centroids_ = centroids;
  k_ = k;
  padded_k_ = (k + kWidth - 1) / kWidth * kWidth;
  panels_.assign(padded_k_ * dim_, 0.f);
  offsets_.assign(padded_k_, std::numeric_limits<float>::infinity());
  extra_.assign(extra, extra ? extra + k : extra);
  largest_norm_ = largest_extra_ = 0;
  for (size_t c = 0; c < k; ++c) {
    float* panel = panels_.data() + (c / kWidth) * dim_ * kWidth;
    double norm = 0;
    for (size_t j = 0; j < dim_; ++j) {
      const float v = centroids[c * dim_ + j] - centre_[j];
      panel[j * kWidth + c % kWidth] = v;
      norm += static_cast<double>(v) * v;
    }
    offsets_[c] = static_cast<float>(norm + (extra ? extra[c] : 0.0));
    largest_norm_ = std::max(largest_norm_, std::sqrt(norm));
    if (extra) largest_extra_ = std::max(largest_extra_, std::fabs(extra[c]));
  }
}

void NearestCentroid::assign(size_t n, const std::function<const float*(size_t)>& point, ThreadPool* pool,
                             int32_t* assignment, float* distance) {
  const size_t groups = (n + kMaxPoints - 1) / kMaxPoints;
  scratch_.resize(pool ? pool->size() : 1);
  auto one_group = [&](size_t g, size_t worker) {
    const size_t first = g * kMaxPoints, count = std::min(kMaxPoints, n - first);
    const float* points[kMaxPoints];
    for (size_t i = 0; i < count; ++i) points[i] = point(first + i);
    assign_group(points, count, scratch_[worker], assignment + first, distance + first);
  };
  if (pool && groups > 1) {
    pool->parallel_for(groups, one_group);
  } else {
    for (size_t g = 0; g < groups; ++g) one_group(g, 0);
  }
}

void NearestCentroid::assign_group(const float* const* points, size_t count, Scratch& scratch, int32_t* assignment,
                                   float* distance) const {
  scratch.rows.resize(kMaxPoints * dim_);
  scratch.estimates.resize(kMaxPoints * padded_k_);
  scratch.candidates.resize(padded_k_);
  for (size_t i = 0; i < count; ++i)
    for (size_t j = 0; j < dim_; ++j) scratch.rows[i * dim_ + j] = points[i][j] - centre_[j];

  float least[kMaxPoints];
  std::fill(least, least + kMaxPoints, std::numeric_limits<float>::infinity());
  const size_t n_panels = padded_k_ / kWidth, per_pass = panels_per_pass(dim_);
  for (size_t first = 0; first < n_panels; first += per_pass) {
    const size_t panels = std::min(per_pass, n_panels - first);
    for (size_t block = 0; block < count; block += kRows) {
      // A short last block repeats its last point; those rows of `estimates` and `least` lie
      // past `count` and are never read.
      const float* rows[kRows];
      for (size_t r = 0; r < kRows; ++r) rows[r] = scratch.rows.data() + std::min(block + r, count - 1) * dim_;
      kernels_.panel_distances(rows, panels_.data() + first * dim_ * kWidth, offsets_.data() + first * kWidth,
                               panels, dim_, scratch.estimates.data() + block * padded_k_ + first * kWidth, padded_k_,
                               least + block);
    }
  }
  for (size_t i = 0; i < count; ++i)
    assignment[i] = static_cast<int32_t>(nearest(points[i], scratch.rows.data() + i * dim_,
                                                 scratch.estimates.data() + i * padded_k_, least[i], scratch,
                                                 distance + i));
}

size_t NearestCentroid::nearest(const float* point, const float* centred, const float* estimates, float least,
                                Scratch& scratch, float* distance) const {
  double norm = 0;
  for (size_t j = 0; j < dim_; ++j) norm += static_cast<double>(centred[j]) * centred[j];
  const double reach = std::sqrt(norm) + largest_norm_;
  const double threshold = least + tolerance(dim_, reach, largest_extra_);
  // Rounded up, so no estimate within the double threshold is left out.
  const float bound = std::nextafter(static_cast<float>(threshold), std::numeric_limits<float>::infinity());

  size_t best = k_;
  double best_cost = std::numeric_limits<double>::infinity();
  float best_distance = std::numeric_limits<float>::infinity();
  auto score = [&](size_t c) {
    const float d = kernels_.l2sq(point, centroids_ + c * dim_, dim_);
    const double cost = extra_.empty() ? d : d + extra_[c];
    if (best == k_ || cost < best_cost) {
      best = c;
      best_cost = cost;
      best_distance = d;
    }
  };
  if (reach < kLargestReach && std::isfinite(threshold)) {
    // Estimates that are NaN are candidates too; columns past k are not.
    const size_t found = kernels_.not_above(estimates, padded_k_, bound, scratch.candidates.data());
    for (size_t i = 0; i < found && scratch.candidates[i] < k_; ++i) score(scratch.candidates[i]);
  }
  if (!std::isfinite(best_cost)) {  // no estimate could be trusted, or distances past float32's range
    best = k_;
    for (size_t c = 0; c < k_; ++c) score(c);
  }
  *distance = best_distance;
  return best;
}

}  // namespace vidx::kmeans_detail
