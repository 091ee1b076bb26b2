// Hamming distance with the POPCNT instruction (compiled with the AVX2 level's flags).
#include <immintrin.h>
#include <nmmintrin.h>

#include "vidx/codec/binary_kernels.hpp"

namespace vidx::binary {

uint32_t hamming_avx2(const uint64_t* a, const uint64_t* b, size_t words) {
  uint64_t n0 = 0, n1 = 0;
  size_t i = 0;
  for (; i + 2 <= words; i += 2) {
    n0 += static_cast<uint64_t>(_mm_popcnt_u64(a[i] ^ b[i]));
    n1 += static_cast<uint64_t>(_mm_popcnt_u64(a[i + 1] ^ b[i + 1]));
  }
  if (i < words) n0 += static_cast<uint64_t>(_mm_popcnt_u64(a[i] ^ b[i]));
  return static_cast<uint32_t>(n0 + n1);
}

// Each byte of a code becomes an 8-lane mask: broadcast, AND with the lane's bit, compare.
float masked_sum_avx2(const float* q, const uint64_t* bits, size_t words) {
  const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t w = 0; w < words; ++w) {
    for (int b = 0; b < 8; ++b) {
      const __m256i byte = _mm256_set1_epi32(static_cast<int>((bits[w] >> (8 * b)) & 0xffu));
      const __m256i on = _mm256_cmpeq_epi32(_mm256_and_si256(byte, lane_bits), lane_bits);
      acc[(b >> 1) & 1] = _mm256_add_ps(acc[(b >> 1) & 1], _mm256_and_ps(_mm256_castsi256_ps(on), _mm256_loadu_ps(q + w * 64 + 8 * b)));
    }
  }
  const __m256 v = _mm256_add_ps(acc[0], acc[1]);
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

}  // namespace vidx::binary
