#include "bound_calibration.hpp"

#include <algorithm>
#include <utility>

namespace vidx::calibration {

std::vector<float> near_pair_check_scales(const float* rows, size_t m, size_t dim, size_t queries,
                                          const simd::KernelTable& k) {
  constexpr size_t kBlock = simd::kBoundCheckDims;
  const size_t checks = dim / kBlock;
  if (checks == 0 || m <= kNeighbours) return {};
  std::vector<const float*> sample(m);
  for (size_t i = 0; i < m; ++i) sample[i] = rows + i * dim;

  std::vector<float> scales(checks, 0.f);
  std::vector<float> distances(m);
  std::vector<std::pair<float, size_t>> order(m);
  queries = std::min(m, queries);
  size_t pairs = 0;
  for (size_t qi = 0; qi < queries; ++qi) {
    const size_t self = qi * m / queries;
    const float* q = sample[self];
    k.l2sq_batch(q, sample.data(), m, dim, distances.data());
    size_t count = 0;
    for (size_t i = 0; i < m; ++i)
      if (i != self && distances[i] > 0) order[count++] = {distances[i], i};  // duplicates say nothing
    const size_t near = std::min(count, kNeighbours);
    pairs += near;
    std::partial_sort(order.begin(), order.begin() + near, order.begin() + count);
    for (size_t j = 0; j < near; ++j) {
      const auto [whole, i] = order[j];
      for (size_t b = 0; b < checks; ++b) {
        const float share = k.l2sq(q, sample[i], (b + 1) * kBlock) / whole;
        scales[b] = std::max(scales[b], share);
      }
    }
  }
  if (pairs == 0) return {};  // every sampled row a duplicate: nothing to learn from
  for (size_t b = 0; b < checks; ++b)
    scales[b] = (b + 1) * kBlock >= dim ? 1.f : std::min(1.f, std::max(scales[b], 1e-3f));
  return scales;
}

}  // namespace vidx::calibration
