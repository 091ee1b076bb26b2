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
#include <cstddef>
#include <cstdint>

#include "vidx/simd/kernels.hpp"

namespace vidx::lvq {

constexpr size_t kBlockDims = 32;

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

struct KernelTable {
  simd::Level level;
  L2Fn l2[kPackings];
  DotFn dot[kPackings];
  DecodeFn decode[kPackings];
};

// The table of the level simd::kernels() chose, so VIDX_SIMD lowers these kernels too.
const KernelTable& kernels();
// The table of one level, or nullptr where simd::kernels_for(level) is unavailable.
const KernelTable* kernels_for(simd::Level level);

// The table of one ISA (see vidx/simd/kernels.hpp).
template <class Isa>
const KernelTable& table_of();

}  // namespace vidx::lvq
