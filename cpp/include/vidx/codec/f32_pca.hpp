// "f32_pca": float32 vectors stored in a principal-component basis (pca_rotation.hpp).
//
// Distances are those of the original vectors up to float rounding (the basis is orthogonal),
// so results match "f32"; what changes is how soon a far candidate is recognised. A graph
// walk discards every candidate at or beyond its beam's worst distance, and with the leading
// components first a partial sum passes that bound after a few dozen coordinates instead of
// most of them (the bounded kernel checks every simd::kBoundCheckDims). On fashion-mnist the
// bounded distances of a search read 50% of the coordinates instead of 76%.
//
// Cosine is compared as |q - x|^2 / 2 on the unit vectors, which equals 1 - <q, x> but, unlike
// it, only grows as coordinates are added, so it can be bounded; plain inner product cannot.
//
// Costs: a query is rotated once (2 r d multiply-adds, r = min(d, 64) reflections), get()
// returns vectors rotated back (exact to about 1e-6 relative, so reported as decoded), and
// the first add learns the basis (covariance of up to 4096 rows). Where the data has fewer
// than 128 or more than 2048 dimensions, a flat spectrum (kMinVarianceShare), or the first add
// holds fewer than 1000 rows, the codec keeps the identity and is exactly f32.
#pragma once
#include <cstdint>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/pca_rotation.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {

class F32PcaCodec final : public Codec {
 public:
  static constexpr size_t kComponents = 64;
  // Rotate only from this many dimensions (a bounded kernel checks every 64: below 128 it
  // would check once, near the end) and where the leading components hold this share of the
  // variance (fashion-mnist: 0.88; wordnet-minilm: 0.54, where rotating was slower than f32).
  static constexpr size_t kMinDim = 128;
  static constexpr double kMinVarianceShare = 0.7;
  // Learning costs O(d^2) per sample row and per iteration: 0.5 s at d = 784 and 1.9 s at 1536,
  // but 17 s at 3072 (5000 rows, 2 cores), so wider vectors keep the identity. A first add of
  // fewer rows than kMinTrainRows keeps it too: the basis is learnt once, from the first add,
  // and a few rows say little about the data to come.
  static constexpr size_t kMaxDim = 2048;
  static constexpr size_t kMinTrainRows = 1000;

  // metric: L2, IP or Cosine (the only codec that tells cosine apart: it compares unit vectors
  // by their half squared distance).
  F32PcaCodec(size_t dim, Metric metric, uint64_t seed);

  std::string name() const override { return "f32_pca"; }
  size_t code_size() const override { return dim() * sizeof(float); }
  bool full_width() const override { return true; }
  // Unrotated (untrained, or the data did not warrant it) the codes are the vectors themselves.
  bool decodes_exactly() const override { return rotation_.components() == 0; }
  bool rotated() const { return rotation_.components() > 0; }
  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override;
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;

  bool needs_training() const override { return !trained_; }
  void train(const float* x, size_t n) override;

  void save_parameters(io::ByteWriter& out) const override;
  void load_parameters(io::ByteReader& in) override;
  size_t parameter_bytes() const override { return rotation_.memory_bytes(); }

 private:
  // Cosine in the rotated basis is compared as |q - x|^2 / 2 (see above); unrotated, as f32 does.
  bool compares_half_l2() const { return unit_ && rotated(); }

  bool unit_;  // cosine: vectors arrive normalised
  uint64_t seed_;
  bool trained_ = false;
  PcaRotation rotation_;
  const simd::KernelTable* kernels_;
};

}  // namespace vidx
