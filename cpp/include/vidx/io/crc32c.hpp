// CRC-32C (Castagnoli), the checksum of every vidx file header and section.
//
// Castagnoli rather than the zlib CRC-32 because it detects more error patterns at the
// lengths we checksum and because x86 (SSE4.2) and ARMv8 have instructions for it, so a
// faster path can be added later without changing the file format. This implementation is
// portable software (slicing-by-8, about 1-2 GB/s), so it builds with baseline flags on every
// architecture.
#pragma once
#include <cstddef>
#include <cstdint>

namespace vidx::io {

// Returns the CRC-32C of `n` bytes at `data`, continuing from `crc`, the CRC-32C of the
// bytes before them (0 to start). So checksums can be computed piece by piece:
//   crc32c(b, nb, crc32c(a, na)) == crc32c of a followed by b.
// Known answer: crc32c("123456789", 9) == 0xE3069283.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

}  // namespace vidx::io
