// The rounded LVQ-4 walk's distances from its codes' integer sums, eight codes a step with
// AVX-512 (this file is compiled with the AVX-512 flags, and without contracting products into
// fused multiply-adds: CMakeLists.txt). The same doubles as lvq::rounded_distance, operation for
// operation, so the same floats. Code by code, that arithmetic (two float16 constants widened
// in software, then a dozen double operations) took ~7% of a wordnet-minilm lvq4x4 walk's samples
// (graph.md section 32).
#include <immintrin.h>

#include <cstring>

#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {
namespace {

void rounded_distances_avx512(const RoundedQueryTerms& q, const uint8_t* const* codes, const U4Terms* terms,
                              size_t n, float* out) {
  const __m512d q_sum = _mm512_set1_pd(q.q_sum), q_mu = _mm512_set1_pd(q.q_mu), q_norm = _mm512_set1_pd(q.q_norm);
  const __m512d step = _mm512_set1_pd(q.step), dim = _mm512_set1_pd(q.dim);
  const __m512d one = _mm512_set1_pd(1.0), two = _mm512_set1_pd(2.0), zero = _mm512_setzero_pd();
  // The constants of eight codes widened side by side are scale0, offset0, scale1, ...
  const __m512i scales = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m512i offsets = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
  // terms[i] is {dot, sum, squares}: 32-bit words three apart.
  const __m256i every_third = _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint32_t stored[8];
    for (size_t j = 0; j < 8; ++j) std::memcpy(&stored[j], codes[i + j] + q.constants_offset, sizeof(uint32_t));
    const __m512 halves = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(stored)));
    const __m512d scale = _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_permutexvar_ps(scales, halves)));
    const __m512d offset = _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_permutexvar_ps(offsets, halves)));
    const int* words = reinterpret_cast<const int*>(terms + i);
    const __m512d t_dot = _mm512_cvtepi32_pd(_mm256_i32gather_epi32(words, every_third, 4));
    // offset·sum(q) + (scale·step)·dot
    const __m512d dot =
        _mm512_add_pd(_mm512_mul_pd(offset, q_sum), _mm512_mul_pd(_mm512_mul_pd(scale, step), t_dot));
    __m512d d;
    if (q.l2) {
      const __m512d t_sum = _mm512_cvtepi32_pd(_mm256_i32gather_epi32(words + 1, every_third, 4));
      const __m512d t_squares = _mm512_cvtepi32_pd(_mm256_i32gather_epi32(words + 2, every_third, 4));
      // (((|q|^2 - 2·dot) + (dim·offset)·offset) + ((2·offset)·scale)·sum) + (scale·scale)·squares
      d = _mm512_sub_pd(q_norm, _mm512_mul_pd(two, dot));
      d = _mm512_add_pd(d, _mm512_mul_pd(_mm512_mul_pd(dim, offset), offset));
      d = _mm512_add_pd(d, _mm512_mul_pd(_mm512_mul_pd(_mm512_mul_pd(two, offset), scale), t_sum));
      d = _mm512_add_pd(d, _mm512_mul_pd(_mm512_mul_pd(scale, scale), t_squares));
      d = _mm512_max_pd(zero, d);  // std::max(d, 0.0): d unless below zero
    } else {
      d = _mm512_sub_pd(one, _mm512_add_pd(q_mu, dot));
    }
    _mm256_storeu_ps(out + i, _mm512_cvtpd_ps(d));
  }
  for (; i < n; ++i) out[i] = rounded_distance(q, codes[i], terms[i].dot, terms[i].sum, terms[i].squares);
}

}  // namespace

RoundedDistancesFn avx512_rounded_distances() { return rounded_distances_avx512; }

}  // namespace vidx::lvq
