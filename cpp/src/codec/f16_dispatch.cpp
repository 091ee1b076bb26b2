// Picks the float16 kernel table of the level the main kernel table runs at.
#include "vidx/codec/f16_kernels.hpp"

namespace vidx::f16k {

const KernelTable* kernels_for(simd::Level level) {
  if (!simd::kernels_for(level)) return nullptr;
  switch (level) {
    case simd::Level::Scalar: return &scalar_kernels();
#if defined(VIDX_X86_KERNELS)
    case simd::Level::AVX2: return &avx2_kernels();
    case simd::Level::AVX512: return &avx512_kernels();
#else
    default: return nullptr;
#endif
  }
  return nullptr;
}

const KernelTable& kernels() {
  static const KernelTable& chosen = *f16k::kernels_for(simd::kernels().level);
  return chosen;
}

}  // namespace vidx::f16k
