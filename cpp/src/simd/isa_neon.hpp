// NEON primitives for aarch64 (NEON and the float16 conversions are baseline in ARMv8-A, so
// these files need no extra flags). Partial registers are read by partial_load.hpp, so odd
// dimensions never read past a vector. The contract: isa.md.
#pragma once
#include <arm_neon.h>

#include <cstring>

#include "partial_load.hpp"
#include "isa_shape.hpp"
#include "vidx/codec/split_f32_kernels.hpp"

namespace vidx::simd {

struct IsaNeon : IsaShape<Level::NEON, /*width=*/4, /*pop_words=*/2> {
  using F = float32x4_t;
  using U = uint32x4_t;
  using Count = uint64_t;

  static F zero() { return vdupq_n_f32(0.f); }
  static F set1(float x) { return vdupq_n_f32(x); }
  static F load(const float* p) { return vld1q_f32(p); }
  static F load(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static F load_partial(const float* p, size_t n) {
    uint64_t lo, hi;
    vidx_read_partial(p, n * sizeof(float), lo, hi);
    return vreinterpretq_f32_u64(vcombine_u64(vcreate_u64(lo), vcreate_u64(hi)));
  }
  static F load_partial(const uint16_t* p, size_t n) {
    uint64_t lo, hi;
    vidx_read_partial(p, n * sizeof(uint16_t), lo, hi);
    return vcvt_f32_f16(vreinterpret_f16_u64(vcreate_u64(lo)));
  }
  // Split float32 codes: 16-bit halves widened to lanes and joined by a shift (and an or).
  static uint16x4_t halves(const void* p) { return vld1_u16(static_cast<const uint16_t*>(p)); }
  static uint16x4_t halves_partial(const void* p, size_t n) {
    uint64_t lo, hi;
    vidx_read_partial(p, n * sizeof(uint16_t), lo, hi);
    return vreinterpret_u16_u64(vcreate_u64(lo));
  }
  static F join(uint16x4_t upper, uint32x4_t lower) {
    return vreinterpretq_f32_u32(vorrq_u32(vshll_n_u16(upper, 16), lower));
  }
  static F upper_only(uint16x4_t upper) { return vreinterpretq_f32_u32(vshll_n_u16(upper, 16)); }
  static F load(const split::UpperHalf* p) { return upper_only(halves(p)); }
  static F load_partial(const split::UpperHalf* p, size_t n) { return upper_only(halves_partial(p, n)); }
  static F load_joined(const split::UpperHalf* u, const uint16_t* l) { return join(halves(u), vmovl_u16(halves(l))); }
  static F load_joined_partial(const split::UpperHalf* u, const uint16_t* l, size_t n) {
    return join(halves_partial(u, n), vmovl_u16(halves_partial(l, n)));
  }
  static void store(float* p, F a) { vst1q_f32(p, a); }
  static F add(F a, F b) { return vaddq_f32(a, b); }
  static F sub(F a, F b) { return vsubq_f32(a, b); }
  static F fmadd(F a, F b, F c) { return vfmaq_f32(c, a, b); }
  static F min(F a, F b) { return vbslq_f32(vcltq_f32(a, b), a, b); }  // b where either is NaN
  static uint32_t not_above_bits(F a, F b) {
    static const uint32_t kOwn[kWidth] = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(vmvnq_u32(vcgtq_f32(a, b)), vld1q_u32(kOwn)));
  }
  static float reduce(F a) { return vaddvq_f32(a); }
  // Broadcast the lane bits and test each lane's own bit: a 4-lane mask.
  static F masked_add(F acc, F x, uint64_t lane_bits) {
    static const uint32_t kOwn[kWidth] = {1, 2, 4, 8};
    const uint32x4_t on = vtstq_u32(vdupq_n_u32(static_cast<uint32_t>(lane_bits & 0xfu)), vld1q_u32(kOwn));
    return vaddq_f32(acc, vreinterpretq_f32_u32(vandq_u32(on, vreinterpretq_u32_f32(x))));
  }
  static void prefetch(const void* p) { __builtin_prefetch(p); }

  static U widen_u8(const uint8_t* p) {
    uint32_t word;
    std::memcpy(&word, p, sizeof(word));
    return vmovl_u16(vget_low_u16(vmovl_u8(vcreate_u8(word))));
  }
  static U low_nibbles(U a) { return vandq_u32(a, vdupq_n_u32(0xfu)); }
  static U high_nibbles(U a) { return vshrq_n_u32(a, 4); }
  template <int Bits>
  static U combine(U c, U r) { return vaddq_u32(vsubq_u32(vshlq_n_u32(c, Bits), c), r); }
  static F to_float(U a) { return vcvtq_f32_u32(a); }

  // LVQ 4-bit integer terms (loops_codes.hpp), one 16-byte block per step: products of code
  // and query bytes widened to 16 bits (four per lane, at most 7620), then pairwise into 32.
  struct Terms {
    int32x4_t dot, squares;
    uint32x4_t sum;
  };
  static constexpr size_t kU4Blocks = 1;
  static Terms terms_zero() { return {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_u32(0)}; }
  template <bool kNorms>  // also sum c and sum c^2 (L2), else the dot alone
  static Terms u4_terms(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    const uint8x16_t v = vld1q_u8(codes);
    const uint8x16_t lo_u = vandq_u8(v, vdupq_n_u8(0xf)), hi_u = vshrq_n_u8(v, 4);
    const int8x16_t lo = vreinterpretq_s8_u8(lo_u), hi = vreinterpretq_s8_u8(hi_u);
    const int8x16_t ql = vld1q_s8(q_lo), qh = vld1q_s8(q_hi);
    int16x8_t dot = vmull_s8(vget_low_s8(lo), vget_low_s8(ql));
    dot = vmlal_s8(dot, vget_high_s8(lo), vget_high_s8(ql));
    dot = vmlal_s8(dot, vget_low_s8(hi), vget_low_s8(qh));
    dot = vmlal_s8(dot, vget_high_s8(hi), vget_high_s8(qh));
    t.dot = vpadalq_s16(t.dot, dot);
    if constexpr (kNorms) {
      int16x8_t sq = vmull_s8(vget_low_s8(lo), vget_low_s8(lo));
      sq = vmlal_s8(sq, vget_high_s8(lo), vget_high_s8(lo));
      sq = vmlal_s8(sq, vget_low_s8(hi), vget_low_s8(hi));
      sq = vmlal_s8(sq, vget_high_s8(hi), vget_high_s8(hi));
      t.squares = vpadalq_s16(t.squares, sq);
      t.sum = vpadalq_u16(t.sum, vpaddlq_u8(vaddq_u8(lo_u, hi_u)));
    }
    return t;
  }
  template <bool kNorms>
  static Terms u4_terms_one(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    return u4_terms<kNorms>(t, codes, q_lo, q_hi);
  }
  static void terms_total(Terms t, int32_t& dot, int32_t& sum, int32_t& squares) {
    dot = vaddvq_s32(t.dot);
    squares = vaddvq_s32(t.squares);
    sum = static_cast<int32_t>(vaddvq_u32(t.sum));
  }

  // LVQ 8-bit integer terms (loops_codes.hpp), one 32-byte block per step: code bytes widened
  // to 16 bits meet the query's (products up to 255·127 need 32-bit lanes: vmlal into them).
  struct U8Sums {
    int32x4_t dot, squares;
    uint32x4_t sum;
  };
  static U8Sums u8_zero() { return {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_u32(0)}; }
  template <bool kNorms>
  static U8Sums u8_block(U8Sums s, const uint8_t* codes, const int8_t* q) {
    for (size_t h = 0; h < 32; h += 16) {
      const uint8x16_t v = vld1q_u8(codes + h);
      const int8x16_t r = vld1q_s8(q + h);
      const int16x8_t c_lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)));
      const int16x8_t c_hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(v)));
      const int16x8_t r_lo = vmovl_s8(vget_low_s8(r)), r_hi = vmovl_s8(vget_high_s8(r));
      s.dot = vmlal_s16(s.dot, vget_low_s16(c_lo), vget_low_s16(r_lo));
      s.dot = vmlal_s16(s.dot, vget_high_s16(c_lo), vget_high_s16(r_lo));
      s.dot = vmlal_s16(s.dot, vget_low_s16(c_hi), vget_low_s16(r_hi));
      s.dot = vmlal_s16(s.dot, vget_high_s16(c_hi), vget_high_s16(r_hi));
      if (kNorms) {
        s.squares = vmlal_s16(s.squares, vget_low_s16(c_lo), vget_low_s16(c_lo));
        s.squares = vmlal_s16(s.squares, vget_high_s16(c_lo), vget_high_s16(c_lo));
        s.squares = vmlal_s16(s.squares, vget_low_s16(c_hi), vget_low_s16(c_hi));
        s.squares = vmlal_s16(s.squares, vget_high_s16(c_hi), vget_high_s16(c_hi));
        s.sum = vpadalq_u16(s.sum, vpaddlq_u8(v));
      }
    }
    return s;
  }
  static void u8_total(U8Sums s, int64_t& dot, int64_t& sum, int64_t& squares) {
    dot = vaddlvq_s32(s.dot);
    squares = vaddlvq_s32(s.squares);
    sum = static_cast<int64_t>(vaddlvq_u32(s.sum));
  }

  static uint64_t popcount64(uint64_t x) { return vaddv_u8(vcnt_u8(vcreate_u8(x))); }
  static Count count_zero() { return 0; }
  static Count xor_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    const uint8x16_t x = veorq_u8(vld1q_u8(reinterpret_cast<const uint8_t*>(a)), vld1q_u8(reinterpret_cast<const uint8_t*>(b)));
    return acc + vaddlvq_u8(vcntq_u8(x));
  }
  static Count xor_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    return n ? acc + popcount64(vidx_read_word(a) ^ vidx_read_word(b)) : acc;
  }
  static Count and_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    const uint8x16_t x = vandq_u8(vld1q_u8(reinterpret_cast<const uint8_t*>(a)), vld1q_u8(reinterpret_cast<const uint8_t*>(b)));
    return acc + vaddlvq_u8(vcntq_u8(x));
  }
  static Count and_popcount_partial(Count acc, const uint64_t* a, const uint64_t* b, size_t n) {
    return n ? acc + popcount64(vidx_read_word(a) & vidx_read_word(b)) : acc;
  }
  static uint64_t count_total(Count acc) { return acc; }
};

}  // namespace vidx::simd
