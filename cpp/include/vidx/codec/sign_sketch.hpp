// A one-bit sketch of a vector that bounds its distance to a query from below, so a graph walk
// can drop a candidate without reading the candidate's vector.
//
// The sketch of x is the signs of R·(x - mu) (R a random rotation, hadamard_rotation.hpp; mu
// the mean of the first rows added) and three factors. RaBitQ's estimator (Gao & Long, SIGMOD
// 2024) gives <x - mu, q - mu> from the signs and the rotated query, and its error bound holds
// with high probability:
//   |<o, z> - S / (a·sqrt(D))| <= eps0 · sqrt(1 - a^2) / (a·sqrt(D - 1)) · |q - mu|
// where o = R(x - mu)/|x - mu|, z = R(q - mu), D the rotated length, S = sum_i ±z_i (the sign
// of o_i), a = sum_i |o_i| / sqrt(D). With that error on the far side, the distance can only be
// larger than
//   L2: |q - mu|^2 + |x - mu|^2 - 2|x - mu|·(estimate + error)
//   IP: 1 - <q, mu> - <mu, x - mu> - |x - mu|·(estimate + error)
// which the sketch stores as three factors per vector: lower bound = C_q + f0 - k1·S - k2·|q - mu|.
// A walk drops a candidate whose lower bound reaches its beam's bound; eps0 sets how often a
// candidate under the bound is dropped anyway (rarely: a graph walk accepts that, as f32_pca's
// early exits do; exact scans never screen).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/hadamard_rotation.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/io/fwd.hpp"

namespace vidx {

class SignSketch {
 public:
  // A query prepared against sketches: the rotated, centred query and its constants.
  // z = R(q - mu) is rounded to kQueryBits bits a dimension, z_i ~ low + step·u_i, and stored
  // as bit planes, so a sketch's sum over its set bits is kQueryBits AND-popcount passes.
  struct Query {
    std::vector<uint64_t> planes;  // kQueryBits planes of words_ words: bit j of u_i
    float low = 0.f, step = 0.f;
    float rotated_sum = 0.f;   // sum_i z_i
    float rounding_slack = 0.f;  // bounds sum_{set bits} (z_i - low - step·u_i) from above
    float constant = 0.f;      // C_q: |q - mu|^2 (L2) or 1 - <q, mu> (IP)
    float centred_norm = 0.f;  // |q - mu|
  };

  SignSketch(size_t dim, Metric metric, uint64_t seed);

  // [sign bits: padded_dim()/8 bytes | f0, k1, k2, number of set bits, as float32]
  size_t bytes() const { return bit_bytes() + kFactorBytes; }
  size_t bit_bytes() const { return words_ * sizeof(uint64_t); }

  // mu: the mean of the rows it learns from (zero until then). Trained once (or loaded): every
  // stored sketch is centred by mu, so a later mean would misplace them (an index relearns it
  // by encoding them all again, codec/relearning.hpp).
  void train(const float* x, size_t n);
  bool trained() const { return trained_; }
  void encode(const float* x, uint8_t* sketch) const;
  Query prepare(const float* query) const;
  float lower_bound(const Query& q, const uint8_t* sketch) const {
    const float* f = factors(sketch);
    const uint32_t dot = planes_dot_(q.planes.data(), reinterpret_cast<const uint64_t*>(sketch), words_, kQueryBits);
    const float masked = q.low * f[3] + q.step * static_cast<float>(dot) + q.rounding_slack;
    const float signed_sum = 2.f * masked - q.rotated_sum;
    return q.constant + f[0] - f[1] * signed_sum - f[2] * q.centred_norm;
  }
  bool finite(const uint8_t* sketch) const;

  void save_parameters(io::ByteWriter& out) const;
  void load_parameters(io::ByteReader& in);
  size_t parameter_bytes() const { return mean_.size() * sizeof(float) + rotation_.parameter_bytes(); }

  // Another level's masked-sum kernel (tests compare every level).
  void use_kernel(binary::PlanesDotFn fn) { planes_dot_ = fn; }

  static constexpr size_t kQueryBits = 5;

 private:
  static constexpr size_t kFactorBytes = 4 * sizeof(float);
  const float* factors(const uint8_t* sketch) const {
    return reinterpret_cast<const float*>(sketch + bit_bytes());
  }

  size_t dim_;
  bool l2_;
  HadamardRotation rotation_;
  size_t words_;
  std::vector<float> mean_;
  bool trained_ = false;
  binary::PlanesDotFn planes_dot_;
};

}  // namespace vidx
