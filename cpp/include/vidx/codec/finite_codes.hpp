// What a loader checks of stored codes besides their checksums: that they decode to finite
// values.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include "vidx/codec/codec.hpp"

namespace vidx {

// A stored code as a structure holds it: its head, and its tail where the structure keeps
// tails apart (Codec::head_size); for a whole code, tail = head + head_size.
struct StoredCode {
  const uint8_t* head;
  const uint8_t* tail;
};

// Whether none of n stored IEEE values (float32 bit patterns with Bits = uint32_t, float16 or
// the upper halves of float32 with uint16_t) is NaN or infinite: none has every bit of
// `exponent_bits` set. Read in place, one branch for all n.
template <class Bits>
bool exponents_finite(const uint8_t* values, size_t n, Bits exponent_bits) {
  Bits all_ones = 0;
  for (size_t i = 0; i < n; ++i) {
    Bits bits;
    std::memcpy(&bits, values + i * sizeof(Bits), sizeof(Bits));
    all_ones |= static_cast<Bits>((bits & exponent_bits) == exponent_bits);
  }
  return all_ones == 0;
}
constexpr uint32_t kF32ExponentBits = 0x7f800000u;
constexpr uint16_t kF16ExponentBits = 0x7c00u;
constexpr uint16_t kF32UpperHalfExponentBits = 0x7f80u;

// Throws FileFormatError "<path>: the <what> <i> holds NaN or infinite values" for the first of
// n stored codes that does not decode to finite values (what: e.g. "stored vector in slot").
// Adds refuse NaN and infinite values (check_vectors) and values a codec cannot hold, so such a
// code comes only from a damaged or forged file: checksums can be recomputed over anything.
// Loaded, a NaN or infinite value (a float32 or float16 value, an LVQ step or bias) gives NaN
// distances, which sort nowhere in particular among a search's results.
void refuse_non_finite_codes(const Codec& codec, size_t n, const std::function<StoredCode(size_t)>& code_of,
                             const std::string& path, const std::string& what);
// The same over n whole codes `stride` bytes apart from `rows`.
void refuse_non_finite_rows(const Codec& codec, const uint8_t* rows, size_t stride, size_t n, const std::string& path,
                            const std::string& what);

}  // namespace vidx
