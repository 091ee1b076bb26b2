// SIMD kernels of the float16 codec: a float32 query against IEEE binary16 codes, converted
// in registers (F16C on AVX2, VCVTPH2PS on AVX-512, FCVTL on NEON, a portable conversion on
// scalar). The
// conversion from float16 to float32 is exact at every level, so levels differ only in the
// order of their float32 sums.
#pragma once
#include <cstddef>
#include <cstdint>

#include "vidx/simd/kernels.hpp"

namespace vidx::f16k {

// sum_i (q_i - x_i)^2 and sum_i q_i·x_i, q float32, x float16.
using QueryFn = float (*)(const float* q, const uint16_t* x, size_t dim);
// The same between two float16 vectors (graph construction compares stored vectors).
using PairFn = float (*)(const uint16_t* a, const uint16_t* b, size_t dim);
// L2 over n codes that may stop on a code once its partial sum (checked every
// simd::kBoundCheckDims dimensions) reaches `bound`, returning that partial sum; below the
// bound it returns exactly what l2 returns (as simd::BoundedBatchFn, check_scales included).
using BoundedBatchFn = void (*)(const float* q, const uint16_t* const* xs, size_t n, size_t dim, float bound,
                                const float* check_scales, float* out);

struct KernelTable {
  simd::Level level;
  QueryFn l2;
  QueryFn dot;
  PairFn l2_pair;
  PairFn dot_pair;
  BoundedBatchFn l2_batch_bounded;
};

// The table of the level simd::kernels() chose (VIDX_SIMD lowers it too).
const KernelTable& kernels();
// The table of one level, or nullptr where that level is unavailable.
const KernelTable* kernels_for(simd::Level level);

// The table of one ISA (see vidx/simd/kernels.hpp).
template <class Isa>
const KernelTable& table_of();

}  // namespace vidx::f16k
