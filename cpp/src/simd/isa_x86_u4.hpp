// The LVQ 4-bit integer terms (loops_codes.hpp, lvq::U4TermsFn) with AVX2 integer
// instructions, shared by the AVX2 and AVX-512 levels (include only from files compiled with
// at least AVX2's flags). AVX-512 uses these 256-bit forms too: its 512-bit byte multiplies
// could not be checked against scalar on the machines this was written on, and a term costs
// a few nanoseconds either way.
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace vidx::simd {

struct U4TermsX86 {
  struct Terms {
    __m256i dot, squares, sum;  // 32-bit lanes for dot and squares, 64-bit for sum
  };
  static constexpr size_t kU4Blocks = 2;  // 32 code bytes per step

  static Terms terms_zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256()}; }

  // maddubs multiplies unsigned code bytes by signed query bytes and adds neighbouring pairs
  // into 16 bits: |15·127·2| per pair, and the low and high halves of a block add to at most
  // 7620, far from saturating; madd with ones then widens pairs to 32 bits. kNorms: also sum c
  // and sum c^2 (L2), else the dot alone.
  template <bool kNorms>
  static Terms u4_terms(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    const __m256i nibble = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes));
    const __m256i lo = _mm256_and_si256(v, nibble), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nibble);
    const __m256i ql = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q_lo));
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q_hi));
    const __m256i dot = _mm256_add_epi16(_mm256_maddubs_epi16(lo, ql), _mm256_maddubs_epi16(hi, qh));
    t.dot = _mm256_add_epi32(t.dot, _mm256_madd_epi16(dot, ones));
    if constexpr (kNorms) {
      const __m256i sq = _mm256_add_epi16(_mm256_maddubs_epi16(lo, lo), _mm256_maddubs_epi16(hi, hi));
      t.squares = _mm256_add_epi32(t.squares, _mm256_madd_epi16(sq, ones));
      t.sum = _mm256_add_epi64(t.sum, _mm256_sad_epu8(_mm256_add_epi8(lo, hi), _mm256_setzero_si256()));
    }
    return t;
  }
  // One block (16 code bytes): the same with 128-bit registers, added into the low lanes.
  template <bool kNorms>
  static Terms u4_terms_one(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    const __m128i nibble = _mm_set1_epi8(0x0f), ones = _mm_set1_epi16(1);
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes));
    const __m128i lo = _mm_and_si128(v, nibble), hi = _mm_and_si128(_mm_srli_epi16(v, 4), nibble);
    const __m128i ql = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q_lo));
    const __m128i qh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q_hi));
    const __m128i dot = _mm_add_epi16(_mm_maddubs_epi16(lo, ql), _mm_maddubs_epi16(hi, qh));
    t.dot = _mm256_add_epi32(t.dot, low_lanes(_mm_madd_epi16(dot, ones)));
    if constexpr (kNorms) {
      const __m128i sq = _mm_add_epi16(_mm_maddubs_epi16(lo, lo), _mm_maddubs_epi16(hi, hi));
      t.squares = _mm256_add_epi32(t.squares, low_lanes(_mm_madd_epi16(sq, ones)));
      t.sum = _mm256_add_epi64(t.sum, low_lanes(_mm_sad_epu8(_mm_add_epi8(lo, hi), _mm_setzero_si128())));
    }
    return t;
  }
  static void terms_total(Terms t, int32_t& dot, int32_t& sum, int32_t& squares) {
    dot = add_lanes32(t.dot);
    squares = add_lanes32(t.squares);
    const __m128i s = _mm_add_epi64(_mm256_castsi256_si128(t.sum), _mm256_extracti128_si256(t.sum, 1));
    sum = static_cast<int32_t>(_mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s)));
  }

 private:
  static __m256i low_lanes(__m128i x) { return _mm256_inserti128_si256(_mm256_setzero_si256(), x, 0); }
  static int32_t add_lanes32(__m256i a) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
    s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
    return _mm_cvtsi128_si32(s);
  }
};

}  // namespace vidx::simd
