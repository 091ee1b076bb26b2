// Whether f32_split walks take their inner products with AVX512-BF16 (split_avx512bf16.cpp):
// where the compiler built those kernels and the CPU runs them, unless VIDX_BF16=0 asks for the
// float32 query's kernels (to compare results with a CPU that lacks the extension).
#include <cstdlib>
#include <cstring>

#include "vidx/codec/split_f32_kernels.hpp"
#include "vidx/simd/cpu_features.hpp"

namespace vidx::split {

#if defined(VIDX_AVX512BF16_KERNELS)
RoundedDotFn avx512bf16_dot_kernel();
RoundedBatchFn avx512bf16_dot_batch_kernel();

namespace {
bool use_bf16() {
  static const bool use = [] {
    const simd::CpuFeatures& f = simd::cpu_features();
    const char* env = std::getenv("VIDX_BF16");
    return f.avx512bf16 && f.avx512f && f.avx512bw && !(env && std::strcmp(env, "0") == 0);
  }();
  return use;
}
}  // namespace
#endif

RoundedDotFn avx512bf16_dot() {
#if defined(VIDX_AVX512BF16_KERNELS)
  if (use_bf16()) return avx512bf16_dot_kernel();
#endif
  return nullptr;
}

RoundedBatchFn avx512bf16_dot_batch() {
#if defined(VIDX_AVX512BF16_KERNELS)
  if (use_bf16()) return avx512bf16_dot_batch_kernel();
#endif
  return nullptr;
}

}  // namespace vidx::split
