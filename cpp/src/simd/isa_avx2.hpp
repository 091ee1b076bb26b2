// AVX2 + FMA + F16C primitives (include only from files compiled with the AVX2 level's flags).
// Partial registers use masked loads (float32) or partial_load.hpp (float16), so odd
// dimensions never read past a vector. The contract: isa.md.
#pragma once
#include <immintrin.h>

#include "partial_load.hpp"
#include "isa_shape.hpp"
#include "vidx/codec/split_f32_kernels.hpp"
#include "isa_x86_u4.hpp"
#include "isa_x86_u8.hpp"

namespace vidx::simd {

// Bound looked at every 128 dimensions: a look (four registers summed across lanes, a compare
// and a branch) per 64 took enough of an 8-lane walk that 128 ran 1.02-1.11x the queries per
// second on fashion-mnist (graph.md section 21); AVX-512 was tuned at 64 and stays there.
struct IsaAvx2 : IsaShape<Level::AVX2, /*width=*/8, /*pop_words=*/2, /*bound_blocks=*/2>, U4TermsX86, U8TermsAvx2 {
  using F = __m256;
  // loops::batch scores two candidates side by side (as AVX-512 does): their eight accumulators
  // and the query's four registers fit in 16.
  static constexpr size_t kBatchGroup = 2;
  using U = __m256i;
  using Count = uint64_t;

  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static F load(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load_partial(const float* p, size_t n) {
    // Lane j is loaded when j < n.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_maskload_ps(p, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane));
  }
  static F load_partial(const uint16_t* p, size_t n) {
    uint64_t lo, hi;
    vidx_read_partial(p, n * sizeof(uint16_t), lo, hi);
    return _mm256_cvtph_ps(_mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo)));
  }
  // Split float32 codes: 16-bit halves widened to lanes and joined by a shift (and an or).
  static U widen_u16(const void* p) { return _mm256_cvtepu16_epi32(_mm_loadu_si128(static_cast<const __m128i*>(p))); }
  static U widen_u16_partial(const void* p, size_t n) {
    uint64_t lo, hi;
    vidx_read_partial(p, n * sizeof(uint16_t), lo, hi);
    return _mm256_cvtepu16_epi32(_mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo)));
  }
  static F join(U upper, U lower) {
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_slli_epi32(upper, 16), lower));
  }
  static F upper_only(U upper) { return _mm256_castsi256_ps(_mm256_slli_epi32(upper, 16)); }
  static F load(const split::UpperHalf* p) { return upper_only(widen_u16(p)); }
  static F load_partial(const split::UpperHalf* p, size_t n) { return upper_only(widen_u16_partial(p, n)); }
  static F load_joined(const split::UpperHalf* u, const uint16_t* l) { return join(widen_u16(u), widen_u16(l)); }
  static F load_joined_partial(const split::UpperHalf* u, const uint16_t* l, size_t n) {
    return join(widen_u16_partial(u, n), widen_u16_partial(l, n));
  }
  static void store(float* p, F a) { _mm256_storeu_ps(p, a); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }  // b where either is NaN
  static uint32_t not_above_bits(F a, F b) {
    return static_cast<uint32_t>(_mm256_movemask_ps(_mm256_cmp_ps(a, b, _CMP_NGT_UQ)));
  }
  static float reduce(F a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
  // Broadcast the lane bits, AND with each lane's own bit, compare: an 8-lane mask.
  static F masked_add(F acc, F x, uint64_t lane_bits) {
    const __m256i own = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    const __m256i bits = _mm256_set1_epi32(static_cast<int>(lane_bits & 0xffu));
    const __m256i on = _mm256_cmpeq_epi32(_mm256_and_si256(bits, own), own);
    return _mm256_add_ps(acc, _mm256_and_ps(_mm256_castsi256_ps(on), x));
  }
  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

  static U widen_u8(const uint8_t* p) { return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))); }
  static U low_nibbles(U a) { return _mm256_and_si256(a, _mm256_set1_epi32(0xf)); }
  static U high_nibbles(U a) { return _mm256_srli_epi32(a, 4); }
  // (2^Bits - 1)·c + r, as a shift and a subtraction.
  template <int Bits>
  static U combine(U c, U r) { return _mm256_add_epi32(_mm256_sub_epi32(_mm256_slli_epi32(c, Bits), c), r); }
  static F to_float(U a) { return _mm256_cvtepi32_ps(a); }

  static uint64_t popcount64(uint64_t x) { return static_cast<uint64_t>(_mm_popcnt_u64(x)); }
  static Count count_zero() { return 0; }
  // Two independent counts per step, joined before the one add into the running total.
  static Count xor_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    return acc + (popcount64(vidx_read_word(a) ^ vidx_read_word(b)) + popcount64(vidx_read_word(a + 1) ^ vidx_read_word(b + 1)));
  }
  static Count xor_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    return n ? acc + popcount64(vidx_read_word(a) ^ vidx_read_word(b)) : acc;
  }
  static Count and_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    return acc + (popcount64(vidx_read_word(a) & vidx_read_word(b)) + popcount64(vidx_read_word(a + 1) & vidx_read_word(b + 1)));
  }
  static Count and_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    return n ? acc + popcount64(vidx_read_word(a) & vidx_read_word(b)) : acc;
  }
  static uint64_t count_total(Count acc) { return acc; }

  // sum_j 2^j · popcount(code & plane_j) for up to kMaxBytePlanes planes, 256 bits at a time:
  // each byte's counts (<= 8 a plane) are weighted in the byte itself, Horner's way from the top
  // plane down (8·(2^5 - 1) = 248 fits), then summed once per 256 bits; the scalar words
  // after the last whole 256 bits count as xor_popcount does. Scalar POPCNT costs one
  // instruction per 64 bits a plane; this, eight per 256 bits and a plane, in vector registers.
  static constexpr size_t kMaxBytePlanes = 5;
  static uint64_t weighted_and_popcount(const uint64_t* planes, const uint64_t* code, size_t words, size_t count) {
    const __m256i nibble_counts = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                                   0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i total = _mm256_setzero_si256();
    size_t w = 0;
    for (; w + 4 <= words; w += 4) {
      const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(code + w));
      __m256i weighted = _mm256_setzero_si256();
      for (size_t j = count; j-- > 0;) {
        const __m256i x = _mm256_and_si256(c, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(planes + j * words + w)));
        const __m256i ones = _mm256_add_epi8(_mm256_shuffle_epi8(nibble_counts, _mm256_and_si256(x, low4)),
                                             _mm256_shuffle_epi8(nibble_counts, _mm256_and_si256(_mm256_srli_epi16(x, 4), low4)));
        weighted = _mm256_add_epi8(_mm256_add_epi8(weighted, weighted), ones);
      }
      total = _mm256_add_epi64(total, _mm256_sad_epu8(weighted, _mm256_setzero_si256()));
    }
    const __m128i halves = _mm_add_epi64(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
    uint64_t sum = static_cast<uint64_t>(_mm_cvtsi128_si64(halves)) + static_cast<uint64_t>(_mm_extract_epi64(halves, 1));
    for (; w < words; ++w)
      for (size_t j = 0; j < count; ++j) sum += popcount64(vidx_read_word(code + w) & vidx_read_word(planes + j * words + w)) << j;
    return sum;
  }
};

}  // namespace vidx::simd
