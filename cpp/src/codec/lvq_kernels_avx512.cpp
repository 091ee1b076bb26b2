// AVX-512 LVQ kernels: each 32-dimension block becomes two registers of 16 code values
// (see the layout in lvq_kernels.hpp); the codes never leave registers as floats.
#include <immintrin.h>

#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {
namespace {

inline __m512i widen16(const uint8_t* p) { return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

// Primary (or residual) codes of block b: dimensions 0..15 in lo, 16..31 in hi.
template <int Bits>
inline void load_part(const uint8_t* codes, size_t b, __m512i& lo, __m512i& hi) {
  if (Bits == 8) {
    lo = widen16(codes + b * 32);
    hi = widen16(codes + b * 32 + 16);
  } else {
    const __m512i bytes = widen16(codes + b * 16);
    lo = _mm512_and_si512(bytes, _mm512_set1_epi32(0xf));
    hi = _mm512_srli_epi32(bytes, 4);
  }
}

template <Packing P>
inline void load_block(const uint8_t* primary, const uint8_t* residual, size_t b, __m512& lo, __m512& hi) {
  constexpr int kPrimaryBits = (P == Packing::U8 || P == Packing::U8U8) ? 8 : 4;
  constexpr int kResidualBits = P == Packing::U4U4 ? 4 : ((P == Packing::U4U8 || P == Packing::U8U8) ? 8 : 0);
  __m512i c_lo, c_hi;
  load_part<kPrimaryBits>(primary, b, c_lo, c_hi);
  if (kResidualBits) {
    // v = (2^B2 - 1)·c + r, as a shift and a subtraction.
    __m512i r_lo, r_hi;
    load_part<kResidualBits == 8 ? 8 : 4>(residual, b, r_lo, r_hi);
    c_lo = _mm512_add_epi32(_mm512_sub_epi32(_mm512_slli_epi32(c_lo, kResidualBits), c_lo), r_lo);
    c_hi = _mm512_add_epi32(_mm512_sub_epi32(_mm512_slli_epi32(c_hi, kResidualBits), c_hi), r_hi);
  }
  lo = _mm512_cvtepi32_ps(c_lo);
  hi = _mm512_cvtepi32_ps(c_hi);
}

template <Packing P>
float l2(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale,
         float offset) {
  const __m512 s = _mm512_set1_ps(scale), o = _mm512_set1_ps(offset);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (size_t b = 0; b * kBlockDims < padded_dim; ++b) {
    __m512 v_lo, v_hi;
    load_block<P>(primary, residual, b, v_lo, v_hi);
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(q + b * 32), _mm512_fmadd_ps(s, v_lo, o));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(q + b * 32 + 16), _mm512_fmadd_ps(s, v_hi, o));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <Packing P>
float dot(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (size_t b = 0; b * kBlockDims < padded_dim; ++b) {
    __m512 v_lo, v_hi;
    load_block<P>(primary, residual, b, v_lo, v_hi);
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + b * 32), v_lo, acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + b * 32 + 16), v_hi, acc1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <Packing P>
void decode(const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale, float offset, float* out) {
  const __m512 s = _mm512_set1_ps(scale), o = _mm512_set1_ps(offset);
  for (size_t b = 0; b * kBlockDims < padded_dim; ++b) {
    __m512 v_lo, v_hi;
    load_block<P>(primary, residual, b, v_lo, v_hi);
    _mm512_storeu_ps(out + b * 32, _mm512_fmadd_ps(s, v_lo, o));
    _mm512_storeu_ps(out + b * 32 + 16, _mm512_fmadd_ps(s, v_hi, o));
  }
}

}  // namespace

const KernelTable& avx512_kernels() {
  using P = Packing;
  static const KernelTable table{
      simd::Level::AVX512,
      {l2<P::U8>, l2<P::U4>, l2<P::U4U4>, l2<P::U4U8>, l2<P::U8U8>},
      {dot<P::U8>, dot<P::U4>, dot<P::U4U4>, dot<P::U4U8>, dot<P::U8U8>},
      {decode<P::U8>, decode<P::U4>, decode<P::U4U4>, decode<P::U4U8>, decode<P::U8U8>}};
  return table;
}

}  // namespace vidx::lvq
