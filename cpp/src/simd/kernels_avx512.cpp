// AVX-512 kernels (compiled with -mavx512f/bw/dq/vl only in this file). Tails are handled
// with masked loads, so odd dimensions never read past the end of a vector.
#include <immintrin.h>

#include "vidx/simd/kernels.hpp"

namespace vidx::simd {
namespace {

inline __mmask16 tail_mask(size_t remaining) {
  return static_cast<__mmask16>((1u << remaining) - 1u);
}

inline void prefetch_vector(const float* x, size_t dim) {
  const char* p = reinterpret_cast<const char*>(x);
  const size_t bytes = dim * sizeof(float);
  for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

float l2sq(const float* a, const float* b, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  if (i + 16 <= dim) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    i += 16;
  }
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    const __m512 d0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    acc1 = _mm512_fmadd_ps(d0, d0, acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

float dot(const float* a, const float* b, size_t dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  if (i + 16 <= dim) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    i += 16;
  }
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
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
  static_assert(kBoundCheckDims % 32 == 0, "checks must fall on a loop boundary");
  const size_t full = dim / kBoundCheckDims * kBoundCheckDims;
  for (size_t v = 0; v < n; ++v) {
    const float* x = xs[v];
    if (v + 1 < n) prefetch_vector(xs[v + 1], dim < kBoundCheckDims ? dim : kBoundCheckDims);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    float sum = 0.f;
    size_t i = 0;
    bool abandoned = false;
    while (i < full) {
      const size_t stop = i + kBoundCheckDims;
      for (; i < stop; i += 32) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(q + i), _mm512_loadu_ps(x + i));
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(q + i + 16), _mm512_loadu_ps(x + i + 16));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
      }
      sum = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
      if (sum >= bound) {
        abandoned = true;
        break;
      }
    }
    out[v] = abandoned ? sum : (i < dim ? sum + l2sq(q + i, x + i, dim - i) : sum);
  }
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table{Level::AVX512, l2sq, dot, l2sq_batch, dot_batch, l2sq_batch_bounded};
  return table;
}

}  // namespace vidx::simd
