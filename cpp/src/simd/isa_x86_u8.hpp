// The LVQ 8-bit integer terms (loops_codes.hpp, lvq::U8TermsFn) for the x86 levels (include
// only from files compiled with at least AVX2's flags). Code bytes are unsigned and query bytes
// signed, so their products (up to 255·127) need 16-bit operands: both are widened and madd
// multiplies pairs into 32-bit sums. AVX2 widens 16 bytes a register, AVX-512 (BW) a whole
// block of 32.
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace vidx::simd {

namespace u8_detail {
inline int64_t add_lanes64(__m256i a) {
  const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
  return _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
}
// The 32-bit lanes' total, added in 64 bits (squares of long codes pass 2^31 in the total
// long before they do in a lane).
inline int64_t add_lanes32(__m256i a) {
  return add_lanes64(_mm256_add_epi64(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(a)),
                                      _mm256_cvtepi32_epi64(_mm256_extracti128_si256(a, 1))));
}
// sum c of a block, added into 64-bit lanes (sad against zero sums each 8 bytes).
inline __m256i add_code_sum(__m256i sum, const uint8_t* codes) {
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes));
  return _mm256_add_epi64(sum, _mm256_sad_epu8(v, _mm256_setzero_si256()));
}
}  // namespace u8_detail

struct U8TermsAvx2 {
  struct U8Sums {
    __m256i dot, squares, sum;  // 32-bit lanes for dot and squares, 64-bit for sum
  };
  static U8Sums u8_zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}; }
  template <bool kNorms>
  static U8Sums u8_block(U8Sums s, const uint8_t* codes, const int8_t* q) {
    for (size_t h = 0; h < 32; h += 16) {
      const __m256i c = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + h)));
      const __m256i r = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q + h)));
      s.dot = _mm256_add_epi32(s.dot, _mm256_madd_epi16(c, r));
      if (kNorms) s.squares = _mm256_add_epi32(s.squares, _mm256_madd_epi16(c, c));
    }
    if (kNorms) s.sum = u8_detail::add_code_sum(s.sum, codes);
    return s;
  }
  static void u8_total(U8Sums s, int64_t& dot, int64_t& sum, int64_t& squares) {
    dot = u8_detail::add_lanes32(s.dot);
    squares = u8_detail::add_lanes32(s.squares);
    sum = u8_detail::add_lanes64(s.sum);
  }
};

#if defined(__AVX512BW__)
struct U8TermsAvx512 {
  struct U8Sums {
    __m512i dot, squares;  // 32-bit lanes
    __m256i sum;           // 64-bit lanes
  };
  static U8Sums u8_zero() { return {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm256_setzero_si256()}; }
  template <bool kNorms>
  static U8Sums u8_block(U8Sums s, const uint8_t* codes, const int8_t* q) {
    const __m512i c = _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes)));
    const __m512i r = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
    s.dot = _mm512_add_epi32(s.dot, _mm512_madd_epi16(c, r));
    if (kNorms) {
      s.squares = _mm512_add_epi32(s.squares, _mm512_madd_epi16(c, c));
      s.sum = u8_detail::add_code_sum(s.sum, codes);
    }
    return s;
  }
  static int64_t reduce_lanes32(__m512i a) {
    const __m512i wide = _mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(a)),
                                          _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(a, 1)));
    return _mm512_reduce_add_epi64(wide);
  }
  static void u8_total(U8Sums s, int64_t& dot, int64_t& sum, int64_t& squares) {
    dot = reduce_lanes32(s.dot);
    squares = reduce_lanes32(s.squares);
    sum = u8_detail::add_lanes64(s.sum);
  }
};
#endif

}  // namespace vidx::simd
