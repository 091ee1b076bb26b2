// Rows as the structures store them: unit vectors for cosine (shared by the search and write
// halves of VectorIndex).
#pragma once
#include <cstddef>
#include <vector>

#include "vidx/common/metric.hpp"

namespace vidx {

// Cosine indexes store and compare unit vectors; returns x itself for other metrics.
inline const float* normalized_if_cosine(Metric metric, const float* x, size_t n, size_t dim,
                                         std::vector<float>& buffer) {
  if (metric != Metric::Cosine) return x;
  buffer.assign(x, x + n * dim);
  for (size_t r = 0; r < n; ++r) normalize_in_place(buffer.data() + r * dim, dim);
  return buffer.data();
}

}  // namespace vidx
