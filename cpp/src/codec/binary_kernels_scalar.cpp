// Portable Hamming distance: the reference, and the dispatch between levels.
#include "vidx/codec/binary_kernels.hpp"
#include "vidx/simd/cpu_features.hpp"

namespace vidx::binary {

uint32_t hamming_scalar(const uint64_t* a, const uint64_t* b, size_t words) {
  uint32_t n = 0;
  for (size_t i = 0; i < words; ++i) {
    uint64_t x = a[i] ^ b[i];
    // Bit-parallel count: the baseline has no popcount instruction.
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    n += static_cast<uint32_t>((x * 0x0101010101010101ull) >> 56);
  }
  return n;
}

float masked_sum_scalar(const float* q, const uint64_t* bits, size_t words) {
  float acc[4] = {};
  for (size_t w = 0; w < words; ++w)
    for (size_t i = 0; i < 64; ++i)
      if ((bits[w] >> i) & 1u) acc[i / 16] += q[w * 64 + i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

MaskedSumFn masked_sum_for(simd::Level level) {
  if (!simd::kernels_for(level)) return nullptr;
  switch (level) {
    case simd::Level::Scalar: return masked_sum_scalar;
#if defined(VIDX_X86_KERNELS)
    case simd::Level::AVX2: return masked_sum_avx2;
    case simd::Level::AVX512: return masked_sum_avx512;
#else
    default: return nullptr;
#endif
  }
  return nullptr;
}

MaskedSumFn masked_sum() {
  static const MaskedSumFn chosen = masked_sum_for(simd::kernels().level);
  return chosen;
}

HammingFn hamming_for(simd::Level level) {
  if (!simd::kernels_for(level)) return nullptr;
  switch (level) {
    case simd::Level::Scalar: return hamming_scalar;
#if defined(VIDX_X86_KERNELS)
    case simd::Level::AVX2: return hamming_avx2;
    case simd::Level::AVX512: return simd::cpu_features().avx512vpopcntdq ? hamming_avx512 : hamming_avx2;
#else
    default: return nullptr;
#endif
  }
  return nullptr;
}

HammingFn hamming() {
  static const HammingFn chosen = hamming_for(simd::kernels().level);
  return chosen;
}

}  // namespace vidx::binary
