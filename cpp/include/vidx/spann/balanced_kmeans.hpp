// Head selection for SPANN: hierarchical balanced k-means.
//
// Each node of the tree is split by a balanced k-means whose assignment cost is
//   d(x, c_j) + lambda * |C_j|        (|C_j|: the cluster's size in the previous iteration)
// so that a point prefers a smaller cluster when the two are nearly equally close. lambda is
// chosen per node: a few candidate factors are tried on a sample of the node and the smallest
// one whose largest cluster stays within 1.5x of the mean size is kept (else the one with the
// most even sizes). Nodes are split until they hold about n / heads points; every leaf
// yields one head, the real data point nearest to the leaf's centroid.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "vidx/common/thread_pool.hpp"

namespace vidx::spann {

struct BalancedKMeansParams {
  size_t k = 2;
  size_t iters = 10;
  uint64_t seed = 0;
};

struct BalancedKMeansResult {
  std::vector<float> centroids;      // k x dim
  std::vector<uint32_t> assignment;  // per point: cluster in [0, k)
  std::vector<uint32_t> sizes;       // k
  double lambda = 0;                 // the balance weight that was used
};

// Balanced k-means of the m points x[idx[i]] (rows of `dim` floats, squared L2). pool may be
// null (runs on the calling thread). Deterministic for a seed, whatever the thread count.
BalancedKMeansResult balanced_kmeans(const float* x, const uint32_t* idx, size_t m, size_t dim,
                                     const BalancedKMeansParams& params, ThreadPool* pool);

struct HeadSelectionParams {
  size_t heads = 1;     // wanted number of heads (approximately met)
  size_t branch = 16;   // children per split
  size_t iters = 10;
  uint64_t seed = 0;
};

// Returns the rows of x (n x dim) chosen as heads, ascending. progress(done, total) is called
// from the calling thread as points settle into leaves.
std::vector<uint32_t> select_heads(const float* x, size_t n, size_t dim, const HeadSelectionParams& params,
                                   ThreadPool& pool, const std::function<void(size_t, size_t)>& progress);

}  // namespace vidx::spann
