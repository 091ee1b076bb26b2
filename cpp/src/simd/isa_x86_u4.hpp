// The LVQ 4-bit integer terms (loops_codes.hpp, lvq::U4TermsFn) for the x86 levels (include
// only from files compiled with at least AVX2's flags): AVX2's 256-bit forms, and AVX-512 BW's
// 512-bit ones (kernel_check.cpp compares both with scalar, the query's extremes included).
#pragma once
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace vidx::simd {

namespace u4_detail {
// One block (16 code bytes) of a last short group, in 128-bit registers: its dot and squares
// in 32-bit lanes, its code sum in 64-bit lanes (the levels add them into their low lanes).
struct BlockTerms {
  __m128i dot, squares, sum;
};
template <bool kNorms>
inline BlockTerms block_terms(const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
  const __m128i nibble = _mm_set1_epi8(0x0f), ones = _mm_set1_epi16(1);
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(codes));
  const __m128i lo = _mm_and_si128(v, nibble), hi = _mm_and_si128(_mm_srli_epi16(v, 4), nibble);
  const __m128i ql = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q_lo));
  const __m128i qh = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q_hi));
  BlockTerms b{_mm_madd_epi16(_mm_add_epi16(_mm_maddubs_epi16(lo, ql), _mm_maddubs_epi16(hi, qh)), ones),
               _mm_setzero_si128(), _mm_setzero_si128()};
  if constexpr (kNorms) {
    b.squares = _mm_madd_epi16(_mm_add_epi16(_mm_maddubs_epi16(lo, lo), _mm_maddubs_epi16(hi, hi)), ones);
    b.sum = _mm_sad_epu8(_mm_add_epi8(lo, hi), _mm_setzero_si128());
  }
  return b;
}
}  // namespace u4_detail

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
  // One block (16 code bytes), added into the low lanes.
  template <bool kNorms>
  static Terms u4_terms_one(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    const u4_detail::BlockTerms b = u4_detail::block_terms<kNorms>(codes, q_lo, q_hi);
    t.dot = _mm256_add_epi32(t.dot, low_lanes(b.dot));
    if constexpr (kNorms) {
      t.squares = _mm256_add_epi32(t.squares, low_lanes(b.squares));
      t.sum = _mm256_add_epi64(t.sum, low_lanes(b.sum));
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

#if defined(__AVX512BW__)
// The same terms with 512-bit registers (AVX-512 BW): a step is a whole query group of four
// blocks (64 code bytes), so a 384-dimension code takes three steps instead of six, each of as
// many instructions. The sums are the same integers (no lane comes near saturating, as above).
// Intel Xeon, saved wordnet-minilm lvq4x4 graph at ef 24, ratio to hnswlib in alternating
// processes (graph.md section 32): 2-thread batch 2.92x -> 2.97x, single-thread 3.20x -> 3.22x
// (with the library's calls made direct, CMakeLists.txt): the walk waits on memory more than on
// this kernel.
struct U4TermsAvx512 {
  struct Terms {
    __m512i dot, squares, sum;  // 32-bit lanes for dot and squares, 64-bit for sum
  };
  static constexpr size_t kU4Blocks = 4;

  static Terms terms_zero() { return {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512()}; }

  template <bool kNorms>
  static Terms u4_terms(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    const __m512i nibble = _mm512_set1_epi8(0x0f), ones = _mm512_set1_epi16(1);
    const __m512i v = _mm512_loadu_si512(codes);
    const __m512i lo = _mm512_and_si512(v, nibble), hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nibble);
    const __m512i dot = _mm512_add_epi16(_mm512_maddubs_epi16(lo, _mm512_loadu_si512(q_lo)),
                                         _mm512_maddubs_epi16(hi, _mm512_loadu_si512(q_hi)));
    t.dot = _mm512_add_epi32(t.dot, _mm512_madd_epi16(dot, ones));
    if constexpr (kNorms) {
      const __m512i sq = _mm512_add_epi16(_mm512_maddubs_epi16(lo, lo), _mm512_maddubs_epi16(hi, hi));
      t.squares = _mm512_add_epi32(t.squares, _mm512_madd_epi16(sq, ones));
      t.sum = _mm512_add_epi64(t.sum, _mm512_sad_epu8(_mm512_add_epi8(lo, hi), _mm512_setzero_si512()));
    }
    return t;
  }
  // One block (16 code bytes) of a last short group, added into the low lanes.
  template <bool kNorms>
  static Terms u4_terms_one(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    const u4_detail::BlockTerms b = u4_detail::block_terms<kNorms>(codes, q_lo, q_hi);
    t.dot = _mm512_add_epi32(t.dot, _mm512_zextsi128_si512(b.dot));
    if constexpr (kNorms) {
      t.squares = _mm512_add_epi32(t.squares, _mm512_zextsi128_si512(b.squares));
      t.sum = _mm512_add_epi64(t.sum, _mm512_zextsi128_si512(b.sum));
    }
    return t;
  }
  static void terms_total(Terms t, int32_t& dot, int32_t& sum, int32_t& squares) {
    dot = _mm512_reduce_add_epi32(t.dot);
    squares = _mm512_reduce_add_epi32(t.squares);
    sum = static_cast<int32_t>(_mm512_reduce_add_epi64(t.sum));
  }
};
#endif

}  // namespace vidx::simd
