// CRC-32C (Castagnoli), the checksum of every vidx file header and section.
//
// Castagnoli rather than the zlib CRC-32 because it detects more error patterns at the
// lengths we checksum and because x86 (SSE4.2) and ARMv8 have instructions for it. On x86-64
// the SSE4.2 instruction is used when the CPU has it (detected at run time, so the library
// builds with baseline flags); elsewhere portable software (slicing-by-8, about 1-2 GB/s).
// Both give the same values.
#pragma once
#include <cstddef>
#include <cstdint>

namespace vidx::io {

// Returns the CRC-32C of `n` bytes at `data`, continuing from `crc`, the CRC-32C of the
// bytes before them (0 to start). So checksums can be computed piece by piece:
//   crc32c(b, nb, crc32c(a, na)) == crc32c of a followed by b.
// Known answer: crc32c("123456789", 9) == 0xE3069283.
uint32_t crc32c(const void* data, size_t n, uint32_t crc = 0);

// True when crc32c() uses the CPU's CRC-32C instruction on this machine.
bool crc32c_uses_hardware();

}  // namespace vidx::io
