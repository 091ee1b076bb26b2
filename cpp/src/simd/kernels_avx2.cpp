// AVX2 + FMA kernels (compiled with -mavx2 -mfma only in this file). Tails of fewer than
// eight floats use masked loads so odd dimensions never read past a vector.
#include <immintrin.h>

#include "vidx/simd/kernels.hpp"

namespace vidx::simd {
namespace {

inline __m256i tail_mask(size_t remaining) {
  // Lane j is active when j < remaining.
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(remaining)), lane);
}

inline float horizontal_sum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v);
  const __m128 hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline void prefetch_vector(const float* x, size_t dim) {
  const char* p = reinterpret_cast<const char*>(x);
  const size_t bytes = dim * sizeof(float);
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

float l2sq(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  if (i + 8 <= dim) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    i += 8;
  }
  if (i < dim) {
    const __m256i m = tail_mask(dim - i);
    const __m256 d0 = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
    acc1 = _mm256_fmadd_ps(d0, d0, acc1);
  }
  return horizontal_sum(_mm256_add_ps(acc0, acc1));
}

float dot(const float* a, const float* b, size_t dim) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  if (i + 8 <= dim) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    i += 8;
  }
  if (i < dim) {
    const __m256i m = tail_mask(dim - i);
    acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc1);
  }
  return horizontal_sum(_mm256_add_ps(acc0, acc1));
}

void l2sq_batch(const float* q, const float* const* xs, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n) prefetch_vector(xs[i + 1], dim);
    out[i] = l2sq(q, xs[i], dim);
  }
}

void dot_batch(const float* q, const float* const* xs, size_t n, size_t dim, float* out) {
  for (size_t i = 0; i < n; ++i) {
    if (i + 1 < n) prefetch_vector(xs[i + 1], dim);
    out[i] = dot(q, xs[i], dim);
  }
}

// Sums kBoundCheckDims dimensions at a time (a multiple of the register width) and stops
// as soon as the partial sum reaches the bound; only the first lines of the next vector are
// prefetched, the hardware streams the rest if the kernel gets that far.
void l2sq_batch_bounded(const float* q, const float* const* xs, size_t n, size_t dim, float bound, float* out) {
  static_assert(kBoundCheckDims % 16 == 0, "checks must fall on a loop boundary");
  const size_t full = dim / kBoundCheckDims * kBoundCheckDims;
  for (size_t v = 0; v < n; ++v) {
    const float* x = xs[v];
    if (v + 1 < n) prefetch_vector(xs[v + 1], dim < kBoundCheckDims ? dim : kBoundCheckDims);
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float sum = 0.f;
    size_t i = 0;
    bool abandoned = false;
    while (i < full) {
      const size_t stop = i + kBoundCheckDims;
      for (; i < stop; i += 16) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(x + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), _mm256_loadu_ps(x + i + 8));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
      }
      sum = horizontal_sum(_mm256_add_ps(acc0, acc1));
      if (sum >= bound) {
        abandoned = true;
        break;
      }
    }
    out[v] = abandoned ? sum : (i < dim ? sum + l2sq(q + i, x + i, dim - i) : sum);
  }
}

}  // namespace

const KernelTable& avx2_kernels() {
  static const KernelTable table{Level::AVX2, l2sq, dot, l2sq_batch, dot_batch, l2sq_batch_bounded};
  return table;
}

}  // namespace vidx::simd
