#include "vidx/codec/sign_sketch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "vidx/codec/finite_codes.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"

namespace vidx {
namespace {

// RaBitQ's confidence multiplier: the bound fails for a few candidates in a thousand (measured
// on fashion-mnist and wordnet walks: 0.06% and 0.2% of the candidates a walk keeps; 1.5
// screens more and misses more, 2.5 none missed but a fifth fewer screened).
constexpr double kConfidence = 1.9;
// The query's rounding error summed over a sketch's set bits is a sum of small errors of either
// sign: bounded by this many times their root sum of squares (a one-sided miss of ~0.1%).
constexpr double kRoundingConfidence = 3.0;

// <a, b> in eight running sums (vectorised).
float dot_in_lanes(const float* a, const float* b, size_t n) {
  float lanes[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (size_t l = 0; l < 8; ++l) lanes[l] += a[i + l] * b[i + l];
  float sum = 0.f;
  for (; i < n; ++i) sum += a[i] * b[i];
  for (float v : lanes) sum += v;
  return sum;
}

// planes[j·words + w] bit b = bit j of levels[64w + b].
void to_bit_planes(const uint8_t* levels, size_t words, size_t bits, uint64_t* planes) {
  for (size_t w = 0; w < words; ++w)
    for (size_t j = 0; j < bits; ++j) {
      uint64_t plane = 0;
#if defined(__SSE2__)
      // Bit j moved to each byte's top bit, where movemask collects 16 bytes' at once.
      for (size_t b = 0; b < 64; b += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(levels + 64 * w + b));
        const __m128i top = _mm_slli_epi16(v, static_cast<int>(7 - j));
        plane |= static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(top))) << b;
      }
#else
      for (size_t b = 0; b < 64; ++b) plane |= static_cast<uint64_t>(levels[64 * w + b] >> j & 1u) << b;
#endif
      planes[j * words + w] = plane;
    }
}

}  // namespace

SignSketch::SignSketch(size_t dim, Metric metric, uint64_t seed)
    : dim_(dim),
      l2_(metric == Metric::L2),
      rotation_(dim, seed),
      words_(rotation_.padded_dim() / 64),
      mean_(dim, 0.f),
      planes_dot_(binary::planes_dot()) {}

void SignSketch::train(const float* x, size_t n) {
  if (n == 0) return;
  std::vector<double> sum(dim_, 0.0);
  for (size_t r = 0; r < n; ++r)
    for (size_t i = 0; i < dim_; ++i) sum[i] += x[r * dim_ + i];
  for (size_t i = 0; i < dim_; ++i) mean_[i] = static_cast<float>(sum[i] / static_cast<double>(n));
  trained_ = true;
}

void SignSketch::encode(const float* x, uint8_t* sketch) const {
  const size_t padded = rotation_.padded_dim();
  std::vector<float> centred(dim_), o(padded);
  double norm2 = 0, mean_dot = 0;
  for (size_t i = 0; i < dim_; ++i) {
    centred[i] = x[i] - mean_[i];
    norm2 += static_cast<double>(centred[i]) * centred[i];
    mean_dot += static_cast<double>(mean_[i]) * centred[i];
  }
  rotation_.apply(centred.data(), o.data());
  std::vector<uint64_t> bits(words_, 0);
  double abs_sum = 0;
  for (size_t i = 0; i < padded; ++i) {
    if (o[i] > 0.f) bits[i / 64] |= uint64_t{1} << (i % 64);
    abs_sum += std::fabs(o[i]);
  }
  std::memcpy(sketch, bits.data(), bit_bytes());

  // With |x - mu| = norm and sum |o_i| = abs_sum (o unnormalised): a = abs_sum / (norm·sqrt(D)),
  // the estimate of <x - mu, z> is norm·S / (a·sqrt(D)) = norm^2·S / abs_sum, and its error is
  // at most norm·eps0·sqrt(1 - a^2) / (a·sqrt(D - 1))·|q - mu|.
  const double norm = std::sqrt(norm2), d = static_cast<double>(padded);
  size_t set_bits = 0;
  for (uint64_t w : bits) set_bits += static_cast<size_t>(__builtin_popcountll(w));
  float f[4] = {0.f, 0.f, 0.f, static_cast<float>(set_bits)};
  const double weight = l2_ ? 2.0 : 1.0;  // L2 counts the cross term twice
  f[0] = static_cast<float>(l2_ ? norm2 : -mean_dot);
  if (norm > 0 && abs_sum > 0) {
    const double a = std::min(1.0, abs_sum / (norm * std::sqrt(d)));
    f[1] = static_cast<float>(weight * norm2 / abs_sum);
    f[2] = static_cast<float>(weight * norm * kConfidence * std::sqrt(1.0 - a * a) / (a * std::sqrt(d - 1.0)));
  }
  std::memcpy(sketch + bit_bytes(), f, kFactorBytes);
}

SignSketch::Query SignSketch::prepare(const float* query) const {
  Query q;
  std::vector<float> centred(dim_);
  for (size_t i = 0; i < dim_; ++i) centred[i] = query[i] - mean_[i];
  const size_t padded = rotation_.padded_dim();
  std::vector<float> z(padded);
  rotation_.apply(centred.data(), z.data());
  // Eight running sums, minima and maxima (vectorised); padded is a multiple of 64.
  // (|z| = |q - mu|: the rotation keeps lengths.)
  float sums[8] = {}, squares[8] = {}, lows[8], highs[8];
  for (size_t l = 0; l < 8; ++l) lows[l] = highs[l] = z[l];
  for (size_t i = 0; i < padded; i += 8)
    for (size_t l = 0; l < 8; ++l) {
      sums[l] += z[i + l];
      squares[l] += z[i + l] * z[i + l];
      lows[l] = std::min(lows[l], z[i + l]);
      highs[l] = std::max(highs[l], z[i + l]);
    }
  float sum = 0.f, norm2 = 0.f, low = lows[0], high = highs[0];
  for (size_t l = 0; l < 8; ++l) {
    sum += sums[l];
    norm2 += squares[l];
    low = std::min(low, lows[l]);
    high = std::max(high, highs[l]);
  }
  q.rotated_sum = sum;
  constexpr float kLevels = static_cast<float>((1u << kQueryBits) - 1u);
  q.low = low;
  q.step = high > low ? (high - low) / kLevels : 1.f;
  q.planes.assign(kQueryBits * words_, 0);
  const float inverse_step = 1.f / q.step;
  std::vector<int32_t> rounded(padded);
  float errors2[8] = {};
  for (size_t i = 0; i < padded; i += 8)
    for (size_t l = 0; l < 8; ++l) {
      // Rounded by truncation, the value being >= 0 (std::floor is a library call at x86-64's
      // baseline, which cost more than the rest of a query's preparation).
      const int32_t level = std::min(static_cast<int32_t>(kLevels), static_cast<int32_t>((z[i + l] - low) * inverse_step + 0.5f));
      const float error = z[i + l] - (low + q.step * static_cast<float>(level));
      errors2[l] += error * error;
      rounded[i + l] = level;
    }
  float error2 = 0.f;
  for (float e : errors2) error2 += e;
  std::vector<uint8_t> levels(rounded.begin(), rounded.end());
  to_bit_planes(levels.data(), words_, kQueryBits, q.planes.data());
  q.rounding_slack = static_cast<float>(kRoundingConfidence * std::sqrt(error2));
  q.centred_norm = static_cast<float>(std::sqrt(norm2));
  q.constant = l2_ ? norm2 : 1.f - dot_in_lanes(query, mean_.data(), dim_);
  return q;
}

bool SignSketch::finite(const uint8_t* sketch) const {
  return exponents_finite<uint32_t>(sketch + bit_bytes(), kFactorBytes / sizeof(float), kF32ExponentBits);
}

// [u64 rotation seed | dim f32 mean]
void SignSketch::save_parameters(io::ByteWriter& out) const {
  out.u64(rotation_.seed());
  for (float v : mean_) out.f32(v);
}

void SignSketch::load_parameters(io::ByteReader& in) {
  const uint64_t seed = in.u64();
  rotation_ = HadamardRotation(dim_, seed);
  for (float& v : mean_) {
    v = in.f32();
    if (!std::isfinite(v)) throw FileFormatError(in.what() + ": the sketch's mean holds NaN or infinite values");
  }
  trained_ = true;  // the stored sketches were made with this mean (files do not say whether it was learnt)
}

}  // namespace vidx
