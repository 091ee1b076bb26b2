// Picks the LVQ kernel table of the level the main kernel table runs at, so one choice
// (best level, lowered by VIDX_SIMD) governs every kernel in the library.
#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {

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
  static const KernelTable& chosen = *lvq::kernels_for(simd::kernels().level);
  return chosen;
}

}  // namespace vidx::lvq
