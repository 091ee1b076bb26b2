// Kernels of binary codes, one table per SIMD level: Hamming distance (popcount instructions
// are not in the x86-64 baseline, so even a scalar-looking loop needs its ISA's flags) and the
// masked sum of the asymmetric estimator.
#pragma once
#include <cstddef>
#include <cstdint>

#include "vidx/simd/kernels.hpp"

namespace vidx::binary {

// Number of differing bits in two codes of `words` 64-bit words.
using HammingFn = uint32_t (*)(const uint64_t* a, const uint64_t* b, size_t words);

// The kernel of the level simd::kernels() chose (AVX-512 uses VPOPCNTDQ where the CPU has it).
HammingFn hamming();
// The kernel of one level, or nullptr where that level is unavailable.
HammingFn hamming_for(simd::Level level);

// sum of q_i over the set bits i of a code of `words` 64-bit words (q holds 64·words floats):
// the query side of the asymmetric estimator, <q, 2b - 1> = 2·masked_sum - sum(q).
using MaskedSumFn = float (*)(const float* q, const uint64_t* bits, size_t words);
MaskedSumFn masked_sum();
MaskedSumFn masked_sum_for(simd::Level level);

// sum_j 2^j · popcount(code & plane_j): a query quantized to `count` bits a dimension, stored as
// `count` bit planes of `words` words each, against a code of one-bit signs (the sum of the
// quantized values over the code's set bits, in integers, so every level agrees exactly).
using PlanesDotFn = uint32_t (*)(const uint64_t* planes, const uint64_t* code, size_t words, size_t count);
PlanesDotFn planes_dot();
PlanesDotFn planes_dot_for(simd::Level level);

struct KernelTable {
  simd::Level level;
  HammingFn hamming;
  MaskedSumFn masked_sum;
  PlanesDotFn planes_dot;
};

// The table of one ISA (see vidx/simd/kernels.hpp).
template <class Isa>
const KernelTable& table_of();

}  // namespace vidx::binary
