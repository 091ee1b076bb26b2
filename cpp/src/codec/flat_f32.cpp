#include "vidx/codec/flat.hpp"

#include <cstring>
#include <vector>

#include "f32_distances.hpp"

namespace vidx {

template <>
void FlatF32Codec::encode(const float* x, uint8_t* code) const { std::memcpy(code, x, code_size()); }
template <>
void FlatF32Codec::decode(const uint8_t* code, float* x) const { std::memcpy(x, code, code_size()); }

template <>
std::unique_ptr<QueryDistance> FlatF32Codec::prepare(const float* query) const {
  if (metric() == Metric::L2) return std::make_unique<f32::L2Distance>(query, dim(), kernels_);
  return std::make_unique<f32::IpDistance>(query, dim(), kernels_);
}

template <>
float FlatF32Codec::distance_between(const uint8_t* a, const uint8_t* b) const {
  if (metric() == Metric::L2) return kernels_->l2sq(f32::as_floats(a), f32::as_floats(b), dim());
  return 1.f - kernels_->dot(f32::as_floats(a), f32::as_floats(b), dim());
}

}  // namespace vidx
