// SIMD kernels of the "f32_split" codec (split_f32.hpp), whose float32 values are stored as
// two 16-bit halves apart: a float32 query against the upper halves alone (what a graph walk
// reads), and against both halves joined again in registers (exactly the stored float32, for
// re-ranking). Halves are joined and widened with integer shifts, so every level reads the same
// values; levels differ only in the order of their float32 sums, and the joined kernels sum in
// the order of the float32 kernels (simd::KernelTable), so they return float32's distances bit
// for bit.
#pragma once
#include <cstddef>
#include <cstdint>

#include "vidx/codec/float16.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::split {

// The upper 16 bits of a float32: its sign, exponent and leading 7 mantissa bits (a bfloat16
// truncated, not rounded, so the lower half completes it without a carry). Its own type, so the
// float loops, which load an element by its type, read it as a value.
struct UpperHalf {
  uint16_t bits;
};
static_assert(sizeof(UpperHalf) == 2, "upper halves are packed two bytes apart");

// An upper half read alone is the float32 it begins with a zero lower half (a truncated
// bfloat16): within a step of 2^-7 of the stored value, relative, towards zero. It used to be
// read as the midpoint of the floats it begins (lower half 0x8000: half that error, as often
// above as below), but that ORs a constant into every value of every walk, and at equal recall
// the walk was faster without it: AVX2, alternating processes, ratio to hnswlib, fashion-mnist
// 1.94x -> 2.03x, wordnet-minilm 1.87x -> 1.96x, recall unchanged within 0.0003
// (benchmarks/results/graph.md section 22). Walks only choose candidates; their order is
// re-ranked with both halves.
// The float32 bits are reassembled and read back with float16.hpp's portable bit casts.
inline float upper_value(UpperHalf u) { return f16::float_of(static_cast<uint32_t>(u.bits) << 16); }
inline float joined(UpperHalf u, uint16_t lower) { return f16::float_of(static_cast<uint32_t>(u.bits) << 16 | lower); }

// sum_i (q_i - x_i)^2 and sum_i q_i·x_i, q float32, x the upper halves' values (upper_value).
using QueryFn = float (*)(const float* q, const UpperHalf* x, size_t dim);
// The same between two vectors' upper halves (graph construction compares stored vectors).
using PairFn = float (*)(const UpperHalf* a, const UpperHalf* b, size_t dim);
// One query against n vectors' upper halves given by pointers (as simd::BatchFn).
using BatchFn = void (*)(const float* q, const UpperHalf* const* xs, size_t n, size_t dim, float* out);
// L2 over n vectors' upper halves that may stop on one once its partial sum reaches `bound`
// (as simd::BoundedBatchFn, check_scales included).
using BoundedBatchFn = void (*)(const float* q, const UpperHalf* const* xs, size_t n, size_t dim, float bound,
                                const float* check_scales, float* out);
// L2 and inner product against the float32 values that `upper` and `lower` join into.
using JoinedFn = float (*)(const float* q, const UpperHalf* upper, const uint16_t* lower, size_t dim);
// sum_i q_i·x_i with the query rounded to bfloat16 too (round_to_upper), stored as x is: every
// product is exact in float32, so these differ from `dot` given the rounded query's values only
// in the order of their sums. AVX512-BF16's vdpbf16ps takes such pairs of 16-bit values whole,
// without widening them first: about half the instructions of a walk's inner products.
using RoundedDotFn = float (*)(const UpperHalf* q, const UpperHalf* x, size_t dim);
using RoundedBatchFn = void (*)(const UpperHalf* q, const UpperHalf* const* xs, size_t n, size_t dim, float* out);

struct KernelTable {
  simd::Level level;
  QueryFn l2;
  QueryFn dot;
  PairFn l2_pair;
  PairFn dot_pair;
  BatchFn l2_batch;
  BatchFn dot_batch;
  BoundedBatchFn l2_batch_bounded;
  JoinedFn l2_joined;
  JoinedFn dot_joined;
  // Inner products against a rounded query (null unless this level's CPU runs vdpbf16ps and
  // the compiler built its kernels: split_avx512bf16.cpp).
  RoundedDotFn dot_rounded;
  RoundedBatchFn dot_batch_rounded;
};

// A float32 rounded to the nearest bfloat16 (ties to even), as an upper half; values beyond
// bfloat16's range round to infinity as any float rounding would, NaN stays NaN (quieted).
// Chosen without a branch, so that a loop over a query vectorises (a walk rounds its query).
inline UpperHalf round_to_upper(float x) {
  const uint32_t bits = f16::bits_of(x);
  const uint32_t nearest = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
  const uint32_t quiet_nan = (bits >> 16) | 0x40u;
  return UpperHalf{static_cast<uint16_t>((bits & 0x7fffffffu) > 0x7f800000u ? quiet_nan : nearest)};
}

// The AVX512-BF16 kernels, or null where the CPU lacks the extension or the compiler could not
// build them (split_avx512bf16.cpp).
RoundedDotFn avx512bf16_dot();
RoundedBatchFn avx512bf16_dot_batch();

// The table of the level simd::kernels() chose (VIDX_SIMD lowers it too).
const KernelTable& kernels();
// The table of one level, or nullptr where that level is unavailable.
const KernelTable* kernels_for(simd::Level level);

// The table of one ISA (see vidx/simd/kernels.hpp).
template <class Isa>
const KernelTable& table_of();

}  // namespace vidx::split
