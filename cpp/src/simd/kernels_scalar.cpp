// Portable kernels: the reference every SIMD level is tested against, and the only level on
// architectures without a dedicated file. Eight independent partial sums let compilers
// vectorise the loops (NEON on aarch64) without -ffast-math.
#include "vidx/simd/kernels.hpp"

namespace vidx::simd {
namespace {

constexpr size_t kLanes = 8;

float l2sq(const float* a, const float* b, size_t dim) {
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) {
      const float d = a[i + l] - b[i + l];
      acc[l] += d * d;
    }
  float sum = 0.f;
  for (; i < dim; ++i) {
    const float d = a[i] - b[i];
    sum += d * d;
  }
  for (size_t l = 0; l < kLanes; ++l) sum += acc[l];
  return sum;
}

float dot(const float* a, const float* b, size_t dim) {
  float acc[kLanes] = {};
  size_t i = 0;
  for (; i + kLanes <= dim; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) acc[l] += a[i + l] * b[i + l];
  float sum = 0.f;
  for (; i < dim; ++i) sum += a[i] * b[i];
  for (size_t l = 0; l < kLanes; ++l) sum += acc[l];
  return sum;
}

void l2sq_batch(const float* q, const float* const* xs, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = l2sq(q, xs[i], dim);
}

void dot_batch(const float* q, const float* const* xs, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) out[i] = dot(q, xs[i], dim);
}

void l2sq_batch_bounded(const float* q, const float* const* xs, size_t n, size_t dim, float bound, float* out) {
  for (size_t i = 0; i < n; ++i) {
    float sum = 0.f;
    for (size_t start = 0; start < dim; start += kBoundCheckDims) {
      const size_t len = start + kBoundCheckDims <= dim ? kBoundCheckDims : dim - start;
      sum += l2sq(q + start, xs[i] + start, len);
      if (sum >= bound) break;
    }
    out[i] = sum;
  }
}

}  // namespace

const KernelTable& scalar_kernels() {
  static const KernelTable table{Level::Scalar, l2sq, dot, l2sq_batch, dot_batch, l2sq_batch_bounded};
  return table;
}

}  // namespace vidx::simd
