// The LVQ and binary-code loops, written once over an ISA's primitives (isa_<name>.hpp) and
// instantiated per ISA in kernels_<name>.cpp. The LVQ code layout is described in
// vidx/codec/lvq_kernels.hpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include "partial_load.hpp"
#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::simd::loops {

// ---- LVQ -----------------------------------------------------------------------------------

// One 32-dimension block of codes as kRegs registers of W dimensions each, in order.
template <class I>
constexpr size_t kRegs = lvq::kBlockDims / I::kWidth;

// Codes of block b. 8-bit: W bytes per register. 4-bit: W bytes hold W dimensions in their
// low nibbles and the W dimensions 16 further in their high nibbles.
template <class I, int Bits>
inline void load_part(const uint8_t* codes, size_t b, typename I::U v[kRegs<I>]) {
  constexpr size_t W = I::kWidth;
  if constexpr (Bits == 8) {
    for (size_t k = 0; k < kRegs<I>; ++k) v[k] = I::widen_u8(codes + b * lvq::kBlockDims + k * W);
  } else {
    for (size_t k = 0; k < kRegs<I> / 2; ++k) {
      const typename I::U bytes = I::widen_u8(codes + b * lvq::kBlockDims / 2 + k * W);
      v[k] = I::low_nibbles(bytes);
      v[k + kRegs<I> / 2] = I::high_nibbles(bytes);
    }
  }
}

// Code values of block b as floats: c, or (2^B2 - 1)·c + r with a residual level.
template <class I, lvq::Packing P>
inline void load_block(const uint8_t* primary, const uint8_t* residual, size_t b, typename I::F out[kRegs<I>]) {
  using lvq::Packing;
  constexpr int kPrimaryBits = (P == Packing::U8 || P == Packing::U8U8) ? 8 : 4;
  constexpr int kResidualBits = P == Packing::U4U4 ? 4 : ((P == Packing::U4U8 || P == Packing::U8U8) ? 8 : 0);
  typename I::U c[kRegs<I>];
  load_part<I, kPrimaryBits>(primary, b, c);
  if constexpr (kResidualBits != 0) {
    typename I::U r[kRegs<I>];
    load_part<I, kResidualBits>(residual, b, r);
    for (size_t k = 0; k < kRegs<I>; ++k) c[k] = I::template combine<kResidualBits>(c[k], r[k]);
  }
  for (size_t k = 0; k < kRegs<I>; ++k) out[k] = I::to_float(c[k]);
}

// Pairwise sum of N registers, ((a0 + a1) + (a2 + a3))..., written so the registers never
// go through memory.
template <class I, size_t N>
inline typename I::F sum_registers(const typename I::F* a) {
  if constexpr (N == 1) return a[0];
  else return I::add(sum_registers<I, N / 2>(a), sum_registers<I, N / 2>(a + N / 2));
}

template <class I, lvq::Packing P>
float lvq_l2(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale,
             float offset) {
  constexpr size_t W = I::kWidth;
  const typename I::F s = I::set1(scale), o = I::set1(offset);
  typename I::F acc[kRegs<I>];
  for (auto& a : acc) a = I::zero();
  for (size_t b = 0; b * lvq::kBlockDims < padded_dim; ++b) {
    typename I::F v[kRegs<I>];
    load_block<I, P>(primary, residual, b, v);
    for (size_t k = 0; k < kRegs<I>; ++k) {
      const typename I::F d = I::sub(I::load(q + b * lvq::kBlockDims + k * W), I::fmadd(s, v[k], o));
      acc[k] = I::fmadd(d, d, acc[k]);
    }
  }
  return I::reduce(sum_registers<I, kRegs<I>>(acc));
}

template <class I, lvq::Packing P>
float lvq_dot(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim) {
  constexpr size_t W = I::kWidth;
  typename I::F acc[kRegs<I>];
  for (auto& a : acc) a = I::zero();
  for (size_t b = 0; b * lvq::kBlockDims < padded_dim; ++b) {
    typename I::F v[kRegs<I>];
    load_block<I, P>(primary, residual, b, v);
    for (size_t k = 0; k < kRegs<I>; ++k) acc[k] = I::fmadd(I::load(q + b * lvq::kBlockDims + k * W), v[k], acc[k]);
  }
  return I::reduce(sum_registers<I, kRegs<I>>(acc));
}

template <class I, lvq::Packing P>
void lvq_decode(const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale, float offset,
                float* out) {
  constexpr size_t W = I::kWidth;
  const typename I::F s = I::set1(scale), o = I::set1(offset);
  for (size_t b = 0; b * lvq::kBlockDims < padded_dim; ++b) {
    typename I::F v[kRegs<I>];
    load_block<I, P>(primary, residual, b, v);
    for (size_t k = 0; k < kRegs<I>; ++k) I::store(out + b * lvq::kBlockDims + k * W, I::fmadd(s, v[k], o));
  }
}

// Integer terms of 4-bit codes against an 8-bit query laid out by lvq::arrange_u4_query:
// whole groups I::kU4Blocks blocks per step, a last short group one block per step; kNorms:
// also sum c and sum c^2 (L2), else the dot alone.
template <class I, bool kNorms>
lvq::U4Terms lvq_u4_terms(const int8_t* q, const uint8_t* codes, size_t blocks) {
  constexpr size_t G = lvq::kU4QueryGroup, kCodeBytes = lvq::kBlockDims / 2;
  static_assert(G % I::kU4Blocks == 0, "a query group must split into whole steps");
  typename I::Terms t = I::terms_zero();
  size_t b = 0;
  for (; b + G <= blocks; b += G, q += G * lvq::kBlockDims, codes += G * kCodeBytes)
    for (size_t k = 0; k < G; k += I::kU4Blocks)
      t = I::template u4_terms<kNorms>(t, codes + k * kCodeBytes, q + k * kCodeBytes, q + (G + k) * kCodeBytes);
  const size_t g = blocks - b;
  for (size_t k = 0; k < g; ++k)
    t = I::template u4_terms_one<kNorms>(t, codes + k * kCodeBytes, q + k * kCodeBytes, q + (g + k) * kCodeBytes);
  lvq::U4Terms out;
  I::terms_total(t, out.dot, out.sum, out.squares);
  return out;
}

// lvq_u4_terms of each of n codes, with the codes ahead requested (simd::prefetching_batch).
template <class I, bool kNorms>
void lvq_u4_terms_batch(const int8_t* q, const uint8_t* const* codes, size_t n, size_t blocks, size_t read_bytes,
                        lvq::U4Terms* out) {
  simd::prefetching_batch(codes, n, read_bytes, out,
                          [&](const uint8_t* code) { return lvq_u4_terms<I, kNorms>(q, code, blocks); });
}

// Integer terms of 8-bit codes against an 8-bit query, both in dimension order, one block of
// 32 bytes per step; kNorms: also sum c and sum c^2 (L2), else the dot alone.
template <class I, bool kNorms>
lvq::U8Terms lvq_u8_terms(const int8_t* q, const uint8_t* codes, size_t blocks) {
  typename I::U8Sums s = I::u8_zero();
  for (size_t b = 0; b < blocks; ++b, q += lvq::kBlockDims, codes += lvq::kBlockDims)
    s = I::template u8_block<kNorms>(s, codes, q);
  lvq::U8Terms out;
  I::u8_total(s, out.dot, out.sum, out.squares);
  return out;
}

// ---- binary codes --------------------------------------------------------------------------

template <class I>
uint32_t hamming(const uint64_t* a, const uint64_t* b, size_t words) {
  typename I::Count acc = I::count_zero();
  size_t i = 0;
  for (; i + I::kPopWords <= words; i += I::kPopWords) acc = I::xor_popcount(acc, a + i, b + i);
  if (i < words) acc = I::xor_popcount_partial(acc, a + i, b + i, words - i);
  return static_cast<uint32_t>(I::count_total(acc));
}

// sum_j 2^j · popcount(code & plane_j) over `planes` bit planes of `words` words each, stored
// one after another: a query quantized to `planes` bits against one-bit codes (sign_sketch.hpp).
template <class I>
uint32_t planes_dot(const uint64_t* planes, const uint64_t* code, size_t words, size_t count) {
  if constexpr (I::kMaxBytePlanes > 0) {
    if (count <= I::kMaxBytePlanes) return static_cast<uint32_t>(I::weighted_and_popcount(planes, code, words, count));
  }
  uint64_t total = 0;
  for (size_t j = 0; j < count; ++j) {
    const uint64_t* plane = planes + j * words;
    typename I::Count acc = I::count_zero();
    size_t i = 0;
    for (; i + I::kPopWords <= words; i += I::kPopWords) acc = I::and_popcount(acc, plane + i, code + i);
    if (i < words) acc = I::and_popcount_partial(acc, plane + i, code + i, words - i);
    total += I::count_total(acc) << j;
  }
  return static_cast<uint32_t>(total);
}

// sum of q_i over the set bits i; four accumulators take turns over the W-bit slices of a word.
template <class I>
float masked_sum(const float* q, const uint64_t* bits, size_t words) {
  constexpr size_t W = I::kWidth;
  static_assert(64 % (4 * W) == 0, "a word must split into whole rounds of the four accumulators");
  typename I::F acc[4] = {I::zero(), I::zero(), I::zero(), I::zero()};
  for (size_t w = 0; w < words; ++w) {
    const uint64_t word = vidx_read_word(bits + w);
    for (size_t k = 0; k < 64 / W; ++k)
      acc[k % 4] = I::masked_add(acc[k % 4], I::load(q + w * 64 + k * W), word >> (k * W));
  }
  return I::reduce(I::add(I::add(acc[0], acc[1]), I::add(acc[2], acc[3])));
}

}  // namespace vidx::simd::loops
