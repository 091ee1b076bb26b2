#include "vidx/spann/balanced_kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "vidx/cluster/kmeans.hpp"
#include "vidx/cluster/nearest_centroid.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::spann {
namespace {

// Runs fn(i) for i in [0, n) on the pool, or inline without one.
template <class Fn>
void for_each_index(ThreadPool* pool, size_t n, Fn&& fn, size_t chunk = 64) {
  if (pool == nullptr || n < 2 * chunk) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  pool->parallel_for(n, [&](size_t i, size_t) { fn(i); }, chunk);
}

// k distinct members of the node, chosen by a seeded partial shuffle.
std::vector<float> initial_centroids(const float* x, const uint32_t* idx, size_t m, size_t dim, size_t k,
                                     uint64_t seed) {
  std::vector<uint32_t> order(m);
  for (size_t i = 0; i < m; ++i) order[i] = static_cast<uint32_t>(i);
  Rng rng(seed);
  std::vector<float> c(k * dim);
  for (size_t j = 0; j < k; ++j) {
    const size_t pick = j + static_cast<size_t>(rng.below(m - j));
    std::swap(order[j], order[pick]);
    std::copy_n(x + static_cast<size_t>(idx[order[j]]) * dim, dim, c.data() + j * dim);
  }
  return c;
}

// The balanced assignment step for the shared Lloyd loop (vidx/cluster/kmeans.hpp: empty
// cluster repair, ordered means, convergence test): cluster c costs d(x, c) + lambda * |c|,
// |c| its size in the previous assignment (the first pass uses plain distances). Nearest
// centroids are found as vidx::kmeans finds them (vidx/cluster/nearest_centroid.hpp).
class BalancedBackend final : public kmeans_detail::Backend {
 public:
  BalancedBackend(const float* x, const uint32_t* idx, size_t m, size_t dim, size_t k, double lambda, ThreadPool* pool)
      : x_(x), idx_(idx), m_(m), dim_(dim), k_(k), lambda_(lambda), pool_(pool), sizes_(k, 0), penalty_(k, 0.0),
        nearest_(dim, kmeans_detail::NearestCentroid::mean(m, dim, [this](size_t i) { return point(i); })) {}

  void assign(const float* centroids, int32_t* assignment, float* distance) override {
    for (size_t c = 0; c < k_; ++c) penalty_[c] = lambda_ * sizes_[c];
    nearest_.set_centroids(centroids, k_, first_ ? nullptr : penalty_.data());
    nearest_.assign(m_, [this](size_t i) { return point(i); }, pool_, assignment, distance);
    sizes_.assign(k_, 0);
    for (size_t i = 0; i < m_; ++i) ++sizes_[static_cast<size_t>(assignment[i])];
    first_ = false;
  }

  void update(const int32_t* perm, const int64_t* offsets, float* centroids) override {
    for_each_index(
        pool_, k_,
        [&](size_t c) {
          if (offsets[c + 1] <= offsets[c]) return;
          std::vector<double> sum(dim_, 0.0);
          for (int64_t t = offsets[c]; t < offsets[c + 1]; ++t) {
            const float* p = point(static_cast<size_t>(perm[t]));
            for (size_t d = 0; d < dim_; ++d) sum[d] += p[d];
          }
          const double inv = 1.0 / static_cast<double>(offsets[c + 1] - offsets[c]);
          for (size_t d = 0; d < dim_; ++d) centroids[c * dim_ + d] = static_cast<float>(sum[d] * inv);
        },
        1);
  }

  const std::vector<uint32_t>& sizes() const { return sizes_; }

 private:
  const float* point(size_t i) const { return x_ + static_cast<size_t>(idx_[i]) * dim_; }
  const float* x_;
  const uint32_t* idx_;
  size_t m_, dim_, k_;
  double lambda_;
  ThreadPool* pool_;
  std::vector<uint32_t> sizes_;
  std::vector<double> penalty_;  // lambda * |c|
  kmeans_detail::NearestCentroid nearest_;
  bool first_ = true;
};

struct BalancedRun {
  std::vector<float> centroids;
  std::vector<uint32_t> assignment, sizes;
  double mean_distance = 0;  // of the final assignment
};

// `iters` balanced Lloyd updates from `centroids` on the points x[idx[0..m)].
BalancedRun run_balanced(const float* x, const uint32_t* idx, size_t m, size_t dim, size_t k, double lambda,
                         size_t iters, std::vector<float> centroids, ThreadPool* pool) {
  BalancedBackend backend(x, idx, m, dim, k, lambda, pool);
  KMeansParams p;
  p.k = k;
  p.iters = iters;
  KMeansResult r = kmeans_detail::lloyd(m, dim, p, std::move(centroids), backend);
  BalancedRun out;
  out.centroids = std::move(r.centroids);
  out.assignment.assign(r.assignment.begin(), r.assignment.end());
  out.sizes = backend.sizes();
  out.mean_distance = r.inertia / static_cast<double>(m);
  return out;
}

double imbalance(const std::vector<uint32_t>& sizes, size_t m) {
  const double mean = static_cast<double>(m) / static_cast<double>(sizes.size());
  return *std::max_element(sizes.begin(), sizes.end()) / std::max(mean, 1.0);
}

}  // namespace

BalancedKMeansResult balanced_kmeans(const float* x, const uint32_t* idx, size_t m, size_t dim,
                                     const BalancedKMeansParams& params, ThreadPool* pool) {
  if (params.k == 0 || params.k > m) throw InvalidArgument("balanced k-means needs 1 <= k <= number of points");
  const size_t k = params.k;
  const std::vector<float> init = initial_centroids(x, idx, m, dim, k, params.seed);

  // Choose lambda on a sample of the node: a seeded subset of at most 2048 points.
  const size_t sub_m = std::min<size_t>(m, std::max<size_t>(2048, 8 * k));
  std::vector<uint32_t> sub(idx, idx + m);
  if (sub_m < m) {
    Rng rng(params.seed ^ 0x5bd1e995ull);
    for (size_t j = 0; j < sub_m; ++j) std::swap(sub[j], sub[j + static_cast<size_t>(rng.below(m - j))]);
    sub.resize(sub_m);
  }
  const double avg_d = run_balanced(x, sub.data(), sub_m, dim, k, 0.0, 0, init, nullptr).mean_distance;
  static const double kFactors[] = {0.0, 0.1, 0.4, 1.6, 6.4};
  double chosen = -1, best_spread = std::numeric_limits<double>::infinity(), best_factor = 0;
  for (double f : kFactors) {
    const BalancedRun t = run_balanced(x, sub.data(), sub_m, dim, k, f * avg_d / (static_cast<double>(sub_m) / k), 4,
                                       init, nullptr);
    const double spread = imbalance(t.sizes, sub_m);
    if (spread <= 1.5) {
      chosen = f;
      break;
    }
    if (spread < best_spread) {
      best_spread = spread;
      best_factor = f;
    }
  }
  if (chosen < 0) chosen = best_factor;

  BalancedKMeansResult r;
  r.lambda = chosen * avg_d / (static_cast<double>(m) / k);
  BalancedRun full = run_balanced(x, idx, m, dim, k, r.lambda, params.iters, init, pool);
  r.centroids = std::move(full.centroids);
  r.assignment = std::move(full.assignment);
  r.sizes = std::move(full.sizes);
  return r;
}

namespace {

struct NodeResult {
  int64_t head = -1;                         // a leaf: its head
  std::vector<std::vector<uint32_t>> kids;   // an inner node: its children
};

uint32_t nearest_to_mean(const float* x, const std::vector<uint32_t>& node, size_t dim) {
  std::vector<double> mean(dim, 0.0);
  for (uint32_t i : node)
    for (size_t d = 0; d < dim; ++d) mean[d] += x[static_cast<size_t>(i) * dim + d];
  std::vector<float> c(dim);
  for (size_t d = 0; d < dim; ++d) c[d] = static_cast<float>(mean[d] / node.size());
  const auto l2 = simd::kernels().l2sq;
  uint32_t best = node[0];
  float best_d = std::numeric_limits<float>::infinity();
  for (uint32_t i : node) {
    const float d = l2(x + static_cast<size_t>(i) * dim, c.data(), dim);
    if (d < best_d) {
      best_d = d;
      best = i;
    }
  }
  return best;
}

NodeResult process_node(const float* x, std::vector<uint32_t>& node, size_t dim, size_t leaf, size_t branch,
                        size_t iters, uint64_t seed, ThreadPool* pool) {
  NodeResult out;
  const size_t m = node.size();
  // Children of about `leaf` points: a node becomes a leaf below 1.5 leaf sizes, so leaves
  // hold between 0.75 and 1.5 leaf sizes once balanced, and the head count lands near n / leaf.
  const size_t k = std::min<size_t>({branch, static_cast<size_t>(std::llround(static_cast<double>(m) / leaf)), m});
  if (k < 2) {
    out.head = nearest_to_mean(x, node, dim);
    return out;
  }
  BalancedKMeansParams p;
  p.k = k;
  p.iters = iters;
  p.seed = splitmix64(seed ^ (uint64_t(node[0]) << 32) ^ m);
  BalancedKMeansResult r = balanced_kmeans(x, node.data(), m, dim, p, pool);
  out.kids.resize(k);
  for (size_t c = 0; c < k; ++c) out.kids[c].reserve(r.sizes[c]);
  for (size_t i = 0; i < m; ++i) out.kids[r.assignment[i]].push_back(node[i]);
  // Identical points cannot be separated by distance: split such a node by position instead.
  for (const auto& kid : out.kids)
    if (kid.size() == m) {
      out.kids.assign(k, {});
      for (size_t i = 0; i < m; ++i) out.kids[i * k / m].push_back(node[i]);
      break;
    }
  out.kids.erase(std::remove_if(out.kids.begin(), out.kids.end(), [](const auto& v) { return v.empty(); }),
                 out.kids.end());
  return out;
}

}  // namespace

std::vector<uint32_t> select_heads(const float* x, size_t n, size_t dim, const HeadSelectionParams& params,
                                   ThreadPool& pool, const std::function<void(size_t, size_t)>& progress) {
  if (n == 0) return {};
  const size_t heads = std::max<size_t>(1, std::min(params.heads, n));
  const size_t leaf = std::max<size_t>(1, static_cast<size_t>(std::llround(static_cast<double>(n) / heads)));
  const size_t branch = std::max<size_t>(2, params.branch);
  std::vector<uint32_t> chosen;
  std::vector<std::vector<uint32_t>> level(1);
  level[0].resize(n);
  for (size_t i = 0; i < n; ++i) level[0][i] = static_cast<uint32_t>(i);
  size_t settled = 0;
  constexpr size_t kBigNode = 16384;  // nodes this large parallelise inside; smaller ones across nodes
  while (!level.empty()) {
    std::vector<NodeResult> results(level.size());
    std::vector<size_t> small;
    for (size_t j = 0; j < level.size(); ++j) {
      if (level[j].size() >= kBigNode) {
        results[j] = process_node(x, level[j], dim, leaf, branch, params.iters, params.seed, &pool);
        if (progress) progress(settled, n);
      } else {
        small.push_back(j);
      }
    }
    pool.parallel_for(small.size(), [&](size_t s, size_t) {
      const size_t j = small[s];
      results[j] = process_node(x, level[j], dim, leaf, branch, params.iters, params.seed, nullptr);
    });
    std::vector<std::vector<uint32_t>> next;
    for (size_t j = 0; j < level.size(); ++j) {
      if (results[j].head >= 0) {
        chosen.push_back(static_cast<uint32_t>(results[j].head));
        settled += level[j].size();
      } else {
        for (auto& kid : results[j].kids) next.push_back(std::move(kid));
      }
      std::vector<uint32_t>().swap(level[j]);
    }
    level = std::move(next);
    if (progress) progress(settled, n);
  }
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace vidx::spann
