#include "vidx/spann/balanced_kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

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

struct Lloyd {
  const float* x;
  const uint32_t* idx;
  size_t m;
  size_t dim;
  size_t k;
  ThreadPool* pool;
  simd::PairFn l2 = simd::kernels().l2sq;

  // Assigns every point by d + lambda * prev_sizes[c]; returns the sum of raw distances.
  double assign(const std::vector<float>& centroids, double lambda, const std::vector<uint32_t>& prev_sizes,
                std::vector<uint32_t>& assignment, std::vector<float>& dist) const {
    assignment.resize(m);
    dist.resize(m);
    for_each_index(pool, m, [&](size_t i) {
      const float* p = x + static_cast<size_t>(idx[i]) * dim;
      double best = std::numeric_limits<double>::infinity();
      uint32_t best_c = 0;
      float best_d = 0;
      for (size_t c = 0; c < k; ++c) {
        const float d = l2(p, centroids.data() + c * dim, dim);
        const double cost = d + lambda * prev_sizes[c];
        if (cost < best) {
          best = cost;
          best_c = static_cast<uint32_t>(c);
          best_d = d;
        }
      }
      assignment[i] = best_c;
      dist[i] = best_d;
    });
    double sum = 0;
    for (size_t i = 0; i < m; ++i) sum += dist[i];
    return sum;
  }

  // New centroids: means of the clusters (summed in double, in point order). An empty cluster
  // takes the point farthest from its centroid in the largest cluster.
  void update(const std::vector<uint32_t>& assignment, const std::vector<float>& dist, std::vector<float>& centroids,
              std::vector<uint32_t>& sizes) const {
    std::vector<double> sums(k * dim, 0.0);
    sizes.assign(k, 0);
    for (size_t i = 0; i < m; ++i) {
      const uint32_t c = assignment[i];
      ++sizes[c];
      const float* p = x + static_cast<size_t>(idx[i]) * dim;
      double* s = sums.data() + static_cast<size_t>(c) * dim;
      for (size_t d = 0; d < dim; ++d) s[d] += p[d];
    }
    for (size_t c = 0; c < k; ++c) {
      if (sizes[c] == 0) continue;
      for (size_t d = 0; d < dim; ++d) centroids[c * dim + d] = static_cast<float>(sums[c * dim + d] / sizes[c]);
    }
    for (size_t c = 0; c < k; ++c) {
      if (sizes[c] != 0) continue;
      const size_t largest = static_cast<size_t>(std::max_element(sizes.begin(), sizes.end()) - sizes.begin());
      size_t far = m;
      float far_d = -1;
      for (size_t i = 0; i < m; ++i)
        if (assignment[i] == largest && dist[i] > far_d) {
          far_d = dist[i];
          far = i;
        }
      if (far == m || sizes[largest] < 2) break;
      std::copy_n(x + static_cast<size_t>(idx[far]) * dim, dim, centroids.data() + c * dim);
      --sizes[largest];
      sizes[c] = 1;
    }
  }

  // `iters` balanced iterations from `centroids`; returns the final sizes.
  void run(std::vector<float>& centroids, double lambda, size_t iters, std::vector<uint32_t>& assignment,
           std::vector<uint32_t>& sizes) const {
    std::vector<float> dist;
    std::vector<uint32_t> prev(k, static_cast<uint32_t>(m / k));
    for (size_t it = 0; it < iters; ++it) {
      assign(centroids, it == 0 ? 0.0 : lambda, prev, assignment, dist);
      update(assignment, dist, centroids, sizes);
      prev = sizes;
    }
    // The final assignment, balanced against the last sizes, is what the caller gets.
    assign(centroids, lambda, prev, assignment, dist);
    sizes.assign(k, 0);
    for (uint32_t c : assignment) ++sizes[c];
  }
};

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
  Lloyd trial{x, sub.data(), sub_m, dim, k, nullptr};
  std::vector<uint32_t> a, sizes;
  std::vector<float> dist;
  const double avg_d = trial.assign(init, 0.0, std::vector<uint32_t>(k, 0), a, dist) / static_cast<double>(sub_m);
  static const double kFactors[] = {0.0, 0.1, 0.4, 1.6, 6.4};
  double chosen = -1, best_spread = std::numeric_limits<double>::infinity(), best_factor = 0;
  for (double f : kFactors) {
    std::vector<float> c = init;
    trial.run(c, f * avg_d / (static_cast<double>(sub_m) / k), 4, a, sizes);
    const double spread = imbalance(sizes, sub_m);
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
  r.centroids = init;
  r.lambda = chosen * avg_d / (static_cast<double>(m) / k);
  Lloyd full{x, idx, m, dim, k, pool};
  full.run(r.centroids, r.lambda, params.iters, r.assignment, r.sizes);
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
