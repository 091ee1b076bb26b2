// Query distances over float32 codes, shared by the float32 codecs (plain and PCA-rotated);
// private to the codec sources.
#pragma once
#include <utility>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::f32 {

inline const float* as_floats(const uint8_t* code) { return reinterpret_cast<const float*>(code); }
inline const float* const* as_float_rows(const uint8_t* const* codes) {
  return reinterpret_cast<const float* const*>(codes);
}

class L2Distance final : public QueryDistance {
 public:
  L2Distance(const float* q, size_t dim, const simd::KernelTable* k) : L2Distance(std::vector<float>(q, q + dim), k) {}
  // Takes a query already prepared (rotated) by the caller; check_scales: see
  // simd::BoundedBatchFn (empty: exact checks).
  L2Distance(std::vector<float> q, const simd::KernelTable* k, std::vector<float> check_scales = {})
      : q_(std::move(q)), dim_(q_.size()), k_(k), check_scales_(std::move(check_scales)) {}
  float one(const uint8_t* code) const override { return k_->l2sq(q_.data(), as_floats(code), dim_); }
  size_t code_bytes() const override { return dim_ * sizeof(float); }
  size_t walk_prefetch_bytes() const override { return simd::bounded_walk_prefetch_bytes(k_->level, code_bytes()); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    k_->l2sq_batch(q_.data(), as_float_rows(codes), n, dim_, out);
  }
  void batch_bounded(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    k_->l2sq_batch_bounded(q_.data(), as_float_rows(codes), n, dim_, bound,
                           check_scales_.empty() ? nullptr : check_scales_.data(), out);
  }
  void batch_bounded_exact(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    k_->l2sq_batch_bounded(q_.data(), as_float_rows(codes), n, dim_, bound, nullptr, out);
  }
  bool screens() const override { return !check_scales_.empty(); }

 private:
  std::vector<float> q_;
  size_t dim_;
  const simd::KernelTable* k_;
  std::vector<float> check_scales_;
};

// 1 - <q, x>: inner product, and cosine on normalised vectors.
class IpDistance final : public QueryDistance {
 public:
  IpDistance(const float* q, size_t dim, const simd::KernelTable* k) : IpDistance(std::vector<float>(q, q + dim), k) {}
  IpDistance(std::vector<float> q, const simd::KernelTable* k) : q_(std::move(q)), dim_(q_.size()), k_(k) {}
  float one(const uint8_t* code) const override { return 1.f - k_->dot(q_.data(), as_floats(code), dim_); }
  size_t code_bytes() const override { return dim_ * sizeof(float); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    k_->dot_batch(q_.data(), as_float_rows(codes), n, dim_, out);
    for (size_t i = 0; i < n; ++i) out[i] = 1.f - out[i];
  }

 private:
  std::vector<float> q_;
  size_t dim_;
  const simd::KernelTable* k_;
};

// Cosine as |q - x|^2 / 2, which equals 1 - <q, x> for unit vectors: unlike the inner product,
// its partial sums only grow, so far candidates can be abandoned early (batch_bounded).
class HalfL2Distance final : public QueryDistance {
 public:
  HalfL2Distance(std::vector<float> q, const simd::KernelTable* k, std::vector<float> check_scales = {})
      : l2_(std::move(q), k, std::move(check_scales)) {}
  float one(const uint8_t* code) const override { return 0.5f * l2_.one(code); }
  size_t code_bytes() const override { return l2_.code_bytes(); }
  size_t walk_prefetch_bytes() const override { return l2_.walk_prefetch_bytes(); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    l2_.batch(codes, n, out);
    for (size_t i = 0; i < n; ++i) out[i] *= 0.5f;
  }
  void batch_bounded(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    l2_.batch_bounded(codes, n, 2.f * bound, out);
    for (size_t i = 0; i < n; ++i) out[i] *= 0.5f;
  }
  void batch_bounded_exact(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    l2_.batch_bounded_exact(codes, n, 2.f * bound, out);
    for (size_t i = 0; i < n; ++i) out[i] *= 0.5f;
  }
  bool screens() const override { return l2_.screens(); }

 private:
  L2Distance l2_;
};

}  // namespace vidx::f32
