// Scalar "ISA": the primitives of the portable reference level, on eight-lane arrays of plain
// floats. Eight independent lanes keep the summation order close to the SIMD levels' and let
// compilers vectorise the loops without -ffast-math. The contract: isa.md.
#pragma once
#include "vidx/codec/float16.hpp"
#include "vidx/codec/split_f32_kernels.hpp"
#include "isa_shape.hpp"
#include "partial_load.hpp"

namespace vidx::simd {

struct IsaScalar : IsaShape<Level::Scalar, /*width=*/8, /*pop_words=*/1> {
  struct F { float v[kWidth]; };
  struct U { uint32_t v[kWidth]; };
  using Count = uint64_t;

  static F zero() { return set1(0.f); }
  static F set1(float x) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = x;
    return r;
  }
  static F load(const float* p) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = p[l];
    return r;
  }
  static F load(const uint16_t* p) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = f16::to_float(p[l]);
    return r;
  }
  // Written per lane (not as a copy loop, which compilers turn into a memcpy call).
  static F load_partial(const float* p, size_t n) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = l < n ? p[l] : 0.f;
    return r;
  }
  static F load_partial(const uint16_t* p, size_t n) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = l < n ? f16::to_float(p[l]) : 0.f;
    return r;
  }
  static F load(const split::UpperHalf* p) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = split::upper_value(p[l]);
    return r;
  }
  static F load_partial(const split::UpperHalf* p, size_t n) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = l < n ? split::upper_value(p[l]) : 0.f;
    return r;
  }
  static F load_joined(const split::UpperHalf* u, const uint16_t* lower) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = split::joined(u[l], lower[l]);
    return r;
  }
  static F load_joined_partial(const split::UpperHalf* u, const uint16_t* lower, size_t n) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = l < n ? split::joined(u[l], lower[l]) : 0.f;
    return r;
  }
  static void store(float* p, F a) {
    for (size_t l = 0; l < kWidth; ++l) p[l] = a.v[l];
  }
  static F add(F a, F b) {
    for (size_t l = 0; l < kWidth; ++l) a.v[l] += b.v[l];
    return a;
  }
  static F sub(F a, F b) {
    for (size_t l = 0; l < kWidth; ++l) a.v[l] -= b.v[l];
    return a;
  }
  static F fmadd(F a, F b, F c) {
    for (size_t l = 0; l < kWidth; ++l) c.v[l] += a.v[l] * b.v[l];
    return c;
  }
  static F min(F a, F b) {
    for (size_t l = 0; l < kWidth; ++l) b.v[l] = a.v[l] < b.v[l] ? a.v[l] : b.v[l];
    return b;
  }
  static uint32_t not_above_bits(F a, F b) {
    uint32_t bits = 0;
    for (size_t l = 0; l < kWidth; ++l) bits |= static_cast<uint32_t>(!(a.v[l] > b.v[l])) << l;
    return bits;
  }
  static float reduce(F a) {
    float s = 0.f;
    for (size_t l = 0; l < kWidth; ++l) s += a.v[l];
    return s;
  }
  static F masked_add(F acc, F x, uint64_t lane_bits) {
    for (size_t l = 0; l < kWidth; ++l)
      if ((lane_bits >> l) & 1u) acc.v[l] += x.v[l];
    return acc;
  }
  static void prefetch(const void*) {}

  static U widen_u8(const uint8_t* p) {
    U r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = p[l];
    return r;
  }
  static U low_nibbles(U a) {
    for (size_t l = 0; l < kWidth; ++l) a.v[l] &= 0xfu;
    return a;
  }
  static U high_nibbles(U a) {
    for (size_t l = 0; l < kWidth; ++l) a.v[l] >>= 4;
    return a;
  }
  template <int Bits>
  static U combine(U c, U r) {
    for (size_t l = 0; l < kWidth; ++l) c.v[l] = ((1u << Bits) - 1u) * c.v[l] + r.v[l];
    return c;
  }
  static F to_float(U a) {
    F r;
    for (size_t l = 0; l < kWidth; ++l) r.v[l] = static_cast<float>(a.v[l]);
    return r;
  }

  // LVQ 4-bit integer terms (loops_codes.hpp), one 16-byte block per step.
  struct Terms {
    int32_t dot = 0, squares = 0, sum = 0;
  };
  static constexpr size_t kU4Blocks = 1;
  static Terms terms_zero() { return {}; }
  template <bool kNorms>  // also sum c and sum c^2 (L2), else the dot alone
  static Terms u4_terms(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    for (size_t j = 0; j < 16; ++j) {
      const int32_t lo = codes[j] & 0xf, hi = codes[j] >> 4;
      t.dot += lo * q_lo[j] + hi * q_hi[j];
      if constexpr (kNorms) {
        t.squares += lo * lo + hi * hi;
        t.sum += lo + hi;
      }
    }
    return t;
  }
  template <bool kNorms>
  static Terms u4_terms_one(Terms t, const uint8_t* codes, const int8_t* q_lo, const int8_t* q_hi) {
    return u4_terms<kNorms>(t, codes, q_lo, q_hi);
  }
  static void terms_total(Terms t, int32_t& dot, int32_t& sum, int32_t& squares) {
    dot = t.dot;
    sum = t.sum;
    squares = t.squares;
  }

  // LVQ 8-bit integer terms (loops_codes.hpp), one 32-byte block per step.
  struct U8Sums {
    int64_t dot = 0, sum = 0, squares = 0;
  };
  static U8Sums u8_zero() { return {}; }
  template <bool kNorms>
  static U8Sums u8_block(U8Sums s, const uint8_t* codes, const int8_t* q) {
    for (size_t j = 0; j < 32; ++j) {
      const int32_t c = codes[j];
      s.dot += c * q[j];
      if (kNorms) {
        s.sum += c;
        s.squares += c * c;
      }
    }
    return s;
  }
  static void u8_total(U8Sums s, int64_t& dot, int64_t& sum, int64_t& squares) {
    dot = s.dot;
    sum = s.sum;
    squares = s.squares;
  }

  // Bit-parallel count: the x86-64 baseline has no popcount instruction.
  static uint64_t popcount64(uint64_t x) {
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (x * 0x0101010101010101ull) >> 56;
  }
  static Count count_zero() { return 0; }
  static Count xor_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    return acc + popcount64(vidx_read_word(a) ^ vidx_read_word(b));
  }
  static Count xor_popcount_partial(Count acc, const uint64_t*, const uint64_t*, size_t) { return acc; }
  static Count and_popcount(Count acc, const uint64_t* a, const uint64_t* b) {
    return acc + popcount64(vidx_read_word(a) & vidx_read_word(b));
  }
  static Count and_popcount_partial(Count acc, const uint64_t*, const uint64_t*, size_t) { return acc; }
  static uint64_t count_total(Count acc) { return acc; }
};

}  // namespace vidx::simd
