// f32_split's walk inner products with AVX512-BF16 (vdpbf16ps), against a query rounded to
// bfloat16 (split::round_to_upper): the instruction multiplies pairs of 16-bit values exactly and
// adds them into float32 lanes, so the upper halves need no widening and half the instructions.
// Compiled only where the compiler takes -mavx512bf16 (CMakeLists.txt), and chosen only where
// the CPU has the extension (split_bf16_dispatch.cpp).
#include <immintrin.h>

#include "vidx/codec/split_f32_kernels.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::split {
namespace {

inline __m512bh load_pairs(const UpperHalf* p) { return (__m512bh)_mm512_loadu_si512(p); }
inline __m512bh load_pairs_partial(const UpperHalf* p, size_t n) {
  return (__m512bh)_mm512_maskz_loadu_epi16(static_cast<__mmask32>((1ull << n) - 1), p);
}

// 64 dimensions a step into two accumulators, then 32, then the rest masked. One function for
// the single and the batch kernels, so a batch's distances are the single one's bit for bit.
inline float dot_sum(const UpperHalf* q, const UpperHalf* x, size_t dim) {
  __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= dim; i += 64) {
    a0 = _mm512_dpbf16_ps(a0, load_pairs(x + i), load_pairs(q + i));
    a1 = _mm512_dpbf16_ps(a1, load_pairs(x + i + 32), load_pairs(q + i + 32));
  }
  if (i + 32 <= dim) {
    a0 = _mm512_dpbf16_ps(a0, load_pairs(x + i), load_pairs(q + i));
    i += 32;
  }
  if (i < dim) a1 = _mm512_dpbf16_ps(a1, load_pairs_partial(x + i, dim - i), load_pairs_partial(q + i, dim - i));
  return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

float dot(const UpperHalf* q, const UpperHalf* x, size_t dim) { return dot_sum(q, x, dim); }

// One candidate at a time, the vector float_batch_vectors_ahead + 1 past it requested meanwhile
// (as far ahead as loops::batch's two side by side reach).
void dot_batch(const UpperHalf* q, const UpperHalf* const* xs, size_t n, size_t dim, float* out) {
  const size_t bytes = dim * sizeof(UpperHalf);
  const size_t ahead = simd::float_batch_vectors_ahead(bytes) + 1;
  for (size_t i = 1; i < ahead && i < n; ++i) simd::prefetch_bytes(xs[i], bytes);
  for (size_t i = 0; i < n; ++i) {
    if (i + ahead < n) simd::prefetch_bytes(xs[i + ahead], bytes);
    out[i] = dot_sum(q, xs[i], dim);
  }
}

}  // namespace

RoundedDotFn avx512bf16_dot_kernel() { return dot; }
RoundedBatchFn avx512bf16_dot_batch_kernel() { return dot_batch; }

}  // namespace vidx::split
