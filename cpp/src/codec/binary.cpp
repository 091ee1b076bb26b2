// Binary codes and their Hamming distances (see binary.hpp).
#include "vidx/codec/binary.hpp"

#include <cstring>
#include <vector>

namespace vidx {
namespace {

class HammingDistance final : public QueryDistance {
 public:
  HammingDistance(std::vector<uint64_t> bits, binary::HammingFn fn) : bits_(std::move(bits)), fn_(fn) {}
  float one(const uint8_t* code) const override {
    return static_cast<float>(fn_(bits_.data(), reinterpret_cast<const uint64_t*>(code), bits_.size()));
  }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    for (size_t i = 0; i < n; ++i) out[i] = one(codes[i]);
  }

 private:
  std::vector<uint64_t> bits_;
  binary::HammingFn fn_;
};

// Re-ranking reads the LVQ-8 part that follows the bits.
class PreciseDistance final : public QueryDistance {
 public:
  PreciseDistance(std::unique_ptr<QueryDistance> inner, size_t skip) : inner_(std::move(inner)), skip_(skip) {}
  float one(const uint8_t* code) const override { return inner_->one(code + skip_); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    for (size_t i = 0; i < n; ++i) out[i] = inner_->one(codes[i] + skip_);
  }

 private:
  std::unique_ptr<QueryDistance> inner_;
  size_t skip_;
};

}  // namespace

BinaryCodec::BinaryCodec(size_t dim, Metric metric)
    : Codec(dim, metric), words_((dim + 63) / 64), precise_(dim, metric, 8, 0), hamming_(binary::hamming()) {}

void BinaryCodec::sign_bits(const float* x, uint64_t* bits) const {
  const std::vector<float>& mean = precise_.mean();
  std::memset(bits, 0, bit_bytes());
  for (size_t i = 0; i < dim(); ++i)
    if (x[i] > mean[i]) bits[i / 64] |= uint64_t{1} << (i % 64);
}

void BinaryCodec::encode(const float* x, uint8_t* code) const {
  std::vector<uint64_t> bits(words_);
  sign_bits(x, bits.data());
  std::memcpy(code, bits.data(), bit_bytes());
  precise_.encode(x, code + bit_bytes());
}

std::unique_ptr<QueryDistance> BinaryCodec::prepare(const float* query) const {
  std::vector<uint64_t> bits(words_);
  sign_bits(query, bits.data());
  return std::make_unique<HammingDistance>(std::move(bits), hamming_);
}

float BinaryCodec::distance_between(const uint8_t* a, const uint8_t* b) const {
  return static_cast<float>(
      hamming_(reinterpret_cast<const uint64_t*>(a), reinterpret_cast<const uint64_t*>(b), words_));
}

std::unique_ptr<QueryDistance> BinaryCodec::prepare_precise(const float* query) const {
  return std::make_unique<PreciseDistance>(precise_.prepare(query), bit_bytes());
}

}  // namespace vidx
