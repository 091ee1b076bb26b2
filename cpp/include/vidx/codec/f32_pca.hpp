// "f32_pca": float32 vectors stored in a principal-component basis (pca_rotation.hpp).
//
// Distances are those of the original vectors up to float rounding (the basis is orthogonal);
// what changes is how soon a far candidate is recognised. A graph walk discards every
// candidate at or beyond its beam's worst distance, and with the leading components first a
// partial sum passes that bound after a few dozen coordinates instead of most of them (the
// bounded kernel checks every simd::kBoundCheckDims). On fashion-mnist the bounded distances
// of a search read 50% of the coordinates instead of 76%.
//
// The checks go further than the exact bound: the first add also learns, per block, the
// largest share of a near pair's distance its first coordinates hold (bound_calibration.hpp),
// and a candidate is abandoned once its partial sum passes that share of the bound. So a
// candidate under the bound can be dropped, but only one whose first coordinates hold more of
// its distance than any calibration pair's did. Measured: recall@10 over all 10,000 queries
// at ef 10-64 equal to f32's to four decimals on wordnet-minilm and fashion-mnist, at 1.08-1.11x
// (wordnet, ef 16-48) / 1.03-1.28x (fashion, ef 10-32) the QPS of exact checks (one process,
// alternating).
//
// Cosine is compared as |q - x|^2 / 2 on the unit vectors, which equals 1 - <q, x> but, unlike
// it, only grows as coordinates are added, so it can be bounded; plain inner product cannot.
//
// Costs: a query is rotated once (2 r d multiply-adds for r reflections, see below), get()
// returns vectors rotated back (exact to about 1e-6 relative, so reported as decoded), and
// the first add learns the basis (covariance of up to 4096 rows) and the check scales (4096
// rows rotated, 128 of them against the rest; a later add of 1000 rows or more: 1024 and 64).
// Where the data has fewer than 128 or more than 2048 dimensions, a flat spectrum
// (kMinVarianceShare), or the first add holds fewer than 1000 rows, the codec keeps the
// identity and is exactly f32.
#pragma once
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/finite_codes.hpp"
#include "vidx/codec/pca_rotation.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {

class F32PcaCodec final : public Codec {
 public:
  // How many leading components the basis holds: the fewest multiple of kComponentStep (from
  // kComponentStep up) whose components hold kTargetShare of the variance, within two limits.
  // Rotating a query costs 2 r d multiply-adds, so r stays <= d / 2 (a dense rotation's cost).
  // Learning r components costs r d^2 per iteration, so r d^2 stays within the learning of 64
  // components at d = kMaxDim (0.5 s at d = 784 and 1.9 s at 1536 for 64, 2 cores).
  // Measured (single thread, same graph, alternating, QPS ratio to f32 at ef 24 / 32 / 48, exact
  // checks): wordnet-minilm (d = 384) r = 128 (76% of the variance) 1.10 / 1.25 / 1.19, r = 192
  // (89%) 1.10 / 1.28 / 1.28, r = 384 1.06 / 1.23 / 1.21; with 64 components (54%) it had been
  // 0.86-0.93x. fashion-mnist (d = 784): r = 64 (88%) was faster than 128 or 192.
  static constexpr size_t kComponentStep = 64;
  static constexpr double kTargetShare = 0.85;
  // Rotate only from this many dimensions (a bounded kernel checks every 64: below 128 it
  // would check once, near the end) and where the leading components hold this share of the
  // variance (a flatter spectrum gives a bound little to act on early).
  static constexpr size_t kMinDim = 128;
  static constexpr double kMinVarianceShare = 0.7;
  // Learning costs O(d^2) per sample row and per iteration: 17 s at d = 3072 for 64
  // components, so wider vectors keep the identity (most_components() is 0 beyond kMaxDim). A
  // first add of fewer rows than kMinTrainRows keeps it too: the basis is learnt once, from the
  // first add, and a few rows say little about the data to come.
  static constexpr size_t kMaxDim = 2048;
  static constexpr double kLearningBudget = double(kComponentStep) * kMaxDim * kMaxDim;  // r d^2
  static constexpr size_t kMinTrainRows = 1000;

  // metric: L2, IP or Cosine (the only codec that tells cosine apart: it compares unit vectors
  // by their half squared distance).
  F32PcaCodec(size_t dim, Metric metric, uint64_t seed);

  std::string name() const override { return "f32_pca"; }
  size_t code_size() const override { return dim() * sizeof(float); }
  int walk_bits() const override { return 32; }
  bool full_width() const override { return true; }
  // Unrotated (untrained, or the data did not warrant it) the codes are the vectors themselves.
  bool decodes_exactly() const override { return rotation_.components() == 0; }
  bool rotated() const { return rotation_.components() > 0; }
  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override;
  // The stored (rotated) values themselves: decoding would rotate every one back.
  bool finite(const uint8_t* head, const uint8_t*, float*) const override {
    return exponents_finite<uint32_t>(head, dim(), kF32ExponentBits);
  }
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  // The code is the rotated vector: prepared as it is, with no rotation back and forth.
  std::unique_ptr<QueryDistance> prepare_from_code(const uint8_t* head, const uint8_t* tail = nullptr) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;

  bool needs_training() const override { return !trained_; }
  void train(const float* x, size_t n) override;
  // An add of kMinTrainRows rows or more is calibrated too, and each scale becomes the larger
  // of the two: near pairs of data unlike the first add's (say, held mostly in the leading
  // components) are then checked no harder than the data they resemble. Smaller adds are
  // pooled until they make kMinTrainRows rows, then calibrated as one (see pending_).
  void observe(const float* x, size_t n) override;

  void save_parameters(io::ByteWriter& out) const override;
  void load_parameters(io::ByteReader& in) override;
  // With the rows pooled for calibration (pending_), which memory_usage() should not hide.
  size_t parameter_bytes() const override;

 private:
  // Cosine in the rotated basis is compared as |q - x|^2 / 2 (see above); unrotated, as f32 does.
  bool compares_half_l2() const { return unit_ && rotated(); }

  // The distance from a query already in the stored basis.
  std::unique_ptr<QueryDistance> prepare_rotated(std::vector<float> q) const;
  // Check scales learnt from rows of an add (rotated here): see bound_calibration.hpp.
  std::vector<float> calibrate_checks(const float* x, size_t n, size_t sample_rows, size_t queries) const;
  std::vector<float> check_scales() const;  // a copy, as a search uses them
  // Each scale becomes the larger of its own and `scales`' (beside running searches).
  void widen_checks(const std::vector<float>& scales);

  // The most components train() may learn for this width (a multiple of kComponentStep, 0
  // when not even one step fits): see kComponentStep.
  static size_t most_components(size_t dim);

  bool unit_;  // cosine: vectors arrive normalised
  uint64_t seed_;
  bool trained_ = false;
  PcaRotation rotation_;
  // One scale per whole bounded-kernel block (simd::BoundedBatchFn): a search abandons a
  // candidate once its first coordinates hold that share of the beam's worst distance. Empty
  // (exact checks) unrotated, for inner product, and in files from before it was learnt. Set
  // by train() and load; later adds only raise them (observe), beside running searches.
  std::vector<std::atomic<float>> check_scales_;
  // Rows of adds too small to calibrate alone, pooled until there are kMinTrainRows of them:
  // data that drifts in through many small adds (a stream of single documents) widens the
  // shares like one large add would. Not saved: a process that stops leaves at most
  // kMinTrainRows - 1 rows uncounted, and the next one pools anew.
  mutable std::mutex pending_mutex_;
  std::vector<float> pending_;
  const simd::KernelTable* kernels_;
};

}  // namespace vidx
