// What the loops need to know about an ISA besides its primitives (see isa.md).
#pragma once
#include <cstddef>
#include <cstdint>

#include "vidx/simd/kernels.hpp"

namespace vidx::simd {

// kWidth: float lanes per register; kPopWords: 64-bit words per Hamming step.
template <Level L, size_t Width, size_t PopWords>
struct IsaShape {
  static constexpr Level kLevel = L;
  static constexpr size_t kWidth = Width;
  static constexpr size_t kPopWords = PopWords;
};

}  // namespace vidx::simd
