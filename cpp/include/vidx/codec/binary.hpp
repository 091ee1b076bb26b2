// Binary codes: one bit per dimension, the sign of the vector centred by the dataset mean.
// One bit says little about a distance, so the codec always carries a precise level for
// re-ranking: each code is [head: 1-bit codes (+ estimator factors) | tail: LVQ-8 code]. A
// structure walks with the head and re-ranks its candidate buffer with the tail (or with
// kept float32 vectors, keep_vectors=True); HNSW keeps the tails apart from its graph.
//
// Three variants (quant names):
//   "binary"      sign bits of x - mu, Hamming distance.
//   "binary_rot"  sign bits of P(x - mu) for a random rotation P drawn from the index seed
//                 (Gram-Schmidt on Gaussian rows), Hamming distance.
//   "rabitq"      the rotated sign bits plus three float32 factors per vector, and an
//                 asymmetric estimator in the spirit of RaBitQ (Gao & Long, SIGMOD 2024):
//                 with o = P(x - mu), b its sign bits and q' the rotated query,
//                   <q', o> ~ f·(2·sum_{b_i=1} q'_i - sum_i q'_i),  f = |o|^2 / sum_i |o_i|,
//                 so the query stays in float32 and only the data is one bit per dimension.
//                 Two stored codes are compared by |o_a||o_b|·cos(pi·hamming/d).
// The rotation (d x d float32) is stored with the index, so a loaded index encodes alike.
#pragma once
#include <memory>

#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/codec.hpp"
#include "vidx/codec/finite_codes.hpp"
#include "vidx/codec/lvq.hpp"

namespace vidx {

class BinaryCodec final : public Codec {
 public:
  BinaryCodec(size_t dim, Metric metric, bool rotate = false, bool estimate = false, uint64_t seed = 0);

  std::string name() const override;
  size_t code_size() const override { return head_size() + precise_.code_size(); }
  size_t bit_bytes() const { return words_ * sizeof(uint64_t); }
  // The 1-bit codes and, for "rabitq", their three factors.
  size_t head_size() const override { return bit_bytes() + (estimate_ ? kFactorBytes : 0); }
  size_t load_alignment() const override { return 16; }
  int walk_bits() const override { return 1; }

  bool needs_training() const override { return precise_.needs_training(); }
  void train(const float* x, size_t n) override;

  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override { precise_.decode(code + head_size(), x); }
  void decode_split(const uint8_t* /*head*/, const uint8_t* tail, float* x) const override { precise_.decode(tail, x); }
  // The estimator's factors (walks read them) and the LVQ-8 code in the tail (re-ranks read it).
  bool finite(const uint8_t* head, const uint8_t* tail, float* scratch) const override {
    const bool factors = !estimate_ || exponents_finite<uint32_t>(head + bit_bytes(), kFactorBytes / sizeof(float),
                                                                  kF32ExponentBits);
    return factors && precise_.finite(tail, tail + precise_.head_size(), scratch);
  }

  // Traversal and graph construction: Hamming distance, or the estimator ("rabitq").
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  std::unique_ptr<QueryDistance> prepare_precise(const float* query) const override;
  bool reranks() const override { return true; }

  void save_parameters(io::ByteWriter& out) const override;
  void load_parameters(io::ByteReader& in) override;
  size_t parameter_bytes() const override { return rotation_.size() * sizeof(float) + precise_.parameter_bytes(); }

  // The same codec with the kernels of another level (tests compare every level).
  void use_kernels(binary::HammingFn hamming, binary::MaskedSumFn masked_sum) {
    hamming_ = hamming;
    masked_sum_ = masked_sum;
  }
  const std::vector<float>& rotation() const { return rotation_; }

 private:
  static constexpr size_t kFactorBytes = 3 * sizeof(float);  // f, |o|, <mu, x - mu>
  // out (64·words floats, zero-padded) = P·(x - mu) for L2 or P·x for IP (unrotated: no P).
  void transform(const float* x, bool centre, float* out) const;
  void make_rotation();

  size_t words_;
  bool rotate_, estimate_;
  uint64_t seed_;
  std::vector<float> rotation_;  // d x d, row-major; empty until trained (or unrotated)
  float mean_norm2_ = 0.f;       // |mu|^2
  LvqCodec precise_;             // owns the mean every level centres by
  binary::HammingFn hamming_;
  binary::MaskedSumFn masked_sum_;
};

}  // namespace vidx
