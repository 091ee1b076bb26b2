// AVX-512 float16 kernels: VCVTPH2PS converts 16 codes per instruction; masked loads cover
// the last partial register, so odd dimensions never read past a code.
#include <immintrin.h>

#include "vidx/codec/f16_kernels.hpp"

namespace vidx::f16k {
namespace {

inline __m512 load_h(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load_h_masked(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
inline __mmask16 tail_mask(size_t remaining) { return static_cast<__mmask16>((1u << remaining) - 1u); }

inline void l2_block(const float* q, const uint16_t* x, size_t begin, size_t end, __m512& a0, __m512& a1) {
  for (size_t i = begin; i < end; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(q + i), load_h(x + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(q + i + 16), load_h(x + i + 16));
    a0 = _mm512_fmadd_ps(d0, d0, a0);
    a1 = _mm512_fmadd_ps(d1, d1, a1);
  }
}

float l2_tail(const float* q, const uint16_t* x, size_t i, size_t dim, __m512 a0, __m512 a1) {
  if (i + 16 <= dim) {
    const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(q + i), load_h(x + i));
    a0 = _mm512_fmadd_ps(d, d, a0);
    i += 16;
  }
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, q + i), load_h_masked(x + i, m));
    a1 = _mm512_fmadd_ps(d, d, a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

float l2(const float* q, const uint16_t* x, size_t dim) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  const size_t full = dim / 32 * 32;
  l2_block(q, x, 0, full, a0, a1);
  return l2_tail(q, x, full, dim, a0, a1);
}

float l2_bounded(const float* q, const uint16_t* x, size_t dim, float bound) {
  static_assert(simd::kBoundCheckDims % 32 == 0, "checks must fall on a loop boundary");
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  const size_t full = dim / 32 * 32;
  size_t i = 0;
  for (; i + simd::kBoundCheckDims < full; i += simd::kBoundCheckDims) {
    l2_block(q, x, i, i + simd::kBoundCheckDims, a0, a1);
    const float partial = _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
    if (partial >= bound) return partial;
  }
  l2_block(q, x, i, full, a0, a1);
  return l2_tail(q, x, full, dim, a0, a1);
}

float dot(const float* q, const uint16_t* x, size_t dim) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), load_h(x + i), a0);
    a1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), load_h(x + i + 16), a1);
  }
  if (i + 16 <= dim) {
    a0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), load_h(x + i), a0);
    i += 16;
  }
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), load_h_masked(x + i, m), a1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

float l2_pair(const uint16_t* a, const uint16_t* b, size_t dim) {
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    const __m512 d = _mm512_sub_ps(load_h(a + i), load_h(b + i));
    acc = _mm512_fmadd_ps(d, d, acc);
  }
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    const __m512 d = _mm512_sub_ps(load_h_masked(a + i, m), load_h_masked(b + i, m));
    acc = _mm512_fmadd_ps(d, d, acc);
  }
  return _mm512_reduce_add_ps(acc);
}

float dot_pair(const uint16_t* a, const uint16_t* b, size_t dim) {
  __m512 acc = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) acc = _mm512_fmadd_ps(load_h(a + i), load_h(b + i), acc);
  if (i < dim) {
    const __mmask16 m = tail_mask(dim - i);
    acc = _mm512_fmadd_ps(load_h_masked(a + i, m), load_h_masked(b + i, m), acc);
  }
  return _mm512_reduce_add_ps(acc);
}

}  // namespace

const KernelTable& avx512_kernels() {
  static const KernelTable table{simd::Level::AVX512, l2, dot, l2_pair, dot_pair, l2_bounded};
  return table;
}

}  // namespace vidx::f16k
