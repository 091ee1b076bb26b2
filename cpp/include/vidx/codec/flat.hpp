// The flat codecs: the code is the vector itself, one element per dimension.
//   "f32": the float32 vector.
//   "f16": IEEE binary16 (half the bytes of float32, about 3 significant decimal digits).
//          Encoding rounds to nearest even in portable code, so codes are the same on every
//          machine; values beyond +-65504 saturate there. Distances convert codes to float32
//          in registers (f16_kernels.hpp) against a float32 query.
#pragma once
#include <cstdint>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/finite_codes.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {

// What an element type brings to its flat codec: a name and the kernel table comparing it.
template <typename Element>
struct FlatFormat;
template <>
struct FlatFormat<float> {
  using Kernels = simd::KernelTable;
  static constexpr const char* kName = "f32";
  static constexpr bool kExact = true;
  using Bits = uint32_t;  // an element's bit pattern, and its exponent bits (all set: NaN or infinity)
  static constexpr Bits kExponentBits = kF32ExponentBits;
  static const Kernels& kernels() { return simd::kernels(); }
};
template <>
struct FlatFormat<uint16_t> {  // binary16 bits
  using Kernels = f16k::KernelTable;
  static constexpr const char* kName = "f16";
  static constexpr bool kExact = false;
  using Bits = uint16_t;
  static constexpr Bits kExponentBits = kF16ExponentBits;
  static const Kernels& kernels() { return f16k::kernels(); }
};

template <typename Element>
class FlatCodec final : public Codec {
 public:
  using Kernels = typename FlatFormat<Element>::Kernels;

  FlatCodec(size_t dim, Metric metric) : Codec(dim, metric), kernels_(&FlatFormat<Element>::kernels()) {}

  std::string name() const override { return FlatFormat<Element>::kName; }
  bool decodes_exactly() const override { return FlatFormat<Element>::kExact; }
  size_t code_size() const override { return dim() * sizeof(Element); }
  int walk_bits() const override { return 8 * sizeof(Element); }
  // Defined for each element type, in flat_f32.cpp and flat_f16.cpp.
  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override;
  // The stored values' own exponent bits.
  bool finite(const uint8_t* head, const uint8_t*, float*) const override {
    return exponents_finite<typename FlatFormat<Element>::Bits>(head, dim(), FlatFormat<Element>::kExponentBits);
  }
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  void save_parameters(io::ByteWriter& /*out*/) const override {}

  // The same codec with another kernel table (tests compare every SIMD level).
  void use_kernels(const Kernels& table) { kernels_ = &table; }

 private:
  const Kernels* kernels_;
};

using FlatF32Codec = FlatCodec<float>;
using FlatF16Codec = FlatCodec<uint16_t>;

// The specialised members, declared before any use as the language requires.
template <> void FlatF32Codec::encode(const float* x, uint8_t* code) const;
template <> void FlatF32Codec::decode(const uint8_t* code, float* x) const;
template <> std::unique_ptr<QueryDistance> FlatF32Codec::prepare(const float* query) const;
template <> float FlatF32Codec::distance_between(const uint8_t* a, const uint8_t* b) const;
template <> void FlatF16Codec::encode(const float* x, uint8_t* code) const;
template <> void FlatF16Codec::decode(const uint8_t* code, float* x) const;
template <> std::unique_ptr<QueryDistance> FlatF16Codec::prepare(const float* query) const;
template <> float FlatF16Codec::distance_between(const uint8_t* a, const uint8_t* b) const;

}  // namespace vidx
