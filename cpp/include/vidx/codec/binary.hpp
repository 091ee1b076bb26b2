// Binary codes: one bit per dimension, the sign of the vector centred by the dataset mean,
// compared by Hamming distance (popcount). One bit says little about a distance, so the
// codec always carries a precise level: each code is [sign bits | LVQ-8 code], a structure
// walks with the bits and re-ranks its candidate buffer with LVQ-8 (or with kept float32
// vectors, keep_vectors=True).
#pragma once
#include <memory>

#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/codec.hpp"
#include "vidx/codec/lvq.hpp"

namespace vidx {

class BinaryCodec final : public Codec {
 public:
  BinaryCodec(size_t dim, Metric metric);

  std::string name() const override { return "binary"; }
  size_t code_size() const override { return bit_bytes() + precise_.code_size(); }
  size_t bit_bytes() const { return words_ * sizeof(uint64_t); }

  bool needs_training() const override { return precise_.needs_training(); }
  void train(const float* x, size_t n) override { precise_.train(x, n); }

  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override { precise_.decode(code + bit_bytes(), x); }

  // Traversal and graph construction: Hamming distance between sign bits.
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  std::unique_ptr<QueryDistance> prepare_precise(const float* query) const override;
  bool reranks() const override { return true; }

  void save_parameters(io::ByteWriter& out) const override { precise_.save_parameters(out); }
  void load_parameters(io::ByteReader& in) override { precise_.load_parameters(in); }

  // The same codec with the Hamming kernel of another level (tests compare every level).
  void use_kernel(binary::HammingFn fn) { hamming_ = fn; }

 private:
  void sign_bits(const float* x, uint64_t* bits) const;

  size_t words_;
  LvqCodec precise_;  // owns the mean both levels centre by
  binary::HammingFn hamming_;
};

}  // namespace vidx
