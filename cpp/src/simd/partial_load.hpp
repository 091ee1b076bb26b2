// Reads the last, partial register of a vector from general-purpose loads only: whole 8-, 4-,
// 2- and 1-byte pieces, never a byte past the end, and no store to a buffer that a vector load
// would then read back (a store-forwarding stall that doubled short kernels). Little-endian.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

// Internal linkage on purpose: each per-ISA file compiles its own copy with its own flags, so
// the linker can never hand one ISA's instructions to another's file.
namespace {

// One 64-bit word of a code at any address: codes sit where their container puts them (a posting
// entry after its 4-byte id, say), so they are not always 8-byte aligned; memcpy is one load.
inline uint64_t vidx_read_word(const uint64_t* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// n < 8 bytes.
inline uint64_t vidx_read_small(const unsigned char* p, size_t n) {
  uint64_t v = 0;
  size_t i = 0;
  if (n & 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    v = w;
    i = 4;
  }
  if (n & 2) {
    uint16_t w;
    std::memcpy(&w, p + i, 2);
    v |= static_cast<uint64_t>(w) << (8 * i);
    i += 2;
  }
  if (n & 1) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// n < 16 bytes into lo (bytes 0..7) and hi (bytes 8..15), zero-filled.
inline void vidx_read_partial(const void* src, size_t n, uint64_t& lo, uint64_t& hi) {
  const auto* p = static_cast<const unsigned char*>(src);
  if (n >= 8) {
    std::memcpy(&lo, p, 8);
    hi = vidx_read_small(p + 8, n - 8);
  } else {
    lo = vidx_read_small(p, n);
    hi = 0;
  }
}

}  // namespace
