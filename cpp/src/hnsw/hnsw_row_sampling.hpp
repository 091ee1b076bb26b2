// What the build samples of an add's rows to tell how they arrive (hnsw_build.cpp's runs,
// hnsw_revisit.cpp's regions): distances summed in double, so every SIMD level and platform takes
// the same branch for the same rows.
#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

namespace vidx {

inline double squared_l2_in_double(const float* a, const float* b, size_t dim) {
  double sum = 0;
  for (size_t j = 0; j < dim; ++j) {
    const double d = static_cast<double>(a[j]) - static_cast<double>(b[j]);
    sum += d * d;
  }
  return sum;
}

// The median of v (reorders it); v is not empty.
inline double median_in_place(std::vector<double>& v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

}  // namespace vidx
