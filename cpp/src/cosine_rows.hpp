// Rows as an index compares them: cosine indexes store and compare unit vectors. Private to
// the core sources (add, search and range_search share it).
#pragma once
#include <vector>

#include "vidx/common/metric.hpp"

namespace vidx {

// Normalised copies of x in `buffer` for cosine; x itself for other metrics.
inline const float* normalized_if_cosine(Metric metric, const float* x, size_t n, size_t dim,
                                         std::vector<float>& buffer) {
  if (metric != Metric::Cosine) return x;
  buffer.assign(x, x + n * dim);
  for (size_t r = 0; r < n; ++r) normalize_in_place(buffer.data() + r * dim, dim);
  return buffer.data();
}

}  // namespace vidx
