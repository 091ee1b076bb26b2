// The rounded LVQ-4 walk's distances from its codes' integer sums, four codes a step with AVX2
// (this file is compiled with the AVX2 flags, and without contracting products into fused
// multiply-adds: CMakeLists.txt): lvq_distances_avx512.cpp's loop for CPUs without AVX-512, the
// same doubles as lvq::rounded_distance operation for operation, so the same floats.
#include <immintrin.h>

#include <cstring>

#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {
namespace {

void rounded_distances_avx2(const RoundedQueryTerms& q, const uint8_t* const* codes, const U4Terms* terms, size_t n,
                            float* out) {
  const __m256d q_sum = _mm256_set1_pd(q.q_sum), q_mu = _mm256_set1_pd(q.q_mu), q_norm = _mm256_set1_pd(q.q_norm);
  const __m256d step = _mm256_set1_pd(q.step), dim = _mm256_set1_pd(q.dim);
  const __m256d one = _mm256_set1_pd(1.0), two = _mm256_set1_pd(2.0), zero = _mm256_setzero_pd();
  // Four codes' constants widened side by side are scale0, offset0, scale1, ...: the scales to
  // the low half, the offsets to the high one.
  const __m256i scales_then_offsets = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  const __m128i every_third = _mm_setr_epi32(0, 3, 6, 9);  // terms[i] is {dot, sum, squares}
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    uint32_t stored[4];
    for (size_t j = 0; j < 4; ++j) std::memcpy(&stored[j], codes[i + j] + q.constants_offset, sizeof(uint32_t));
    const __m256 halves = _mm256_permutevar8x32_ps(
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(stored))), scales_then_offsets);
    const __m256d scale = _mm256_cvtps_pd(_mm256_castps256_ps128(halves));
    const __m256d offset = _mm256_cvtps_pd(_mm256_extractf128_ps(halves, 1));
    const int* words = reinterpret_cast<const int*>(terms + i);
    const __m256d t_dot = _mm256_cvtepi32_pd(_mm_i32gather_epi32(words, every_third, 4));
    const __m256d dot =
        _mm256_add_pd(_mm256_mul_pd(offset, q_sum), _mm256_mul_pd(_mm256_mul_pd(scale, step), t_dot));
    __m256d d;
    if (q.l2) {
      const __m256d t_sum = _mm256_cvtepi32_pd(_mm_i32gather_epi32(words + 1, every_third, 4));
      const __m256d t_squares = _mm256_cvtepi32_pd(_mm_i32gather_epi32(words + 2, every_third, 4));
      d = _mm256_sub_pd(q_norm, _mm256_mul_pd(two, dot));
      d = _mm256_add_pd(d, _mm256_mul_pd(_mm256_mul_pd(dim, offset), offset));
      d = _mm256_add_pd(d, _mm256_mul_pd(_mm256_mul_pd(_mm256_mul_pd(two, offset), scale), t_sum));
      d = _mm256_add_pd(d, _mm256_mul_pd(_mm256_mul_pd(scale, scale), t_squares));
      d = _mm256_max_pd(zero, d);
    } else {
      d = _mm256_sub_pd(one, _mm256_add_pd(q_mu, dot));
    }
    _mm_storeu_ps(out + i, _mm256_cvtpd_ps(d));
  }
  for (; i < n; ++i) out[i] = rounded_distance(q, codes[i], terms[i].dot, terms[i].sum, terms[i].squares);
}

}  // namespace

RoundedDistancesFn avx2_rounded_distances() { return rounded_distances_avx2; }

}  // namespace vidx::lvq
