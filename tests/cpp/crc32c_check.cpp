// Checks vidx::io::crc32c against published CRC-32C vectors (RFC 3720 B.4 and the usual
// "123456789") and against a bit-at-a-time reference for every length 0..300 at every
// alignment 0..7, whole and in two pieces. Prints "ok hardware=<0|1>"; exit status 1 on a
// mismatch. tests/test_crc32c.py builds it with and without VIDX_CRC32C_SOFTWARE_ONLY.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "vidx/io/crc32c.hpp"

namespace {

uint32_t reference(const uint8_t* p, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

int failures = 0;

void expect(uint32_t got, uint32_t want, const char* what, size_t a = 0, size_t b = 0) {
  if (got == want) return;
  std::printf("FAIL %s (%zu, %zu): got %08x, want %08x\n", what, a, b, unsigned(got), unsigned(want));
  ++failures;
}

}  // namespace

int main() {
  using vidx::io::crc32c;
  uint8_t buf[32];
  expect(crc32c("123456789", 9), 0xE3069283u, "123456789");
  expect(crc32c("", 0), 0u, "empty");
  std::memset(buf, 0, 32);
  expect(crc32c(buf, 32), 0x8A9136AAu, "32 zeros");
  std::memset(buf, 0xFF, 32);
  expect(crc32c(buf, 32), 0x62A8AB43u, "32 ones");
  for (int i = 0; i < 32; ++i) buf[i] = uint8_t(i);
  expect(crc32c(buf, 32), 0x46DD794Eu, "ascending");
  for (int i = 0; i < 32; ++i) buf[i] = uint8_t(31 - i);
  expect(crc32c(buf, 32), 0x113FDB5Cu, "descending");

  std::vector<uint8_t> data(320);
  uint32_t x = 12345;
  for (uint8_t& b : data) b = uint8_t((x = x * 1103515245u + 12345u) >> 24);
  for (size_t align = 0; align < 8; ++align)
    for (size_t n = 0; n <= 300; ++n) {
      const uint8_t* p = data.data() + align;
      const uint32_t want = reference(p, n);
      expect(crc32c(p, n), want, "whole", align, n);
      const size_t cut = n / 3;
      expect(crc32c(p + cut, n - cut, crc32c(p, cut)), want, "in two pieces", align, n);
    }
  if (failures) return 1;
  std::printf("ok hardware=%d\n", vidx::io::crc32c_uses_hardware() ? 1 : 0);
  return 0;
}
