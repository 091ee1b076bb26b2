// Half-precision codec: the code is the vector in IEEE binary16 (half the bytes of float32,
// about 3 significant decimal digits). Encoding rounds to nearest even in portable code, so
// codes are the same on every machine; values beyond +-65504 saturate there. Distances
// convert codes to float32 in registers (f16_kernels.hpp) against a float32 query.
#pragma once
#include "vidx/codec/codec.hpp"
#include "vidx/codec/f16_kernels.hpp"

namespace vidx {

class FlatF16Codec final : public Codec {
 public:
  FlatF16Codec(size_t dim, Metric metric);

  std::string name() const override { return "f16"; }
  size_t code_size() const override { return dim() * sizeof(uint16_t); }
  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override;
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  void save_parameters(io::ByteWriter& out) const override {}

  // The same codec with another kernel table (tests compare every SIMD level).
  void use_kernels(const f16k::KernelTable& table) { kernels_ = &table; }

 private:
  const f16k::KernelTable* kernels_;
};

}  // namespace vidx
