#include "vidx/codec/flat.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "vidx/codec/float16.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

inline const uint16_t* as_halves(const uint8_t* code) { return reinterpret_cast<const uint16_t*>(code); }

class F16Distance final : public QueryDistance {
 public:
  F16Distance(const float* q, size_t dim, Metric metric, const f16k::KernelTable* k)
      : q_(q, q + dim), dim_(dim), l2_(metric == Metric::L2), k_(k) {}

  float one(const uint8_t* code) const override {
    return l2_ ? k_->l2(q_.data(), as_halves(code), dim_) : 1.f - k_->dot(q_.data(), as_halves(code), dim_);
  }
  size_t code_bytes() const override { return dim_ * sizeof(uint16_t); }
  size_t walk_prefetch_bytes() const override {
    return l2_ ? simd::bounded_walk_prefetch_bytes(k_->level, code_bytes()) : code_bytes();
  }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    simd::prefetching_batch(codes, n, code_bytes(), out, [this](const uint8_t* c) { return one(c); });
  }
  // L2: far codes are abandoned early, a block of dimensions at a time across the batch.
  void batch_bounded(const uint8_t* const* codes, size_t n, float bound, float* out) const override {
    if (!l2_) return batch(codes, n, out);
    k_->l2_batch_bounded(q_.data(), reinterpret_cast<const uint16_t* const*>(codes), n, dim_, bound, nullptr, out);
  }

 private:
  std::vector<float> q_;
  size_t dim_;
  bool l2_;
  const f16k::KernelTable* k_;
};

}  // namespace

template <>
void FlatF16Codec::encode(const float* x, uint8_t* code) const {
  for (size_t i = 0; i < dim(); ++i) {
    const uint16_t h = f16::from_float(x[i]);
    std::memcpy(code + 2 * i, &h, 2);
  }
}

template <>
void FlatF16Codec::decode(const uint8_t* code, float* x) const {
  for (size_t i = 0; i < dim(); ++i) {
    uint16_t h;
    std::memcpy(&h, code + 2 * i, 2);
    x[i] = f16::to_float(h);
  }
}

template <>
std::unique_ptr<QueryDistance> FlatF16Codec::prepare(const float* query) const {
  return std::make_unique<F16Distance>(query, dim(), metric(), kernels_);
}

template <>
float FlatF16Codec::distance_between(const uint8_t* a, const uint8_t* b) const {
  if (metric() == Metric::L2) return kernels_->l2_pair(as_halves(a), as_halves(b), dim());
  return 1.f - kernels_->dot_pair(as_halves(a), as_halves(b), dim());
}

}  // namespace vidx
