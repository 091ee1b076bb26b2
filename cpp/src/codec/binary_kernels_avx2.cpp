// Hamming distance with the POPCNT instruction (compiled with the AVX2 level's flags).
#include <nmmintrin.h>

#include "vidx/codec/binary_kernels.hpp"

namespace vidx::binary {

uint32_t hamming_avx2(const uint64_t* a, const uint64_t* b, size_t words) {
  uint64_t n0 = 0, n1 = 0;
  size_t i = 0;
  for (; i + 2 <= words; i += 2) {
    n0 += static_cast<uint64_t>(_mm_popcnt_u64(a[i] ^ b[i]));
    n1 += static_cast<uint64_t>(_mm_popcnt_u64(a[i + 1] ^ b[i + 1]));
  }
  if (i < words) n0 += static_cast<uint64_t>(_mm_popcnt_u64(a[i] ^ b[i]));
  return static_cast<uint32_t>(n0 + n1);
}

}  // namespace vidx::binary
