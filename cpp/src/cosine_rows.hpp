// Rows as an index compares them: cosine indexes store and compare unit vectors. Private to
// the core sources (add, search and range_search share it).
#pragma once
#include <vector>

#include "vidx/common/metric.hpp"

namespace vidx {

// Normalised copies of x in `buffer` for cosine; x itself for other metrics. With `norms`, the
// length of each row (what get() scales the stored unit vector back by, kept as a float32)
// goes there for cosine; `norms` is left empty for other metrics. Rows were checked before
// (check_vectors_for: not zero, lengths within float32's range).
inline const float* normalized_if_cosine(Metric metric, const float* x, size_t n, size_t dim,
                                         std::vector<float>& buffer, std::vector<float>* norms = nullptr) {
  if (norms) norms->clear();
  if (metric != Metric::Cosine) return x;
  if (norms) norms->resize(n);
  buffer.assign(x, x + n * dim);
  for (size_t r = 0; r < n; ++r) {
    const double norm = normalize_in_place(buffer.data() + r * dim, dim);
    if (norms) (*norms)[r] = static_cast<float>(norm);
  }
  return buffer.data();
}

}  // namespace vidx
