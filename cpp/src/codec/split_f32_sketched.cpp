#include "vidx/codec/split_f32_sketched.hpp"

#include <algorithm>
#include <vector>

#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

// Pointers moved past each code's sketch, to the upper halves an inner distance reads.
void skip_sketches(const uint8_t* const* codes, size_t n, size_t skip, std::vector<const uint8_t*>& out) {
  if (out.size() < n) out.resize(n);
  for (size_t i = 0; i < n; ++i) out[i] = codes[i] + skip;
}

// An f32_split distance read past each code's sketch (the re-rank's joined halves).
class PastSketchDistance final : public QueryDistance {
 public:
  PastSketchDistance(std::unique_ptr<QueryDistance> inner, size_t skip) : inner_(std::move(inner)), skip_(skip) {}
  float one(const uint8_t* code) const override { return inner_->one(code + skip_); }
  float one_split(const uint8_t* head, const uint8_t* tail) const override {
    return inner_->one_split(head + skip_, tail);
  }
  size_t code_bytes() const override { return skip_ + inner_->code_bytes(); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    skip_sketches(codes, n, skip_, moved_);
    inner_->batch(moved_.data(), n, out);
  }

 private:
  std::unique_ptr<QueryDistance> inner_;
  size_t skip_;
  mutable std::vector<const uint8_t*> moved_;
};

// The walk's distance. Once a beam is full (batch_bounded), each candidate's sketch bounds its
// distance from below, and only candidates whose bound stays under the beam's are scored from
// their upper halves; the others get their bound (>= the beam's, as batch_bounded allows).
class ScreenedWalkDistance final : public QueryDistance {
 public:
  ScreenedWalkDistance(std::unique_ptr<QueryDistance> upper, const SignSketch& sketch, const float* query)
      : upper_(std::move(upper)), sketch_(sketch), query_(sketch.prepare(query)), skip_(sketch.bytes()),
        upper_prefetch_(upper_->walk_prefetch_bytes()) {}

  float one(const uint8_t* code) const override { return upper_->one(code + skip_); }
  size_t code_bytes() const override { return skip_ + upper_->code_bytes(); }
  // A gathered candidate's sketch: its upper halves are requested only if it passes (requesting
  // their first 256 or 768 bytes at the gather as well, as f32_split's walk does, made
  // fashion-mnist's walk 5-16% slower: most of those lines were for candidates then dropped).
  size_t walk_prefetch_bytes() const override { return skip_; }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    skip_sketches(codes, n, skip_, moved_);
    upper_->batch(moved_.data(), n, out);
  }
  void batch_bounded(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    if (kept_.size() < n) {
      moved_.resize(std::max(moved_.size(), n));
      kept_.resize(n);
      kept_distances_.resize(n);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; ++i) {
      const float lower = sketch_.lower_bound(query_, codes[i]);
      if (lower >= bound) {
        out[i] = lower;
        continue;
      }
      moved_[m] = codes[i] + skip_;
      simd::prefetch_bytes_to_l2(moved_[m], upper_prefetch_);
      kept_[m++] = static_cast<uint32_t>(i);
    }
    if (m == 0) return;
    upper_->batch_bounded(moved_.data(), m, bound, kept_distances_.data());
    for (size_t j = 0; j < m; ++j) out[kept_[j]] = kept_distances_[j];
  }
  // Exact scans are never screened.
  void batch_bounded_exact(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    skip_sketches(codes, n, skip_, moved_);
    upper_->batch_bounded_exact(moved_.data(), n, bound, out);
  }
  bool screens() const override { return true; }

 private:
  std::unique_ptr<QueryDistance> upper_;
  const SignSketch& sketch_;
  SignSketch::Query query_;
  size_t skip_;
  size_t upper_prefetch_;  // what the upper halves' walk requests of a candidate that passes
  mutable std::vector<const uint8_t*> moved_;
  mutable std::vector<uint32_t> kept_;
  mutable std::vector<float> kept_distances_;
};

}  // namespace

void SketchedSplitF32Codec::encode(const float* x, uint8_t* code) const {
  sketch_.encode(x, code);
  split_.encode(x, code + sketch_.bytes());
}

std::unique_ptr<QueryDistance> SketchedSplitF32Codec::prepare(const float* query) const {
  return std::make_unique<ScreenedWalkDistance>(split_.prepare(query), sketch_, query);
}

std::unique_ptr<QueryDistance> SketchedSplitF32Codec::prepare_precise(const float* query) const {
  return std::make_unique<PastSketchDistance>(split_.prepare_precise(query), sketch_.bytes());
}

}  // namespace vidx
