// SIMD kernels of the LVQ codec: a float query against integer codes, decoded in registers.
//
// Code layout (what every level reads): dimensions are padded to whole blocks of 32.
//   8-bit codes: one byte per dimension, in order.
//   4-bit codes: 16 bytes per block; byte j holds dimension j in its low nibble and
//                dimension j+16 in its high nibble. One 16-byte load widened to 32-bit lanes
//                then yields 16 consecutive dimensions with a mask and 16 more with a shift,
//                so no shuffles are needed (AVX2 reads 8 bytes for 8+8 dimensions).
// A code value v_i is the primary code c_i (one level) or (2^B2 - 1)·c_i + r_i (two levels,
// with residual r_i), and the stored vector is x_i = mu_i + offset + scale·v_i.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "vidx/codec/float16.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::lvq {

constexpr size_t kBlockDims = 32;

// The sign bit of a code's float16 step marks its constants as stored times 2^S (lvq.hpp).
constexpr uint16_t kScaledMark = 0x8000;
// The largest S: 2^-14 (float16's smallest normal) times 2^-S stays a normal float.
constexpr int kMaxScaleExponent = 100;

// Bit widths of the code parts a kernel reads (primary x residual; U8 = 8-bit primary only).
enum class Packing : int { U8 = 0, U4 = 1, U4U4 = 2, U4U8 = 3, U8U8 = 4 };
constexpr int kPackings = 5;

// sum_i (q_i - (offset + scale·v_i))^2 over padded_dim dimensions (q is centred and padded).
using L2Fn = float (*)(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim,
                       float scale, float offset);
// sum_i q_i·v_i over padded_dim dimensions.
using DotFn = float (*)(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim);
// out_i = offset + scale·v_i for padded_dim dimensions.
using DecodeFn = void (*)(const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale,
                          float offset, float* out);

// Integer sums of 4-bit codes c against an 8-bit query r, exact at every level: a graph walk
// over the primary codes of a two-level codec compares a query rounded to 8 bits (lvq.cpp),
// at a quarter of the float kernel's instructions.
struct U4Terms {
  int32_t dot = 0;      // sum r_i·c_i
  int32_t sum = 0;      // sum c_i
  int32_t squares = 0;  // sum c_i^2
};
// The query r of U4TermsFn, in groups of kU4QueryGroup blocks: a group of g blocks (the last
// may be shorter) holds the 16 low-nibble dimensions of each block (block dims 0-15), then the
// 16 high-nibble ones of each (dims 16-31), so a register of several blocks' code bytes meets
// its query bytes in one load. arrange_u4_query writes it from r in dimension order.
constexpr size_t kU4QueryGroup = 4;
inline void arrange_u4_query(const int8_t* r, size_t blocks, int8_t* out) {
  for (size_t first = 0; first < blocks; first += kU4QueryGroup) {
    const size_t g = blocks - first < kU4QueryGroup ? blocks - first : kU4QueryGroup;
    int8_t* group = out + first * kBlockDims;
    for (size_t k = 0; k < g; ++k)
      for (size_t j = 0; j < 16; ++j) {
        group[16 * k + j] = r[(first + k) * kBlockDims + j];
        group[16 * g + 16 * k + j] = r[(first + k) * kBlockDims + 16 + j];
      }
  }
}
// The terms of `blocks` blocks of 4-bit codes (16 bytes each, the layout above).
using U4TermsFn = U4Terms (*)(const int8_t* arranged_query, const uint8_t* codes, size_t blocks);
// The dot alone (sum and squares 0): cosine and inner product need no code norms, and their
// rounded walks spent a third of the kernel's instructions on them. Saved graphs, lvq4 + kept
// float32, alternating processes, ratio to hnswlib: wordnet-minilm ef 24 2.58x -> 2.76x (medians
// of four, recall unchanged), glove6b-50 ef 128 1.37x -> 1.42x (graph.md section 30).
using U4DotFn = U4TermsFn;

// The terms of n codes (codes[i] holds `blocks` blocks) into out[i], requesting the first
// read_bytes of a code a few ahead as it scores: a walk's gather in one call through the table,
// the kernel called directly for each code, instead of an indirect call per code.
using U4TermsBatchFn = void (*)(const int8_t* arranged_query, const uint8_t* const* codes, size_t n, size_t blocks,
                                size_t read_bytes, U4Terms* out);

// Integer sums of 8-bit codes c against an 8-bit query r, both in dimension order over whole
// blocks (r is zero in the padding): the rounded-query walk over 8-bit primary codes, for walks
// whose candidates are re-scored (lvq.cpp). 64-bit totals: the squares of a few thousand
// dimensions already pass 2^31 / 65025.
struct U8Terms {
  int64_t dot = 0;      // sum r_i·c_i
  int64_t sum = 0;      // sum c_i (U8DotFn leaves it 0)
  int64_t squares = 0;  // sum c_i^2 (U8DotFn leaves it 0)
};
// The SIMD levels sum in 32-bit lanes, each taking up to 8 products of at most 255^2 a block
// (NEON's 4 lanes; AVX2's 8 take 4, AVX-512's 16 take 2): exact up to kU8MaxBlocks blocks
// (65,536 dimensions), with room (a lane could pass 2^31 past 4,128 blocks). Longer codes walk
// with the float kernels instead (LvqCodec::prepare_reranked_walk): at 600,000 dimensions
// AVX2 and AVX-512 returned a far row as the nearest. (Summing longer codes in parts cost
// short ones' walks 4-6%: lvq8x8 on glove, single thread.)
constexpr size_t kU8MaxBlocks = 2048;
// All three terms (L2), or the dot alone (inner product: it needs no code norms).
using U8TermsFn = U8Terms (*)(const int8_t* query, const uint8_t* codes, size_t blocks);
using U8DotFn = U8TermsFn;

// A code's float16 step and bias (at constants_offset, the bias two bytes on) in the data's
// units: times unscale (2^-S, lvq.hpp) where the step's sign bit marks them scaled. A codec with
// S = 0 (unscale 1) marks nothing, and its walks skip the test. Both products are exact (powers
// of two), so float and double callers get the same values.
struct StoredConstants {
  float delta, bias;
};
inline StoredConstants stored_constants(const uint8_t* code, size_t constants_offset, float unscale) {
  uint16_t stored[2];
  std::memcpy(stored, code + constants_offset, sizeof(stored));
  if (unscale == 1.f) return StoredConstants{f16::to_float(stored[0]), f16::to_float(stored[1])};
  const float factor = (stored[0] & kScaledMark) ? unscale : 1.f;
  return StoredConstants{f16::to_float(static_cast<uint16_t>(stored[0] & ~kScaledMark)) * factor,
                         f16::to_float(stored[1]) * factor};
}

// What the rounded walk's distance takes from its query besides a code's integer sums: with the
// code's float16 constants (scale at constants_offset, offset two bytes on),
//   <q, x> ~ offset·sum(q) + scale·step·dot
// and the distance is 1 - (<q, mu> + that) (cosine, inner product) or, for L2 (q centred),
//   |q|^2 - 2·that + dim·offset^2 + 2·offset·scale·sum c + scale^2·sum c^2.
struct RoundedQueryTerms {
  double q_sum = 0, q_mu = 0, q_norm = 0, step = 1, dim = 0;
  double unscale = 1;  // 2^-S: the factor of constants marked scaled (lvq.hpp)
  size_t constants_offset = 0;
  bool l2 = false;
};

// The distance above for one code, in double. Its callers, lvq.cpp (baseline flags: no fused
// multiply-add) and lvq_distances_*.cpp (built with -ffp-contract=off), round every
// product, so a code's distance is the same float whichever computes it.
inline float rounded_distance(const RoundedQueryTerms& q, const uint8_t* code, double t_dot, double t_sum,
                              double t_squares) {
  const StoredConstants c = stored_constants(code, q.constants_offset, static_cast<float>(q.unscale));
  const double scale = c.delta, offset = c.bias;
  const double dot = offset * q.q_sum + scale * q.step * t_dot;
  if (q.l2) {
    const double d =
        q.q_norm - 2.0 * dot + q.dim * offset * offset + 2.0 * offset * scale * t_sum + scale * scale * t_squares;
    return static_cast<float>(std::max(d, 0.0));
  }
  return static_cast<float>(1.0 - (q.q_mu + dot));
}

// rounded_distance of n codes from their sums (terms[i] of codes[i]) into out: a loop of the
// kernels' own where vectors make it cheaper than the code-by-code one (AVX-512: eight codes a
// step, AVX2: four), null elsewhere.
using RoundedDistancesFn = void (*)(const RoundedQueryTerms& q, const uint8_t* const* codes, const U4Terms* terms,
                                    size_t n, float* out);
RoundedDistancesFn avx512_rounded_distances();  // lvq_distances_avx512.cpp, x86 builds only
RoundedDistancesFn avx2_rounded_distances();    // lvq_distances_avx2.cpp, x86 builds only

struct KernelTable {
  simd::Level level;
  L2Fn l2[kPackings];
  DotFn dot[kPackings];
  DecodeFn decode[kPackings];
  U4TermsFn u4_terms;
  U4DotFn u4_dot;
  U8TermsFn u8_terms;
  U8DotFn u8_dot;
  U4TermsBatchFn u4_terms_batch;
  U4TermsBatchFn u4_dot_batch;
  RoundedDistancesFn rounded_distances;  // null: rounded_distance a code at a time
};

// The table of the level simd::kernels() chose, so VIDX_SIMD lowers these kernels too.
const KernelTable& kernels();
// The table of one level, or nullptr where simd::kernels_for(level) is unavailable.
const KernelTable* kernels_for(simd::Level level);

// The table of one ISA (see vidx/simd/kernels.hpp).
template <class Isa>
const KernelTable& table_of();

}  // namespace vidx::lvq
