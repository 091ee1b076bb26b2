#include "vidx/cluster/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <string>
#include <utility>

#include "vidx/cluster/nearest_centroid.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace kmeans_detail {

namespace {

// Chooses `count` distinct indices of [0, n) (partial Fisher-Yates), returned ascending.
std::vector<size_t> sample_indices(size_t n, size_t count, Rng& rng) {
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t{0});
  for (size_t i = 0; i < count; ++i) std::swap(all[i], all[i + rng.below(n - i)]);
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

// Sum in fixed blocks added in order: the same result whatever the thread count.
double ordered_sum(const std::vector<double>& v) {
  double total = 0.0;
  for (double x : v) total += x;
  return total;
}

// k-means++ over the sample points x[pts[i]]. A point's distance to the newest centroid is
// computed only where it could fall below the point's current least (mind): the triangle
// inequality says it cannot when the newest centroid lies at least twice as far from the
// point's current nearest centroid (its owner) as the point does, i.e. when
// l2sq(owner, newest) >= 4 mind. The test carries a margin for float32 rounding (16 relative
// errors of a dim-long sum), so every point it skips would have kept its mind: the centroids
// chosen are those of computing every distance. Distances near float32's subnormal range round
// on an absolute grid the margin does not cover: points whose mind is below 2^-100 are never
// skipped; nor where l2sq(owner, newest) overflowed float32 (inf says nothing of how far the
// newest centroid is). On clustered data most points are skipped once their own cluster has a centroid
// (graph.md section 50).
std::vector<float> kmeanspp(const float* x, const std::vector<size_t>& pts, size_t dim, size_t k, Rng& rng,
                            ThreadPool& pool) {
  const auto& kern = simd::kernels();
  const size_t m = pts.size();
  std::vector<float> centroids(k * dim);
  std::vector<float> mind(m, std::numeric_limits<float>::infinity());
  std::vector<uint32_t> owner(m, 0);
  std::vector<float> to_newest(k);  // l2sq of each chosen centroid to the newest one
  const double relative_error = (static_cast<double>(dim) + 4.0) * std::ldexp(1.0, -24);
  const double skip_factor = 4.0 * (1.0 + 16.0 * relative_error);
  const float kSmallestSkipped = std::ldexp(1.0f, -100);
  constexpr size_t kBlock = 4096;
  const size_t nblocks = (m + kBlock - 1) / kBlock;
  std::vector<double> block_sum(nblocks);

  size_t chosen = pts[rng.below(m)];
  for (size_t c = 0; c < k; ++c) {
    const float* cv = x + chosen * dim;
    std::copy(cv, cv + dim, centroids.begin() + c * dim);
    if (c + 1 == k) break;
    for (size_t o = 0; o < c; ++o) to_newest[o] = kern.l2sq(centroids.data() + o * dim, cv, dim);
    // Distances to the new centroid, per fixed block (deterministic block sums).
    pool.parallel_for(nblocks, [&](size_t b, size_t) {
      const size_t lo = b * kBlock, hi = std::min(m, lo + kBlock);
      double s = 0.0;
      for (size_t i = lo; i < hi; ++i) {
        const float apart = to_newest[owner[i]];
        const bool cannot_gain = std::isfinite(mind[i]) && mind[i] >= kSmallestSkipped && std::isfinite(apart) &&
                                 apart >= skip_factor * mind[i];
        if (!cannot_gain) {
          const float d = kern.l2sq(x + pts[i] * dim, cv, dim);
          if (d < mind[i]) {
            mind[i] = d;
            owner[i] = static_cast<uint32_t>(c);
          }
        }
        s += mind[i];
      }
      block_sum[b] = s;
    });
    const double total = ordered_sum(block_sum);
    if (!(total > 0.0)) {  // every sampled point coincides with a centroid: any choice will do
      chosen = pts[rng.below(m)];
      continue;
    }
    // Next centroid with probability proportional to the squared distance.
    const double r = rng.uniform() * total;
    size_t b = 0;
    double acc = 0.0;
    while (b + 1 < nblocks && acc + block_sum[b] < r) acc += block_sum[b++];
    size_t pick = std::min(m, b * kBlock + kBlock) - 1;
    for (size_t i = b * kBlock, hi = std::min(m, b * kBlock + kBlock); i < hi; ++i) {
      acc += mind[i];
      if (acc >= r && mind[i] > 0.0f) {
        pick = i;
        break;
      }
    }
    if (!(mind[pick] > 0.0f)) {  // rounding at the end of the block: take the last point still uncovered
      for (size_t i = m; i-- > 0;)
        if (mind[i] > 0.0f) {
          pick = i;
          break;
        }
    }
    chosen = pts[pick];
  }
  return centroids;
}

class CpuBackend final : public Backend {
 public:
  CpuBackend(const float* x, size_t n, size_t dim, size_t k, size_t threads)
      : x_(x), n_(n), dim_(dim), k_(k), pool_(threads),
        nearest_(dim, NearestCentroid::mean(n, dim, [this](size_t i) { return point(i); })) {}

  void assign(const float* centroids, int32_t* assignment, float* distance) override {
    nearest_.set_centroids(centroids, k_);
    nearest_.assign(n_, [this](size_t i) { return point(i); }, &pool_, assignment, distance);
  }

  void update(const int32_t* perm, const int64_t* offsets, float* centroids) override {
    pool_.parallel_for(k_, [&](size_t c, size_t worker) {
      const int64_t lo = offsets[c], hi = offsets[c + 1];
      if (hi <= lo) return;
      std::vector<double> sum(dim_, 0.0);
      for (int64_t t = lo; t < hi; ++t) {
        const float* p = x_ + static_cast<size_t>(perm[t]) * dim_;
        for (size_t j = 0; j < dim_; ++j) sum[j] += p[j];
      }
      const double inv = 1.0 / static_cast<double>(hi - lo);
      for (size_t j = 0; j < dim_; ++j) centroids[c * dim_ + j] = static_cast<float>(sum[j] * inv);
    });
  }

 private:
  const float* point(size_t i) const { return x_ + i * dim_; }
  const float* x_;
  size_t n_, dim_, k_;
  ThreadPool pool_;
  NearestCentroid nearest_;
};

}  // namespace

void validate(const float* x, size_t n, size_t dim, const KMeansParams& p) {
  if (dim == 0) throw InvalidArgument("kmeans: dimension must be positive");
  if (n == 0) throw InvalidArgument("kmeans: no points");
  if (p.k == 0) throw InvalidArgument("kmeans: k must be positive");
  if (p.k > n)
    throw InvalidArgument("kmeans: k = " + std::to_string(p.k) + " is larger than the number of points (" +
                          std::to_string(n) + ")");
  if (p.k > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
      n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InvalidArgument("kmeans: at most 2^31 - 1 points and clusters");
  if (!x) throw InvalidArgument("kmeans: null data");
  for (size_t i = 0, total = n * dim; i < total; ++i)
    if (!std::isfinite(x[i]))
      throw InvalidArgument("kmeans: non-finite value at row " + std::to_string(i / dim) + ", column " +
                            std::to_string(i % dim));
}

std::vector<float> initial_centroids(const float* x, size_t n, size_t dim, const KMeansParams& p) {
  Rng rng(p.seed);
  const size_t k = p.k;
  const size_t sample = std::min(n, std::max<size_t>(8192, 32 * k));
  KMeansInit init = p.init;
  if (init == KMeansInit::Auto) {
    const double cost = static_cast<double>(k) * static_cast<double>(sample) * static_cast<double>(dim);
    init = cost <= 8589934592.0 ? KMeansInit::KMeansPlusPlus : KMeansInit::Random;
  }
  if (init == KMeansInit::Random) {
    std::vector<float> centroids(k * dim);
    const std::vector<size_t> pick = sample_indices(n, k, rng);
    for (size_t c = 0; c < k; ++c) std::copy(x + pick[c] * dim, x + (pick[c] + 1) * dim, centroids.begin() + c * dim);
    return centroids;
  }
  if (init != KMeansInit::KMeansPlusPlus) throw InvalidArgument("kmeans: unknown init method");
  const std::vector<size_t> pts = sample_indices(n, sample, rng);
  ThreadPool pool(p.threads);
  return kmeanspp(x, pts, dim, k, rng, pool);
}

size_t repair_empty_clusters(int32_t* assignment, const float* distance, size_t n, size_t k) {
  std::vector<int64_t> count(k, 0);
  for (size_t i = 0; i < n; ++i) ++count[static_cast<size_t>(assignment[i])];
  std::vector<size_t> empty;
  for (size_t c = 0; c < k; ++c)
    if (count[c] == 0) empty.push_back(c);
  if (empty.empty()) return 0;

  // Points of each cluster, farthest first (ties: smaller index).
  std::vector<int32_t> perm;
  std::vector<int64_t> offsets;
  order_by_cluster(assignment, n, k, perm, offsets);
  for (size_t c = 0; c < k; ++c)
    std::sort(perm.begin() + offsets[c], perm.begin() + offsets[c + 1], [&](int32_t a, int32_t b) {
      return distance[a] > distance[b] || (distance[a] == distance[b] && a < b);
    });
  std::vector<int64_t> taken(k, 0);

  // Largest cluster first (ties: smaller cluster index).
  auto cmp = [](const std::pair<int64_t, size_t>& a, const std::pair<int64_t, size_t>& b) {
    return a.first < b.first || (a.first == b.first && a.second > b.second);
  };
  std::priority_queue<std::pair<int64_t, size_t>, std::vector<std::pair<int64_t, size_t>>, decltype(cmp)> heap(cmp);
  for (size_t c = 0; c < k; ++c)
    if (count[c] > 1) heap.emplace(count[c], c);
  size_t repaired = 0;
  for (size_t e : empty) {
    if (heap.empty()) break;  // cannot happen while k <= n
    auto [cnt, c] = heap.top();
    heap.pop();
    const int32_t point = perm[static_cast<size_t>(offsets[c] + taken[c]++)];
    assignment[point] = static_cast<int32_t>(e);
    ++repaired;
    if (cnt - 1 > 1) heap.emplace(cnt - 1, c);
  }
  return repaired;
}

void order_by_cluster(const int32_t* assignment, size_t n, size_t k, std::vector<int32_t>& perm,
                      std::vector<int64_t>& offsets) {
  offsets.assign(k + 1, 0);
  for (size_t i = 0; i < n; ++i) ++offsets[static_cast<size_t>(assignment[i]) + 1];
  for (size_t c = 0; c < k; ++c) offsets[c + 1] += offsets[c];
  std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
  perm.resize(n);
  for (size_t i = 0; i < n; ++i) perm[static_cast<size_t>(next[static_cast<size_t>(assignment[i])]++)] = static_cast<int32_t>(i);
}

KMeansResult lloyd(size_t n, size_t dim, const KMeansParams& p, std::vector<float> centroids, Backend& backend) {
  const size_t k = p.k;
  std::vector<int32_t> assign(n, -1), previous(n, -1);
  std::vector<float> dist(n);
  std::vector<int32_t> perm;
  std::vector<int64_t> offsets;

  KMeansResult r;
  r.k = k;
  r.dim = dim;
  // Each pass assigns against the current centroids, so the returned assignment and inertia
  // always belong to the returned centroids.
  for (size_t it = 0;; ++it) {
    backend.assign(centroids.data(), assign.data(), dist.data());
    const bool changed = it == 0 || assign != previous;
    if (!changed || it >= p.iters) break;  // a fixed point, or the last allowed update is done
    repair_empty_clusters(assign.data(), dist.data(), n, k);
    previous = assign;  // after the repair: the assignment the update below uses
    order_by_cluster(assign.data(), n, k, perm, offsets);
    backend.update(perm.data(), offsets.data(), centroids.data());
    r.iterations = it + 1;
  }

  double inertia = 0.0;
  for (size_t i = 0; i < n; ++i) inertia += dist[i];
  r.inertia = inertia;
  r.centroids = std::move(centroids);
  r.assignment.assign(assign.begin(), assign.end());
  return r;
}

}  // namespace kmeans_detail

KMeansResult kmeans(const float* x, size_t n, size_t dim, const KMeansParams& params) {
  kmeans_detail::validate(x, n, dim, params);
  std::vector<float> init = kmeans_detail::initial_centroids(x, n, dim, params);
  kmeans_detail::CpuBackend backend(x, n, dim, params.k, params.threads);
  return kmeans_detail::lloyd(n, dim, params, std::move(init), backend);
}

}  // namespace vidx
