// AVX2 float16 kernels: F16C converts 8 codes per instruction; a scalar tail finishes
// dimensions that are not a multiple of 8.
#include <immintrin.h>

#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/float16.hpp"

namespace vidx::f16k {
namespace {

inline __m256 load_h(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

inline float reduce(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// Sums dimensions [begin, end) (a multiple of 16 apart) into two accumulators.
inline void l2_block(const float* q, const uint16_t* x, size_t begin, size_t end, __m256& a0, __m256& a1) {
  for (size_t i = begin; i < end; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), load_h(x + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), load_h(x + i + 8));
    a0 = _mm256_fmadd_ps(d0, d0, a0);
    a1 = _mm256_fmadd_ps(d1, d1, a1);
  }
}

float l2_tail(const float* q, const uint16_t* x, size_t i, size_t dim, __m256 a0, __m256 a1) {
  if (i + 8 <= dim) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(q + i), load_h(x + i));
    a0 = _mm256_fmadd_ps(d, d, a0);
    i += 8;
  }
  float s = reduce(_mm256_add_ps(a0, a1));
  for (; i < dim; ++i) {
    const float d = q[i] - f16::to_float(x[i]);
    s += d * d;
  }
  return s;
}

float l2(const float* q, const uint16_t* x, size_t dim) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  const size_t full = dim / 16 * 16;
  l2_block(q, x, 0, full, a0, a1);
  return l2_tail(q, x, full, dim, a0, a1);
}

float l2_bounded(const float* q, const uint16_t* x, size_t dim, float bound) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  const size_t full = dim / 16 * 16;
  size_t i = 0;
  for (; i + simd::kBoundCheckDims < full; i += simd::kBoundCheckDims) {
    l2_block(q, x, i, i + simd::kBoundCheckDims, a0, a1);
    const float partial = reduce(_mm256_add_ps(a0, a1));
    if (partial >= bound) return partial;
  }
  l2_block(q, x, i, full, a0, a1);
  return l2_tail(q, x, full, dim, a0, a1);
}

float dot(const float* q, const uint16_t* x, size_t dim) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_h(x + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load_h(x + i + 8), a1);
  }
  if (i + 8 <= dim) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load_h(x + i), a0);
    i += 8;
  }
  float s = reduce(_mm256_add_ps(a0, a1));
  for (; i < dim; ++i) s += q[i] * f16::to_float(x[i]);
  return s;
}

float l2_pair(const uint16_t* a, const uint16_t* b, size_t dim) {
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) {
    const __m256 d = _mm256_sub_ps(load_h(a + i), load_h(b + i));
    acc = _mm256_fmadd_ps(d, d, acc);
  }
  float s = reduce(acc);
  for (; i < dim; ++i) {
    const float d = f16::to_float(a[i]) - f16::to_float(b[i]);
    s += d * d;
  }
  return s;
}

float dot_pair(const uint16_t* a, const uint16_t* b, size_t dim) {
  __m256 acc = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= dim; i += 8) acc = _mm256_fmadd_ps(load_h(a + i), load_h(b + i), acc);
  float s = reduce(acc);
  for (; i < dim; ++i) s += f16::to_float(a[i]) * f16::to_float(b[i]);
  return s;
}

}  // namespace

const KernelTable& avx2_kernels() {
  static const KernelTable table{simd::Level::AVX2, l2, dot, l2_pair, dot_pair, l2_bounded};
  return table;
}

}  // namespace vidx::f16k
