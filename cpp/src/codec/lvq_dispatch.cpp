// Picks the LVQ kernel table of the level the main kernel table runs at.
#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {

const KernelTable* kernels_for(simd::Level level) {
#if defined(VIDX_X86_KERNELS)
  return simd::pick_for_level(level, scalar_kernels(), &avx2_kernels(), &avx512_kernels());
#else
  return simd::pick_for_level<KernelTable>(level, scalar_kernels(), nullptr, nullptr);
#endif
}

const KernelTable& kernels() {
  static const KernelTable& chosen = *lvq::kernels_for(simd::kernels().level);
  return chosen;
}

}  // namespace vidx::lvq
