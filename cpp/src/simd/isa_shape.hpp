// What the loops need to know about an ISA besides its primitives (see isa.md).
#pragma once
#include <cstddef>
#include <cstdint>

#include "vidx/simd/kernels.hpp"

namespace vidx::simd {

// kWidth: float lanes per register; kPopWords: 64-bit words per Hamming step; kBoundBlocks:
// kBoundCheckDims blocks a bounded L2 batch sums between two looks at its bound when no
// check scales are given (isa.md).
template <Level L, size_t Width, size_t PopWords, size_t BoundBlocks = 1>
struct IsaShape {
  static constexpr Level kLevel = L;
  static constexpr size_t kWidth = Width;
  static constexpr size_t kPopWords = PopWords;
  static constexpr size_t kBoundBlocks = BoundBlocks;
  // Bit planes an ISA weighs in bytes (weighted_and_popcount); 0: planes_dot counts word by word.
  static constexpr size_t kMaxBytePlanes = 0;
  // Candidates an unbounded batch scores side by side (loops::batch): as many as the ISA's
  // registers hold four accumulators each for, besides the query's four registers.
  static constexpr size_t kBatchGroup = 1;
};

}  // namespace vidx::simd
