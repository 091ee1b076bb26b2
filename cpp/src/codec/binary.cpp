// Binary codes, their rotation and their distances (see binary.hpp).
#include "vidx/codec/binary.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

constexpr size_t kMaxRotatedDim = 4096;  // a dense d x d rotation beyond this costs too much

struct Factors {
  float f, norm, mean_dot;  // |o|^2 / sum|o_i|, |o|, <mu, x - mu>
};

Factors load_factors(const uint8_t* p) {
  Factors f;
  std::memcpy(&f, p, sizeof(f));
  return f;
}

class HammingDistance final : public QueryDistance {
 public:
  HammingDistance(std::vector<uint64_t> bits, binary::HammingFn fn) : bits_(std::move(bits)), fn_(fn) {}
  float one(const uint8_t* code) const override {
    return static_cast<float>(fn_(bits_.data(), reinterpret_cast<const uint64_t*>(code), bits_.size()));
  }
  size_t code_bytes() const override { return bits_.size() * sizeof(uint64_t); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    for (size_t i = 0; i < n; ++i) out[i] = one(codes[i]);
  }

 private:
  std::vector<uint64_t> bits_;
  binary::HammingFn fn_;
};

// The asymmetric estimator: the rotated query q' in float32 against one-bit codes.
//   L2: |q'|^2 + |o|^2 - 2·f·(2·S_b - S)      IP: 1 - (<q, mu> + f·(2·S_b - S))
class EstimatorDistance final : public QueryDistance {
 public:
  EstimatorDistance(std::vector<float> q, size_t words, bool l2, float q_norm2, float q_mu, binary::MaskedSumFn fn)
      : q_(std::move(q)), words_(words), l2_(l2), q_norm2_(q_norm2), q_mu_(q_mu), fn_(fn) {
    double s = 0;
    for (float v : q_) s += v;
    q_sum_ = static_cast<float>(s);
  }
  float one(const uint8_t* code) const override {
    const Factors f = load_factors(code + words_ * sizeof(uint64_t));
    const float dot = f.f * (2.f * fn_(q_.data(), reinterpret_cast<const uint64_t*>(code), words_) - q_sum_);
    return l2_ ? q_norm2_ + f.norm * f.norm - 2.f * dot : 1.f - (q_mu_ + dot);
  }
  size_t code_bytes() const override { return words_ * sizeof(uint64_t) + sizeof(Factors); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    for (size_t i = 0; i < n; ++i) out[i] = one(codes[i]);
  }

 private:
  std::vector<float> q_;  // 64·words floats, zero-padded
  size_t words_;
  bool l2_;
  float q_norm2_, q_mu_, q_sum_ = 0.f;
  binary::MaskedSumFn fn_;
};

// Re-ranking reads the LVQ-8 tail.
class PreciseDistance final : public QueryDistance {
 public:
  PreciseDistance(std::unique_ptr<QueryDistance> inner, size_t skip) : inner_(std::move(inner)), skip_(skip) {}
  float one(const uint8_t* code) const override { return inner_->one(code + skip_); }
  size_t code_bytes() const override { return skip_ + inner_->code_bytes(); }
  float one_split(const uint8_t* head, const uint8_t* tail) const override { return inner_->one(tail); }
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    for (size_t i = 0; i < n; ++i) out[i] = inner_->one(codes[i] + skip_);
  }

 private:
  std::unique_ptr<QueryDistance> inner_;
  size_t skip_;
};

}  // namespace

BinaryCodec::BinaryCodec(size_t dim, Metric metric, bool rotate, bool estimate, uint64_t seed)
    : Codec(dim, metric),
      words_((dim + 63) / 64),
      rotate_(rotate || estimate),
      estimate_(estimate),
      seed_(seed),
      precise_(dim, metric, 8, 0),
      hamming_(binary::hamming()),
      masked_sum_(binary::masked_sum()) {
  if (rotate_ && dim > kMaxRotatedDim)
    throw InvalidArgument("rotated binary codes support at most " + std::to_string(kMaxRotatedDim) + " dimensions");
}

std::string BinaryCodec::name() const { return estimate_ ? "rabitq" : (rotate_ ? "binary_rot" : "binary"); }

// Gaussian rows (Box-Muller on the seeded stream) made orthonormal by modified Gram-Schmidt
// in double precision. Drawn once, at training; files store the matrix itself.
void BinaryCodec::make_rotation() {
  const size_t d = dim();
  Rng rng(splitmix64(seed_ ^ 0x726f746174696f6eull));
  std::vector<double> m(d * d);
  for (size_t i = 0; i < d * d; i += 2) {
    const double r = std::sqrt(-2.0 * std::log(rng.uniform())), t = 6.283185307179586 * rng.uniform();
    m[i] = r * std::cos(t);
    if (i + 1 < d * d) m[i + 1] = r * std::sin(t);
  }
  for (size_t i = 0; i < d; ++i) {
    double* row = &m[i * d];
    for (int pass = 0; pass < 2; ++pass)  // twice is enough for orthogonality in floating point
      for (size_t j = 0; j < i; ++j) {
        const double* prev = &m[j * d];
        double p = 0;
        for (size_t k = 0; k < d; ++k) p += row[k] * prev[k];
        for (size_t k = 0; k < d; ++k) row[k] -= p * prev[k];
      }
    double norm = 0;
    for (size_t k = 0; k < d; ++k) norm += row[k] * row[k];
    norm = std::sqrt(norm);
    for (size_t k = 0; k < d; ++k) row[k] /= norm;
  }
  rotation_.assign(m.begin(), m.end());
}

void BinaryCodec::train(const float* x, size_t n) {
  precise_.train(x, n);
  double m2 = 0;
  for (float v : precise_.mean()) m2 += static_cast<double>(v) * v;
  mean_norm2_ = static_cast<float>(m2);
  if (rotate_ && rotation_.empty()) make_rotation();
}

void BinaryCodec::transform(const float* x, bool centre, float* out) const {
  const std::vector<float>& mean = precise_.mean();
  const size_t d = dim();
  thread_local std::vector<float> shifted;
  shifted.resize(d);
  for (size_t i = 0; i < d; ++i) shifted[i] = centre ? x[i] - mean[i] : x[i];
  std::memset(out, 0, words_ * 64 * sizeof(float));
  if (!rotate_ || rotation_.empty()) {  // unrotated (or untrained: nothing stored yet)
    std::memcpy(out, shifted.data(), d * sizeof(float));
    return;
  }
  const simd::KernelTable& k = simd::kernels();
  for (size_t i = 0; i < d; ++i) out[i] = k.dot(rotation_.data() + i * d, shifted.data(), d);
}

void BinaryCodec::encode(const float* x, uint8_t* code) const {
  std::vector<float> o(words_ * 64);
  transform(x, true, o.data());
  std::vector<uint64_t> bits(words_, 0);
  double norm2 = 0, abs_sum = 0;
  for (size_t i = 0; i < dim(); ++i) {
    if (o[i] > 0.f) bits[i / 64] |= uint64_t{1} << (i % 64);
    norm2 += static_cast<double>(o[i]) * o[i];
    abs_sum += std::fabs(o[i]);
  }
  std::memcpy(code, bits.data(), bit_bytes());
  if (estimate_) {
    // <mu, x - mu> = <P mu, o> is rotation-free: computed on the unrotated vectors.
    const std::vector<float>& mean = precise_.mean();
    double mean_dot = 0;
    for (size_t i = 0; i < dim(); ++i) mean_dot += static_cast<double>(mean[i]) * (x[i] - mean[i]);
    const Factors f{abs_sum > 0 ? static_cast<float>(norm2 / abs_sum) : 0.f, static_cast<float>(std::sqrt(norm2)),
                    static_cast<float>(mean_dot)};
    std::memcpy(code + bit_bytes(), &f, sizeof(f));
  }
  precise_.encode(x, code + head_size());
}

std::unique_ptr<QueryDistance> BinaryCodec::prepare(const float* query) const {
  const bool l2 = metric() == Metric::L2;
  std::vector<float> q(words_ * 64);
  // Hamming compares sign bits of the centred query whatever the metric; the estimator
  // rotates the centred query (L2) or the query itself (IP: <q, x> = <q, mu> + <Pq, o>).
  transform(query, l2 || !estimate_, q.data());
  if (!estimate_) {
    std::vector<uint64_t> bits(words_, 0);
    for (size_t i = 0; i < dim(); ++i)
      if (q[i] > 0.f) bits[i / 64] |= uint64_t{1} << (i % 64);
    return std::make_unique<HammingDistance>(std::move(bits), hamming_);
  }
  double n2 = 0, q_mu = 0;
  for (size_t i = 0; i < dim(); ++i) {
    n2 += static_cast<double>(q[i]) * q[i];
    q_mu += static_cast<double>(query[i]) * precise_.mean()[i];
  }
  return std::make_unique<EstimatorDistance>(std::move(q), words_, l2, static_cast<float>(n2),
                                             static_cast<float>(q_mu), masked_sum_);
}

float BinaryCodec::distance_between(const uint8_t* a, const uint8_t* b) const {
  const uint32_t h =
      hamming_(reinterpret_cast<const uint64_t*>(a), reinterpret_cast<const uint64_t*>(b), words_);
  if (!estimate_) return static_cast<float>(h);
  // Sign bits of a random rotation differ with probability angle / pi.
  const Factors fa = load_factors(a + bit_bytes()), fb = load_factors(b + bit_bytes());
  const float dot = fa.norm * fb.norm * std::cos(3.14159265f * static_cast<float>(h) / static_cast<float>(dim()));
  if (metric() == Metric::L2) return fa.norm * fa.norm + fb.norm * fb.norm - 2.f * dot;
  return 1.f - (mean_norm2_ + fa.mean_dot + fb.mean_dot + dot);
}

std::unique_ptr<QueryDistance> BinaryCodec::prepare_precise(const float* query) const {
  return std::make_unique<PreciseDistance>(precise_.prepare(query), head_size());
}

// [u8 has rotation | d x d f32 rotation] for rotated variants, then the LVQ-8 parameters.
void BinaryCodec::save_parameters(io::ByteWriter& out) const {
  if (rotate_) {
    out.u8(rotation_.empty() ? 0 : 1);
    for (float v : rotation_) out.f32(v);
  }
  precise_.save_parameters(out);
}

void BinaryCodec::load_parameters(io::ByteReader& in) {
  if (rotate_) {
    const uint8_t has = in.u8();
    if (has > 1) throw FileFormatError(in.what() + ": invalid rotation flag");
    rotation_.assign(has ? dim() * dim() : 0, 0.f);
    for (float& v : rotation_) {
      v = in.f32();
      if (!std::isfinite(v) || std::fabs(v) > 1.0001f) throw FileFormatError(in.what() + ": invalid rotation");
    }
  }
  precise_.load_parameters(in);
  double m2 = 0;
  for (float v : precise_.mean()) m2 += static_cast<double>(v) * v;
  mean_norm2_ = static_cast<float>(m2);
}

}  // namespace vidx
