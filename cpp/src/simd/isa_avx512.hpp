// AVX-512 (F/BW/DQ/VL, VPOPCNTDQ) primitives (include only from files compiled with the
// AVX-512 level's flags). Partial registers are masked loads; the LVQ 4-bit integer terms take
// 512-bit steps (isa_x86_u4.hpp). The contract: isa.md.
#pragma once
#include <immintrin.h>

#include "isa_shape.hpp"
#include "vidx/codec/split_f32_kernels.hpp"
#include "isa_x86_u4.hpp"
#include "isa_x86_u8.hpp"

namespace vidx::simd {

// A bounded L2 batch looks at its bound every 128 dimensions, as AVX2 does: every look sums a
// candidate's four accumulators across lanes, which at 64 dimensions cost more than the early
// exits it allowed. Intel Xeon (AVX-512 host, saved fashion-mnist f32_split graph, ratio to
// hnswlib at ef 10, alternating processes): 1.56-1.62x -> 1.71-1.73x with whole codes requested,
// 1.92-2.00x -> 2.13-2.16x with their first 256 bytes (bounded_walk_prefetch_bytes); every 256
// dimensions was no better (2.08-2.18x). Not measured on AMD's AVX-512.
struct IsaAvx512 : IsaShape<Level::AVX512, /*width=*/16, /*pop_words=*/8, /*bound_blocks=*/2>, U4TermsAvx512, U8TermsAvx512 {
  using F = __m512;
  using U = __m512i;
  using Count = __m512i;
  // loops::batch scores two candidates side by side. Intel Xeon, saved graphs, ratio to hnswlib
  // in alternating processes (graph.md section 29): glove ef 96 2.37x -> 2.44x, wordnet ef 24
  // 1.95x -> 1.96x; four side by side (their sixteen accumulators and the query's four registers
  // fit in 32) gained 7% on a 1,500-row graph held in L2 but 1.93x on wordnet.
  static constexpr size_t kBatchGroup = 2;

  static __mmask16 first_lanes(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }

  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static F load(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static F load_partial(const float* p, size_t n) { return _mm512_maskz_loadu_ps(first_lanes(n), p); }
  static F load_partial(const uint16_t* p, size_t n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first_lanes(n), p)); }
  // Split float32 codes: 16-bit halves widened to lanes and joined by a shift (and an or).
  static U widen_u16(const void* p) {
    return _mm512_cvtepu16_epi32(_mm256_loadu_si256(static_cast<const __m256i*>(p)));
  }
  static U widen_u16_partial(const void* p, size_t n) {
    return _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(first_lanes(n), p));
  }
  static F join(U upper, U lower) {
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_slli_epi32(upper, 16), lower));
  }
  static F upper_only(U upper) { return _mm512_castsi512_ps(_mm512_slli_epi32(upper, 16)); }
  static F load(const split::UpperHalf* p) { return upper_only(widen_u16(p)); }
  static F load_partial(const split::UpperHalf* p, size_t n) { return upper_only(widen_u16_partial(p, n)); }
  static F load_joined(const split::UpperHalf* u, const uint16_t* l) { return join(widen_u16(u), widen_u16(l)); }
  static F load_joined_partial(const split::UpperHalf* u, const uint16_t* l, size_t n) {
    return join(widen_u16_partial(u, n), widen_u16_partial(l, n));
  }
  static void store(float* p, F a) { _mm512_storeu_ps(p, a); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }  // b where either is NaN
  static uint32_t not_above_bits(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_NGT_UQ); }
  static float reduce(F a) { return _mm512_reduce_add_ps(a); }
  // Sixteen bits of a code are directly a lane mask.
  static F masked_add(F acc, F x, uint64_t lane_bits) {
    return _mm512_mask_add_ps(acc, static_cast<__mmask16>(lane_bits), acc, x);
  }
  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

  static U widen_u8(const uint8_t* p) { return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static U low_nibbles(U a) { return _mm512_and_si512(a, _mm512_set1_epi32(0xf)); }
  static U high_nibbles(U a) { return _mm512_srli_epi32(a, 4); }
  template <int Bits>
  static U combine(U c, U r) { return _mm512_add_epi32(_mm512_sub_epi32(_mm512_slli_epi32(c, Bits), c), r); }
  static F to_float(U a) { return _mm512_cvtepi32_ps(a); }

  // Eight 64-bit counts per instruction (VPOPCNTDQ; binary dispatch falls back to AVX2's
  // counts on CPUs without it).
  static Count count_zero() { return _mm512_setzero_si512(); }
  // The count of a ^ b (Hamming) or a & b (bit planes), eight words or the first n.
  template <bool And>
  static Count combined_popcount(Count acc, __m512i a, __m512i b) {
    return _mm512_add_epi64(acc, _mm512_popcnt_epi64(And ? _mm512_and_si512(a, b) : _mm512_xor_si512(a, b)));
  }
  template <bool And>
  static Count combined_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    const __mmask8 m = static_cast<__mmask8>((1u << n) - 1u);
    return combined_popcount<And>(acc, _mm512_maskz_loadu_epi64(m, a), _mm512_maskz_loadu_epi64(m, b));
  }
  static Count xor_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    return combined_popcount<false>(acc, _mm512_loadu_si512(a), _mm512_loadu_si512(b));
  }
  static Count xor_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    return combined_popcount_partial<false>(acc, a, b, n);
  }
  static Count and_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    return combined_popcount<true>(acc, _mm512_loadu_si512(a), _mm512_loadu_si512(b));
  }
  static Count and_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    return combined_popcount_partial<true>(acc, a, b, n);
  }
  static uint64_t count_total(Count acc) { return static_cast<uint64_t>(_mm512_reduce_add_epi64(acc)); }
};

}  // namespace vidx::simd
