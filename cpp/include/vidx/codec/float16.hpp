// IEEE-754 binary16 conversions in portable code, so codes written on one machine decode
// bit-identically on any other, whatever its SIMD level. Codecs store per-vector constants
// in float16; these conversions run once per stored vector or per distance, never per
// dimension.
#pragma once
#include <cstdint>
#include <cstring>

namespace vidx::f16 {

constexpr float kMax = 65504.f;           // largest finite float16
constexpr float kMinNormal = 6.1035156e-5f;  // 2^-14

inline uint32_t bits_of(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  return b;
}

inline float float_of(uint32_t b) {
  float x;
  std::memcpy(&x, &b, 4);
  return x;
}

inline float to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {  // zero or subnormal: mant * 2^-24
    const float v = static_cast<float>(mant) * 5.9604645e-8f;
    return sign ? -v : v;
  }
  if (exp == 31) return float_of(sign | 0x7f800000u | (mant << 13));
  return float_of(sign | ((exp + 112) << 23) | (mant << 13));
}

// Round to nearest, ties to even; values beyond the float16 range saturate to +-65504
// (callers keep their values in range; saturation only keeps a code finite).
inline uint16_t from_float(float x) {
  const uint32_t b = bits_of(x);
  const uint16_t sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const float a = x < 0 ? -x : x;
  if (!(a < 65520.f)) return sign | 0x7bffu;  // also catches NaN, which codecs never store
  if (a < kMinNormal) {  // subnormal: quantise to multiples of 2^-24
    const float scaled = a * 16777216.f;  // exact: a power of two
    uint32_t m = static_cast<uint32_t>(scaled);
    const float rest = scaled - static_cast<float>(m);
    if (rest > 0.5f || (rest == 0.5f && (m & 1u))) ++m;
    return sign | static_cast<uint16_t>(m);  // m == 0x400 is the smallest normal: still correct
  }
  const uint32_t ab = bits_of(a);
  uint32_t h = ((ab >> 23) - 112) << 10 | ((ab >> 13) & 0x3ffu);
  const uint32_t rest = ab & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // a carry into the exponent is right
  return sign | static_cast<uint16_t>(h);
}

// The float16 values next to x: the largest one <= x and the smallest one >= x.
inline uint16_t round_down(float x) {
  uint16_t h = from_float(x);
  if (to_float(h) > x) h = (h & 0x8000u) ? static_cast<uint16_t>(h + 1) : (h == 0 ? 0x8001u : h - 1);
  return h;
}

inline uint16_t round_up(float x) {
  uint16_t h = from_float(x);
  if (to_float(h) < x) h = (h & 0x8000u) ? (h == 0x8000u ? 1u : static_cast<uint16_t>(h - 1)) : h + 1;
  return h;
}

}  // namespace vidx::f16
