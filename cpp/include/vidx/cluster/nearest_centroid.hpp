// The nearest centroid of many points at once, for k-means' assignment step (vidx::kmeans and
// SPANN's balanced clustering).
//
// Each point's distance to every centroid is first estimated from inner products computed a
// few points and many centroids at a time (simd::KernelTable::panel_distances): |x - c|^2 =
// |x|^2 - 2 <x, c> + |c|^2, with points and centroids centred on the points' mean so the
// estimate loses little to cancellation. The estimate's rounding error has a bound; every
// centroid whose estimate lies within twice that bound of the best one (simd::KernelTable::
// not_above) is then scored exactly (l2sq, as one point against one centroid). So the answer is
// the one the exact distances give, ties to the smaller index: the centroid and distance a scan
// of every centroid with l2sq returns, at a fraction of its time (graph.md section 50).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "vidx/common/thread_pool.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::kmeans_detail {

class NearestCentroid {
 public:
  // centre: dim floats (the points' mean) that points and centroids are taken relative to in the
  // estimates; any centre gives the same answers, a central one fewer exact scores.
  NearestCentroid(size_t dim, std::vector<float> centre);

  // The centroids of the coming assignments (k x dim, row-major), kept by pointer: they must
  // outlive the assignments. extra (k values, or nullptr for none) is added to each centroid's
  // distance when choosing the nearest (balanced k-means' penalty for large clusters).
  void set_centroids(const float* centroids, size_t k, const double* extra = nullptr);

  // For each of the n points point(i), the centroid c of least l2sq(point, c) + extra[c] (ties:
  // the smaller c) and its l2sq, kMaxPoints points at a time on the pool's threads (or on the
  // calling thread without a pool).
  static constexpr size_t kMaxPoints = 64;
  void assign(size_t n, const std::function<const float*(size_t)>& point, ThreadPool* pool, int32_t* assignment,
              float* distance);

  // The mean of the rows points[i] (i < n), summed in double in row order.
  template <class Row>
  static std::vector<float> mean(size_t n, size_t dim, Row points) {
    std::vector<double> sum(dim, 0.0);
    for (size_t i = 0; i < n; ++i) {
      const float* p = points(i);
      for (size_t j = 0; j < dim; ++j) sum[j] += p[j];
    }
    std::vector<float> m(dim);
    for (size_t j = 0; j < dim; ++j) m[j] = n ? static_cast<float>(sum[j] / static_cast<double>(n)) : 0.f;
    return m;
  }

 private:
  // One worker's buffers.
  struct Scratch {
    std::vector<float> rows, estimates;
    std::vector<uint32_t> candidates;
  };
  // The points points[0..count) (count <= kMaxPoints).
  void assign_group(const float* const* points, size_t count, Scratch& scratch, int32_t* assignment,
                    float* distance) const;
  size_t nearest(const float* point, const float* centred, const float* estimates, float least, Scratch& scratch,
                 float* distance) const;

  const simd::KernelTable& kernels_;
  size_t dim_;
  std::vector<float> centre_;
  const float* centroids_ = nullptr;
  size_t k_ = 0, padded_k_ = 0;
  std::vector<float> panels_;   // the centred centroids, laid out for panel_distances (zero past k)
  std::vector<float> offsets_;  // |c - centre|^2 + extra[c] per centroid (+inf past k)
  std::vector<double> extra_;   // empty without extra
  double largest_norm_ = 0;     // max |c - centre|
  double largest_extra_ = 0;    // max |extra[c]|
  std::vector<Scratch> scratch_;  // one per worker
};

}  // namespace vidx::kmeans_detail
