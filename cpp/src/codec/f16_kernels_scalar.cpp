// Portable float16 kernels: the reference the SIMD levels are tested against. Eight
// independent sums, as the SIMD levels keep several accumulators.
#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/float16.hpp"

namespace vidx::f16k {
namespace {

constexpr size_t kLanes = 8;

inline float total(const float* acc) {
  float s = 0.f;
  for (size_t l = 0; l < kLanes; ++l) s += acc[l];
  return s;
}

float l2_range(const float* q, const uint16_t* x, size_t begin, size_t end, float* acc) {
  for (size_t i = begin; i < end; ++i) {
    const float d = q[i] - f16::to_float(x[i]);
    acc[i % kLanes] += d * d;
  }
  return total(acc);
}

float l2(const float* q, const uint16_t* x, size_t dim) {
  float acc[kLanes] = {};
  return l2_range(q, x, 0, dim, acc);
}

float dot(const float* q, const uint16_t* x, size_t dim) {
  float acc[kLanes] = {};
  for (size_t i = 0; i < dim; ++i) acc[i % kLanes] += q[i] * f16::to_float(x[i]);
  return total(acc);
}

float l2_pair(const uint16_t* a, const uint16_t* b, size_t dim) {
  float acc[kLanes] = {};
  for (size_t i = 0; i < dim; ++i) {
    const float d = f16::to_float(a[i]) - f16::to_float(b[i]);
    acc[i % kLanes] += d * d;
  }
  return total(acc);
}

float dot_pair(const uint16_t* a, const uint16_t* b, size_t dim) {
  float acc[kLanes] = {};
  for (size_t i = 0; i < dim; ++i) acc[i % kLanes] += f16::to_float(a[i]) * f16::to_float(b[i]);
  return total(acc);
}

float l2_bounded(const float* q, const uint16_t* x, size_t dim, float bound) {
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + simd::kBoundCheckDims < dim; i += simd::kBoundCheckDims) {
    const float partial = l2_range(q, x, i, i + simd::kBoundCheckDims, acc);
    if (partial >= bound) return partial;
  }
  return l2_range(q, x, i, dim, acc);
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table{simd::Level::Scalar, l2, dot, l2_pair, dot_pair, l2_bounded};
  return table;
}

}  // namespace vidx::f16k
