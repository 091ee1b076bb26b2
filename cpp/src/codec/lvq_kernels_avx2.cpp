// AVX2 LVQ kernels: each 32-dimension block becomes four registers of 8 code values
// (see the layout in lvq_kernels.hpp); the codes never leave registers as floats.
#include <immintrin.h>

#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {
namespace {

inline __m256i widen8(const uint8_t* p) {
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
}

// Codes of block b, dimensions 8k..8k+7 in v[k].
template <int Bits>
inline void load_part(const uint8_t* codes, size_t b, __m256i v[4]) {
  if (Bits == 8) {
    for (int k = 0; k < 4; ++k) v[k] = widen8(codes + b * 32 + 8 * k);
  } else {
    const __m256i mask = _mm256_set1_epi32(0xf);
    const __m256i first = widen8(codes + b * 16);       // dimensions 0..7 and 16..23
    const __m256i second = widen8(codes + b * 16 + 8);  // dimensions 8..15 and 24..31
    v[0] = _mm256_and_si256(first, mask);
    v[1] = _mm256_and_si256(second, mask);
    v[2] = _mm256_srli_epi32(first, 4);
    v[3] = _mm256_srli_epi32(second, 4);
  }
}

template <Packing P>
inline void load_block(const uint8_t* primary, const uint8_t* residual, size_t b, __m256 out[4]) {
  constexpr int kPrimaryBits = (P == Packing::U8 || P == Packing::U8U8) ? 8 : 4;
  constexpr int kResidualBits = P == Packing::U4U4 ? 4 : ((P == Packing::U4U8 || P == Packing::U8U8) ? 8 : 0);
  __m256i c[4];
  load_part<kPrimaryBits>(primary, b, c);
  if (kResidualBits) {
    // v = (2^B2 - 1)·c + r, as a shift and a subtraction.
    __m256i r[4];
    load_part<kResidualBits == 8 ? 8 : 4>(residual, b, r);
    for (int k = 0; k < 4; ++k)
      c[k] = _mm256_add_epi32(_mm256_sub_epi32(_mm256_slli_epi32(c[k], kResidualBits), c[k]), r[k]);
  }
  for (int k = 0; k < 4; ++k) out[k] = _mm256_cvtepi32_ps(c[k]);
}

inline float reduce(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

template <Packing P>
float l2(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale,
         float offset) {
  const __m256 s = _mm256_set1_ps(scale), o = _mm256_set1_ps(offset);
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t b = 0; b * kBlockDims < padded_dim; ++b) {
    __m256 v[4];
    load_block<P>(primary, residual, b, v);
    for (int k = 0; k < 4; ++k) {
      const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(q + b * 32 + 8 * k), _mm256_fmadd_ps(s, v[k], o));
      acc[k] = _mm256_fmadd_ps(d, d, acc[k]);
    }
  }
  return reduce(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

template <Packing P>
float dot(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim) {
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
  for (size_t b = 0; b * kBlockDims < padded_dim; ++b) {
    __m256 v[4];
    load_block<P>(primary, residual, b, v);
    for (int k = 0; k < 4; ++k) acc[k] = _mm256_fmadd_ps(_mm256_loadu_ps(q + b * 32 + 8 * k), v[k], acc[k]);
  }
  return reduce(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
}

template <Packing P>
void decode(const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale, float offset, float* out) {
  const __m256 s = _mm256_set1_ps(scale), o = _mm256_set1_ps(offset);
  for (size_t b = 0; b * kBlockDims < padded_dim; ++b) {
    __m256 v[4];
    load_block<P>(primary, residual, b, v);
    for (int k = 0; k < 4; ++k) _mm256_storeu_ps(out + b * 32 + 8 * k, _mm256_fmadd_ps(s, v[k], o));
  }
}

}  // namespace

const KernelTable& avx2_kernels() {
  using P = Packing;
  static const KernelTable table{
      simd::Level::AVX2,
      {l2<P::U8>, l2<P::U4>, l2<P::U4U4>, l2<P::U4U8>, l2<P::U8U8>},
      {dot<P::U8>, dot<P::U4>, dot<P::U4U4>, dot<P::U4U8>, dot<P::U8U8>},
      {decode<P::U8>, decode<P::U4>, decode<P::U4U4>, decode<P::U4U8>, decode<P::U8U8>}};
  return table;
}

}  // namespace vidx::lvq
