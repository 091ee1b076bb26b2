#include "vidx/codec/flat.hpp"

#include <cstring>
#include <vector>

namespace vidx {
namespace {

inline const float* as_floats(const uint8_t* code) { return reinterpret_cast<const float*>(code); }

class F32L2Distance final : public QueryDistance {
 public:
  F32L2Distance(const float* q, size_t dim, const simd::KernelTable* k) : q_(q, q + dim), dim_(dim), k_(k) {}
  float one(const uint8_t* code) const override { return k_->l2sq(q_.data(), as_floats(code), dim_); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    k_->l2sq_batch(q_.data(), reinterpret_cast<const float* const*>(codes), n, dim_, out);
  }
  void batch_bounded(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    k_->l2sq_batch_bounded(q_.data(), reinterpret_cast<const float* const*>(codes), n, dim_, bound, out);
  }

 private:
  std::vector<float> q_;
  size_t dim_;
  const simd::KernelTable* k_;
};

class F32IpDistance final : public QueryDistance {
 public:
  F32IpDistance(const float* q, size_t dim, const simd::KernelTable* k) : q_(q, q + dim), dim_(dim), k_(k) {}
  float one(const uint8_t* code) const override { return 1.f - k_->dot(q_.data(), as_floats(code), dim_); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    k_->dot_batch(q_.data(), reinterpret_cast<const float* const*>(codes), n, dim_, out);
    for (size_t i = 0; i < n; ++i) out[i] = 1.f - out[i];
  }

 private:
  std::vector<float> q_;
  size_t dim_;
  const simd::KernelTable* k_;
};

}  // namespace

template <>
void FlatF32Codec::encode(const float* x, uint8_t* code) const { std::memcpy(code, x, code_size()); }
template <>
void FlatF32Codec::decode(const uint8_t* code, float* x) const { std::memcpy(x, code, code_size()); }

template <>
std::unique_ptr<QueryDistance> FlatF32Codec::prepare(const float* query) const {
  if (metric() == Metric::L2) return std::make_unique<F32L2Distance>(query, dim(), kernels_);
  return std::make_unique<F32IpDistance>(query, dim(), kernels_);
}

template <>
float FlatF32Codec::distance_between(const uint8_t* a, const uint8_t* b) const {
  if (metric() == Metric::L2) return kernels_->l2sq(as_floats(a), as_floats(b), dim());
  return 1.f - kernels_->dot(as_floats(a), as_floats(b), dim());
}

}  // namespace vidx
