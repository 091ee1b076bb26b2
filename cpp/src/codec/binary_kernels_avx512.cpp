// Hamming distance with AVX-512 VPOPCNTDQ: eight 64-bit counts per instruction; masked loads
// cover the last partial register.
#include <immintrin.h>

#include "vidx/codec/binary_kernels.hpp"

namespace vidx::binary {

uint32_t hamming_avx512(const uint64_t* a, const uint64_t* b, size_t words) {
  __m512i acc = _mm512_setzero_si512();
  size_t i = 0;
  for (; i + 8 <= words; i += 8) {
    const __m512i x = _mm512_xor_si512(_mm512_loadu_si512(a + i), _mm512_loadu_si512(b + i));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
  }
  if (i < words) {
    const __mmask8 m = static_cast<__mmask8>((1u << (words - i)) - 1u);
    const __m512i x = _mm512_xor_si512(_mm512_maskz_loadu_epi64(m, a + i), _mm512_maskz_loadu_epi64(m, b + i));
    acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
  }
  return static_cast<uint32_t>(_mm512_reduce_add_epi64(acc));
}

// Sixteen bits of a code are directly an AVX-512 lane mask.
float masked_sum_avx512(const float* q, const uint64_t* bits, size_t words) {
  __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
  for (size_t w = 0; w < words; ++w)
    for (int k = 0; k < 4; ++k) {
      const __mmask16 m = static_cast<__mmask16>(bits[w] >> (16 * k));
      acc[k] = _mm512_mask_add_ps(acc[k], m, acc[k], _mm512_loadu_ps(q + w * 64 + 16 * k));
    }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3])));
}

}  // namespace vidx::binary
