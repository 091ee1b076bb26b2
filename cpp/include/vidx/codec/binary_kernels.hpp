// Hamming distance between bit codes, one kernel per SIMD level (popcount instructions are
// not in the x86-64 baseline, so even the scalar-looking loop needs its ISA's flags).
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

float masked_sum_scalar(const float* q, const uint64_t* bits, size_t words);
#if defined(VIDX_X86_KERNELS)
float masked_sum_avx2(const float* q, const uint64_t* bits, size_t words);
float masked_sum_avx512(const float* q, const uint64_t* bits, size_t words);
#endif

uint32_t hamming_scalar(const uint64_t* a, const uint64_t* b, size_t words);
#if defined(VIDX_X86_KERNELS)
uint32_t hamming_avx2(const uint64_t* a, const uint64_t* b, size_t words);
uint32_t hamming_avx512(const uint64_t* a, const uint64_t* b, size_t words);
#endif

}  // namespace vidx::binary
