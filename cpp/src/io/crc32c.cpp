// CRC-32C, two implementations behind one function:
// - the SSE4.2 crc32 instruction (8 bytes per instruction), used on x86-64 when the CPU has
//   it, detected at run time so the library still builds with baseline flags (GCC and Clang;
//   MSVC and other architectures take the software path);
// - software slicing-by-8 everywhere else: eight 256-entry tables let the loop fold 8 input
//   bytes per step with 8 independent table lookups instead of 8 dependent ones. The tables
//   are built at compile time. Bytes are assembled little-endian by hand, so the code is
//   endian-neutral and needs no unaligned loads.
// Both give the same values (tests/test_crc32c.py checks them against known vectors).
// Defining VIDX_CRC32C_SOFTWARE_ONLY leaves the hardware path out (the test uses it).
#include "vidx/io/crc32c.hpp"

#include <array>
#include <cstring>

#if !defined(VIDX_CRC32C_SOFTWARE_ONLY) && (defined(__x86_64__) || defined(_M_X64)) && \
    (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define VIDX_CRC32C_SSE42 1
#endif

namespace vidx::io {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli polynomial, bit-reflected

using Tables = std::array<std::array<uint32_t, 256>, 8>;

// tables[0] is the classic byte-at-a-time table; tables[k][b] is the CRC contribution of
// byte b followed by k zero bytes, which is what lets 8 bytes be folded at once.
constexpr Tables make_tables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (kPolynomial & (0u - (crc & 1u)));
    t[0][b] = crc;
  }
  for (size_t k = 1; k < 8; ++k)
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFFu];
  return t;
}

constexpr Tables kTables = make_tables();

inline uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint32_t crc32c_software(const void* data, size_t n, uint32_t crc) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const auto& t = kTables;
  // The public value is the finalised (inverted) register; undo that to continue from it.
  uint32_t r = ~crc;
  for (; n >= 8; n -= 8, p += 8) {
    const uint32_t lo = load_le32(p) ^ r;
    const uint32_t hi = load_le32(p + 4);
    r = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
        t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) r = (r >> 8) ^ t[0][(r ^ *p) & 0xFF];
  return ~r;
}

#if defined(VIDX_CRC32C_SSE42)
__attribute__((target("sse4.2,crc32"))) uint32_t crc32c_sse42(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t r = static_cast<uint32_t>(~crc);
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    r = _mm_crc32_u64(r, v);
  }
  uint32_t r32 = static_cast<uint32_t>(r);
  for (; n > 0; --n) r32 = _mm_crc32_u8(r32, *p++);
  return ~r32;
}

bool cpu_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

bool crc32c_uses_hardware() {
#if defined(VIDX_CRC32C_SSE42)
  return cpu_has_sse42();
#else
  return false;
#endif
}

uint32_t crc32c(const void* data, size_t n, uint32_t crc) {
#if defined(VIDX_CRC32C_SSE42)
  if (cpu_has_sse42()) return crc32c_sse42(data, n, crc);
#endif
  return crc32c_software(data, n, crc);
}

}  // namespace vidx::io
