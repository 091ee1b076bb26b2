// Full-precision codec: the code is the float32 vector itself.
#pragma once
#include "vidx/codec/codec.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {

class FlatF32Codec final : public Codec {
 public:
  FlatF32Codec(size_t dim, Metric metric);

  std::string name() const override { return "f32"; }
  size_t code_size() const override { return dim() * sizeof(float); }
  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override;
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  void save_parameters(io::ByteWriter& out) const override {}

 private:
  const simd::KernelTable* kernels_;
};

}  // namespace vidx
