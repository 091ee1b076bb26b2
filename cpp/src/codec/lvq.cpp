// LVQ encoding, decoding and query distances (formulas in lvq.hpp; kernels in
// lvq_kernels_*.cpp).
#include "vidx/codec/lvq.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "vidx/codec/float16.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

size_t code_bytes(size_t padded_dim, int bits) { return padded_dim * static_cast<size_t>(bits) / 8; }

lvq::Packing packing_of(int primary_bits, int residual_bits) {
  if (residual_bits == 0) return primary_bits == 8 ? lvq::Packing::U8 : lvq::Packing::U4;
  if (primary_bits == 8) return lvq::Packing::U8U8;
  return residual_bits == 8 ? lvq::Packing::U4U8 : lvq::Packing::U4U4;
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

void store_u16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }

void put_code(uint8_t* codes, int bits, size_t i, uint32_t c) {
  if (bits == 8) {
    codes[i] = static_cast<uint8_t>(c);
    return;
  }
  const size_t in_block = i % lvq::kBlockDims;
  uint8_t& byte = codes[(i / lvq::kBlockDims) * (lvq::kBlockDims / 2) + in_block % 16];
  byte |= static_cast<uint8_t>(in_block < 16 ? c : c << 4);
}

uint32_t quantize(float t, uint32_t max_code) {
  const float r = std::floor(t + 0.5f);
  return r <= 0.f ? 0u : (r >= static_cast<float>(max_code) ? max_code : static_cast<uint32_t>(r));
}

// Distances from one query to LVQ codes read through one View. Per-query terms are computed
// here once: the centred query for L2; sum(q) and <q, mu> for IP, where
//   <q, x> = <q, mu> + offset·sum(q) + scale·<q, v>.
class LvqDistance final : public QueryDistance {
 public:
  struct Layout {
    size_t dim, padded_dim, constants_offset, head_bytes, read_bytes;
    float residual_levels;  // 2^B2 - 1, 0 for one level
  };

  LvqDistance(const float* query, const std::vector<float>& mean, Metric metric, const Layout& layout,
              const lvq::KernelTable& k, lvq::Packing packing)
      : q_(layout.padded_dim, 0.f), metric_(metric), layout_(layout) {
    l2_ = k.l2[static_cast<int>(packing)];
    dot_ = k.dot[static_cast<int>(packing)];
    double q_sum = 0, q_mu = 0;
    for (size_t i = 0; i < layout.dim; ++i) {
      q_[i] = metric == Metric::L2 ? query[i] - mean[i] : query[i];
      q_sum += query[i];
      q_mu += static_cast<double>(query[i]) * mean[i];
    }
    q_sum_ = static_cast<float>(q_sum);
    q_mu_ = static_cast<float>(q_mu);
    pad_ = static_cast<float>(layout.padded_dim - layout.dim);
  }

  float one(const uint8_t* code) const override { return one_split(code, code + layout_.head_bytes); }

  float one_split(const uint8_t* head, const uint8_t* tail) const override {
    float scale, offset;
    grid(head, scale, offset);
    if (metric_ == Metric::L2) {
      // Padding dimensions hold q = 0 and v = 0, so each added exactly offset^2.
      const float d = l2_(q_.data(), head, tail, layout_.padded_dim, scale, offset) - pad_ * offset * offset;
      return std::max(d, 0.f);
    }
    return 1.f - (q_mu_ + offset * q_sum_ + scale * dot_(q_.data(), head, tail, layout_.padded_dim));
  }

  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    const size_t ahead = simd::vectors_ahead(layout_.read_bytes);
    for (size_t i = 1; i < ahead && i < n; ++i) prefetch(codes[i]);
    for (size_t i = 0; i < n; ++i) {
      if (i + ahead < n) prefetch(codes[i + ahead]);
      out[i] = one(codes[i]);
    }
  }

  // No batch_bounded: an early-exit L2 kernel (checks every 128 dimensions) measured slower
  // than this one on fashion-mnist (LVQ codes are compact, the extra reductions cost more
  // than the bytes they skip), so the default (plain batch) applies.

 private:
  void grid(const uint8_t* head, float& scale, float& offset) const {
    const float delta = f16::to_float(load_u16(head + layout_.constants_offset));
    const float bias = f16::to_float(load_u16(head + layout_.constants_offset + 2));
    // Two levels: x = mu + (bias - delta/2) + (delta / (2^B2 - 1))·v.
    const bool two = layout_.residual_levels > 0.f;
    scale = two ? delta / layout_.residual_levels : delta;
    offset = two ? bias - 0.5f * delta : bias;
  }

  void prefetch(const uint8_t* code) const {
    for (size_t off = 0; off < layout_.read_bytes; off += 64) __builtin_prefetch(code + off, 0, 3);
  }

  std::vector<float> q_;  // centred (L2) or plain (IP) query, zero-padded
  Metric metric_;
  Layout layout_;
  lvq::L2Fn l2_;
  lvq::DotFn dot_;
  float q_sum_ = 0.f;
  float q_mu_ = 0.f;
  float pad_ = 0.f;
};

}  // namespace

LvqCodec::LvqCodec(size_t dim, Metric metric, int primary_bits, int residual_bits)
    : Codec(dim, metric),
      primary_bits_(primary_bits),
      residual_bits_(residual_bits),
      padded_dim_(round_up(dim, lvq::kBlockDims)),
      mean_(dim, 0.f),
      kernels_(&lvq::kernels()) {
  if (primary_bits != 4 && primary_bits != 8) throw InvalidArgument("LVQ primary codes take 4 or 8 bits");
  if (residual_bits != 0 && residual_bits != 4 && residual_bits != 8)
    throw InvalidArgument("LVQ residual codes take 0, 4 or 8 bits");
  if (primary_bits == 8 && residual_bits == 4) throw InvalidArgument("LVQ-8x4 is not supported");
  constants_offset_ = code_bytes(padded_dim_, primary_bits);
  residual_offset_ = constants_offset_ + 2 * sizeof(uint16_t);
  residual_bytes_ = code_bytes(padded_dim_, residual_bits);
  primary_view_ = View{packing_of(primary_bits, 0), false};
  precise_view_ = View{packing_of(primary_bits, residual_bits), residual_bits > 0};
}

std::string LvqCodec::name() const {
  std::string n = "lvq" + std::to_string(primary_bits_);
  if (residual_bits_) n += "x" + std::to_string(residual_bits_);
  return n;
}

void LvqCodec::train(const float* x, size_t n) {
  if (n == 0) return;
  std::vector<double> sum(dim(), 0.0);
  for (size_t r = 0; r < n; ++r)
    for (size_t i = 0; i < dim(); ++i) sum[i] += x[r * dim() + i];
  for (size_t i = 0; i < dim(); ++i) mean_[i] = static_cast<float>(sum[i] / static_cast<double>(n));
  trained_ = true;
}

void LvqCodec::encode(const float* x, uint8_t* code) const {
  std::memset(code, 0, code_size());
  std::vector<float> centred(dim());
  float lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < dim(); ++i) {
    centred[i] = x[i] - mean_[i];
    lo = std::min(lo, centred[i]);
    hi = std::max(hi, centred[i]);
  }
  // bias is rounded down and delta up to float16, so the grid still covers [lo, hi] and every
  // value stays within delta/2 of its code. A near-constant vector would get a subnormal
  // delta: the smallest normal float16 keeps it representable at full precision.
  const uint32_t max_primary = (1u << primary_bits_) - 1;
  const uint16_t bias_h = f16::round_down(lo);
  const float bias = f16::to_float(bias_h);
  const float wanted_delta = std::max((hi - bias) / static_cast<float>(max_primary), f16::kMinNormal);
  const uint16_t delta_h = f16::round_up(wanted_delta);
  const float delta = f16::to_float(delta_h);
  store_u16(code + constants_offset_, delta_h);
  store_u16(code + constants_offset_ + 2, bias_h);

  const uint32_t max_residual = (1u << residual_bits_) - 1;
  const float step = residual_bits_ ? delta / static_cast<float>(max_residual) : 0.f;
  for (size_t i = 0; i < dim(); ++i) {
    const uint32_t c = quantize((centred[i] - bias) / delta, max_primary);
    put_code(code, primary_bits_, i, c);
    if (residual_bits_) {
      // What the primary missed, shifted by delta/2 into [0, delta].
      const float missed = centred[i] - (bias + delta * static_cast<float>(c));
      put_code(code + residual_offset_, residual_bits_, i, quantize((missed + 0.5f * delta) / step, max_residual));
    }
  }
}

float LvqCodec::delta(const uint8_t* code) const { return f16::to_float(load_u16(code + constants_offset_)); }
float LvqCodec::bias(const uint8_t* code) const { return f16::to_float(load_u16(code + constants_offset_ + 2)); }

void LvqCodec::decode_view(const uint8_t* head, const uint8_t* tail, View view, bool add_mean, float* x) const {
  thread_local std::vector<float> padded;
  padded.resize(padded_dim_);
  const float d = delta(head), b = bias(head);
  const float scale = view.two_level ? d / static_cast<float>((1u << residual_bits_) - 1) : d;
  const float offset = view.two_level ? b - 0.5f * d : b;
  kernels_->decode[static_cast<int>(view.packing)](head, tail, padded_dim_, scale, offset, padded.data());
  for (size_t i = 0; i < dim(); ++i) x[i] = add_mean ? padded[i] + mean_[i] : padded[i];
}

void LvqCodec::decode(const uint8_t* code, float* x) const {
  decode_view(code, code + residual_offset_, precise_view_, true, x);
}
void LvqCodec::decode_split(const uint8_t* head, const uint8_t* tail, float* x) const {
  decode_view(head, tail, precise_view_, true, x);
}
void LvqCodec::decode_primary(const uint8_t* code, float* x) const {
  decode_view(code, code + residual_offset_, primary_view_, true, x);
}

std::unique_ptr<QueryDistance> LvqCodec::prepare_view(const float* query, View view) const {
  // What one distance reads: the head only, or the whole code for the precise view.
  const size_t read_bytes = view.two_level ? code_size() : head_size();
  const LvqDistance::Layout layout{dim(), padded_dim_, constants_offset_, residual_offset_, read_bytes,
                                   view.two_level ? static_cast<float>((1u << residual_bits_) - 1) : 0.f};
  return std::make_unique<LvqDistance>(query, mean_, metric(), layout, *kernels_, view.packing);
}

std::unique_ptr<QueryDistance> LvqCodec::prepare(const float* query) const { return prepare_view(query, primary_view_); }

std::unique_ptr<QueryDistance> LvqCodec::prepare_precise(const float* query) const {
  return prepare_view(query, precise_view_);
}

// Two stored vectors from their heads (primary codes): both decoded and compared with the
// float kernels (L2 needs no mean, it cancels). Structures prefer prepare_from_code, which
// decodes one side once (prefers_prepared_comparisons).
float LvqCodec::distance_between(const uint8_t* a, const uint8_t* b) const {
  thread_local std::vector<float> xa, xb;
  xa.resize(dim());
  xb.resize(dim());
  const bool l2 = metric() == Metric::L2;
  decode_view(a, nullptr, primary_view_, !l2, xa.data());
  decode_view(b, nullptr, primary_view_, !l2, xb.data());
  const simd::KernelTable& k = simd::kernels();
  return l2 ? k.l2sq(xa.data(), xb.data(), dim()) : 1.f - k.dot(xa.data(), xb.data(), dim());
}

// The first byte is 2 + trained: codes laid out [primary | constants | residual]. Files of
// the first LVQ layout ([primary | residual | constants], byte 0 or 1) are refused rather
// than misread.
void LvqCodec::save_parameters(io::ByteWriter& out) const {
  out.u8(trained_ ? 3 : 2);
  for (float m : mean_) out.f32(m);
}

void LvqCodec::load_parameters(io::ByteReader& in) {
  const uint8_t flag = in.u8();
  if (flag < 2) throw FileFormatError(in.what() + ": LVQ codes in an older layout; rebuild the index");
  if (flag > 3) throw FileFormatError(in.what() + ": invalid LVQ training flag");
  const uint8_t trained = flag - 2;
  for (float& m : mean_) {
    m = in.f32();
    if (!std::isfinite(m)) throw FileFormatError(in.what() + ": LVQ mean is not finite");
  }
  in.expect_end();
  trained_ = trained == 1;
}

}  // namespace vidx
