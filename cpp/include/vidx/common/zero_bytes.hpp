// Whether a run of bytes is all zero: a word at a time, leaving at the first non-zero block.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace vidx {

inline bool all_zero_bytes(const uint8_t* p, size_t n) {
  constexpr size_t kBlock = 512;  // checked a block at a time: a loaded index's tails leave early
  size_t i = 0;
  while (i + 8 <= n) {
    uint64_t acc = 0;
    const size_t end = i + kBlock <= n ? i + kBlock : n - (n - i) % 8;
    for (; i < end; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      acc |= w;
    }
    if (acc) return false;
  }
  for (; i < n; ++i)
    if (p[i]) return false;
  return true;
}

}  // namespace vidx
