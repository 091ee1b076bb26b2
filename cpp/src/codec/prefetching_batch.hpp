// The batch loop of codecs whose distance is one call per code (LVQ, float16): score code i
// while the bytes of a few codes ahead are requested. Private to the codec sources.
#pragma once
#include <cstddef>
#include <cstdint>

#include "vidx/simd/kernels.hpp"

namespace vidx {

// out[i] = one(codes[i]), requesting the first `read_bytes` of code i + simd::vectors_ahead
// while it scores code i.
template <class One>
void batch_prefetching(const uint8_t* const* codes, size_t n, size_t read_bytes, float* out, One one) {
  const size_t ahead = simd::vectors_ahead(read_bytes);
  for (size_t i = 1; i < ahead && i < n; ++i) simd::prefetch_bytes(codes[i], read_bytes);
  for (size_t i = 0; i < n; ++i) {
    if (i + ahead < n) simd::prefetch_bytes(codes[i + ahead], read_bytes);
    out[i] = one(codes[i]);
  }
}

}  // namespace vidx
