// LVQ encoding, decoding and query distances (formulas in lvq.hpp; kernels in
// lvq_kernels_*.cpp).
#include "vidx/codec/lvq.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "vidx/codec/float16.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

size_t code_bytes(size_t padded_dim, int bits) { return padded_dim * static_cast<size_t>(bits) / 8; }

constexpr size_t kConstantBytes = 2 * sizeof(uint16_t);  // f16 delta, f16 bias
// A unit row's norm-keeping grid may make its squared error at most this many times the grid's
// it was made on (store_fitted_grid): keeping the norm trades some error for it, a row whose codes
// pin its grid (all but constant) would trade far more.
constexpr double kFittedErrorGrowth = 4.0;

// Whether the constants can live in the primary codes' padding: whole bytes there (8-bit
// codes; 4-bit blocks interleave their dimensions, lvq_kernels.hpp) and room for both.
bool fits_in_padding(size_t dim, size_t padded_dim, int primary_bits) {
  return primary_bits == 8 && padded_dim - dim >= kConstantBytes;
}

// sum c and sum c^2 of the constants' bytes read as codes: where 8-bit codes keep their
// constants in the padding, the kernels sum those bytes with the padding dimensions', and L2
// distances take them out again.
struct ConstantByteSums {
  int32_t sum = 0, squares = 0;
};
ConstantByteSums constant_byte_sums(const uint8_t* head, size_t constants_offset) {
  ConstantByteSums s;
  for (size_t j = 0; j < kConstantBytes; ++j) {
    const int32_t c = head[constants_offset + j];
    s.sum += c;
    s.squares += c * c;
  }
  return s;
}

lvq::Packing packing_of(int primary_bits, int residual_bits) {
  if (residual_bits == 0) return primary_bits == 8 ? lvq::Packing::U8 : lvq::Packing::U4;
  if (primary_bits == 8) return lvq::Packing::U8U8;
  return residual_bits == 8 ? lvq::Packing::U4U8 : lvq::Packing::U4U4;
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

// The query as the kernels compare it: centred by the mean for L2, as given for IP.
void centre(const float* query, const std::vector<float>& mean, Metric metric, float* out) {
  if (metric == Metric::L2)
    for (size_t i = 0; i < mean.size(); ++i) out[i] = query[i] - mean[i];
  else
    std::copy(query, query + mean.size(), out);
}

// sum(q) and <q, mu> (IP distances, and the rounded walk's terms), by the float kernels of the
// codec's level: sum(q) is the dot product with a row of ones. Eight running sums written in
// plain C++ were vectorised by GCC for baseline x86-64 into a loop of shuffles (perf of
// single-query calls on a 12-row index: 12% of the call, run twice by a re-ranked walk).
void query_sums(const float* q, const std::vector<float>& mean, simd::PairFn dot, float& sum, float& with_mean) {
  thread_local std::vector<float> ones;
  if (ones.size() < mean.size()) ones.assign(mean.size(), 1.f);
  sum = dot(q, ones.data(), mean.size());
  with_mean = dot(q, mean.data(), mean.size());
}

// The grid a code's values are decoded on, from its stored float16 constants: the primary
// codes alone (residual_levels 0), x = mu + bias + delta·c, or both levels (residual_levels
// 2^B2 - 1), x = mu + (bias - delta/2) + (delta / (2^B2 - 1))·v.
struct Grid {
  float scale, offset;
};
Grid grid_of(const uint8_t* head, size_t constants_offset, float residual_levels, float unscale) {
  const lvq::StoredConstants c = lvq::stored_constants(head, constants_offset, unscale);
  if (residual_levels > 0.f) return Grid{c.delta / residual_levels, c.bias - 0.5f * c.delta};
  return Grid{c.delta, c.bias};
}

// Distances from one query to LVQ codes read through one View. Per-query terms are computed
// here once: the centred query for L2; sum(q) and <q, mu> for IP, where
//   <q, x> = <q, mu> + offset·sum(q) + scale·<q, v>.
class LvqDistance final : public QueryDistance {
 public:
  struct Layout {
    size_t dim, padded_dim, constants_offset, head_bytes, read_bytes;
    float residual_levels;      // 2^B2 - 1, 0 for one level
    bool constants_in_padding;  // the kernels read the constants' bytes as codes of padding dimensions
    float unscale;              // 2^-S for constants marked scaled
  };

  LvqDistance(const float* query, const std::vector<float>& mean, Metric metric, const Layout& layout,
              const lvq::KernelTable& k, lvq::Packing packing)
      : q_(layout.padded_dim, 0.f), metric_(metric), layout_(layout) {
    l2_ = k.l2[static_cast<int>(packing)];
    dot_ = k.dot[static_cast<int>(packing)];
    centre(query, mean, metric, q_.data());
    if (metric != Metric::L2) query_sums(query, mean, simd::kernels_for(k.level)->dot, q_sum_, q_mu_);
    pad_ = static_cast<float>(layout.padded_dim - layout.dim);
  }

  float one(const uint8_t* code) const override { return one_split(code, code + layout_.head_bytes); }
  size_t code_bytes() const override { return layout_.read_bytes; }

  float one_split(const uint8_t* head, const uint8_t* tail) const override {
    const Grid g = grid_of(head, layout_.constants_offset, layout_.residual_levels, layout_.unscale);
    const float scale = g.scale, offset = g.offset;
    if (metric_ == Metric::L2) {
      const float d = l2_(q_.data(), head, tail, layout_.padded_dim, scale, offset) - padding_term(head, scale, offset);
      return std::max(d, 0.f);
    }
    return 1.f - (q_mu_ + offset * q_sum_ + scale * dot_(q_.data(), head, tail, layout_.padded_dim));
  }

  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    simd::prefetching_batch(codes, n, layout_.read_bytes, out, [this](const uint8_t* c) { return one(c); });
  }

  // What padding dimensions (q = 0) added to the L2 kernel's sum: (offset + scale·v)^2 each,
  // where v is 0 except at the constants' bytes when they live in the padding. Their v is
  // the byte read as a primary code (times 2^B2 - 1 in the two-level view, whose residual
  // padding is 0).
  float padding_term(const uint8_t* head, float scale, float offset) const {
    float term = pad_ * offset * offset;
    if (!layout_.constants_in_padding) return term;
    // Each such byte c added (offset + step·c)^2 - offset^2 = 2·offset·step·c + step^2·c^2.
    const float step = layout_.residual_levels > 0.f ? scale * layout_.residual_levels : scale;
    const ConstantByteSums c = constant_byte_sums(head, layout_.constants_offset);
    return term + 2.f * offset * step * static_cast<float>(c.sum) + step * step * static_cast<float>(c.squares);
  }

  // No batch_bounded: an early-exit L2 kernel (checks every 128 dimensions) measured slower
  // than this one on fashion-mnist (LVQ codes are compact, the extra reductions cost more
  // than the bytes they skip), so the default (plain batch) applies.

 private:
  std::vector<float> q_;  // centred (L2) or plain (IP) query, zero-padded
  Metric metric_;
  Layout layout_;
  lvq::L2Fn l2_;
  lvq::DotFn dot_;
  float q_sum_ = 0.f;
  float q_mu_ = 0.f;
  float pad_ = 0.f;
};

// The walk's distance over primary codes in integer arithmetic, for walks whose candidates are
// re-scored: by both levels with the float query (two-level codecs), or by an HNSW's kept
// float32 vectors or a float32 build's exact distances (a one-level codec's walk distances are
// otherwise its results). The query is rounded to 8 bits, r_i = round(q_i / step) with
// step = max|q_i| / 127, and meets the codes in integer sums (<r, c>, sum c, sum c^2: lvq::U4TermsFn
// for 4-bit codes, U8TermsFn for 8-bit ones, a quarter to a half of the float kernel's
// instructions); each vector's grid (x_i = mu_i + offset + scale·c_i) is applied to those sums:
//   L2 (q centred):  |q - x|^2 = |q|^2 - 2·(offset·sum q + scale·step·<r, c>) + dim·offset^2
//                                + 2·offset·scale·sum c + scale^2·sum c^2
//   IP:              <q, x> = <q, mu> + offset·sum q + scale·step·<r, c>
// Rounding moves a query coordinate by at most step / 2: for 4-bit codes far less than their
// delta / 2 of (max - min) / 15, for 8-bit ones about as much as their (max - min) / 510.
class LvqRoundedDistance final : public QueryDistance {
 public:
  struct Layout {
    size_t padded_dim, constants_offset, read_bytes;
    int primary_bits;
    bool constants_in_padding;  // 8-bit codes: sum c and sum c^2 must leave out the constants' bytes
    float unscale;              // 2^-S for constants marked scaled
  };

  LvqRoundedDistance(const float* query, const std::vector<float>& mean, Metric metric, const Layout& layout,
                     const lvq::KernelTable& k)
      : metric_(metric),
        layout_(layout),
        blocks_(layout.padded_dim / lvq::kBlockDims),
        u4_terms_(metric == Metric::L2 ? k.u4_terms : k.u4_dot),
        u4_batch_(metric == Metric::L2 ? k.u4_terms_batch : k.u4_dot_batch),
        u8_terms_(metric == Metric::L2 ? k.u8_terms : k.u8_dot),
        distances_(k.rounded_distances) {
    // Every loop here is plain or laned so that it vectorises: this runs once per search, and
    // scalar chains (or std::nearbyint, a library call on baseline x86-64) cost microseconds.
    const size_t dim = mean.size();
    thread_local std::vector<float> q;
    q.resize(dim);
    centre(query, mean, metric, q.data());
    float sum, with_mean;
    query_sums(metric == Metric::L2 ? q.data() : query, mean, simd::kernels_for(k.level)->dot, sum, with_mean);
    terms_.q_sum = sum;
    terms_.q_mu = with_mean;
    terms_.q_norm = metric == Metric::L2 ? simd::kernels_for(k.level)->dot(q.data(), q.data(), dim) : 0.0;
    terms_.dim = static_cast<double>(dim);
    terms_.constants_offset = layout.constants_offset;
    terms_.unscale = layout.unscale;
    terms_.l2 = metric == Metric::L2;
    float largest[8] = {};
    size_t i = 0;
    for (; i + 8 <= dim; i += 8)
      for (size_t l = 0; l < 8; ++l) largest[l] = std::max(largest[l], std::fabs(q[i + l]));
    for (; i < dim; ++i) largest[0] = std::max(largest[0], std::fabs(q[i]));
    const float top = *std::max_element(largest, largest + 8);
    // At least the smallest normal float: a subnormal step (a query of values below ~1e-36)
    // would make its inverse infinite, and the cast below undefined.
    const float step = top > 0.f ? std::max(top / 127.f, std::numeric_limits<float>::min()) : 1.f;
    terms_.step = step;
    // |q_i| * inverse is within 127 up to a rounding error far below 0.5, so t + 128.5 lies in
    // (1, 256): positive, where the truncating cast floors it, and the result in [-127, 127].
    const float inverse = 1.f / step;
    rounded_.assign(layout.padded_dim, 0);
    const float* from = q.data();
    int8_t* to = rounded_.data();
    for (size_t j = 0; j < dim; ++j)
      to[j] = static_cast<int8_t>(static_cast<int>(from[j] * inverse + 128.5f) - 128);  // nearest, halves up
    if (layout.primary_bits == 4) {
      thread_local std::vector<int8_t> arranged;
      arranged.resize(layout.padded_dim);
      lvq::arrange_u4_query(rounded_.data(), blocks_, arranged.data());
      rounded_.swap(arranged);
    }
  }

  size_t code_bytes() const override { return layout_.read_bytes; }
  float one(const uint8_t* code) const override {
    if (layout_.primary_bits == 4) {
      const lvq::U4Terms t = u4_terms_(rounded_.data(), code, blocks_);
      return from_sums(code, t.dot, t.sum, t.squares);
    }
    const lvq::U8Terms t = u8_terms_(rounded_.data(), code, blocks_);
    double t_sum = 0, t_squares = 0;
    if (metric_ == Metric::L2) {
      int64_t sum = t.sum, squares = t.squares;
      if (layout_.constants_in_padding) {  // the constants' bytes were summed as padding codes
        const ConstantByteSums c = constant_byte_sums(code, layout_.constants_offset);
        sum -= c.sum;
        squares -= c.squares;
      }
      t_sum = static_cast<double>(sum), t_squares = static_cast<double>(squares);
    }
    return from_sums(code, static_cast<double>(t.dot), t_sum, t_squares);
  }

  // 4-bit codes: the gather's integer sums in one call through the table, then each distance
  // as one() computes it (the same floats), in a loop of its own. Before, an indirect call per
  // candidate was followed by its arithmetic (perf of a wordnet-minilm lvq4x4 walk: ~10% of
  // the samples there). Saved wordnet lvq4x4 graph at ef 24 (graph.md section 31): 2.60x ->
  // 2.70x hnswlib single-thread (medians of four processes), 2-thread batch 76.6k -> 80.6k QPS
  // (six alternations, every one above); fashion-mnist lvq4x4 (L2) level.
  void batch(const uint8_t* const* codes, size_t n, float* out) const override {
    if (layout_.primary_bits != 4) {
      simd::prefetching_batch(codes, n, layout_.read_bytes, out, [this](const uint8_t* c) { return one(c); });
      return;
    }
    thread_local std::vector<lvq::U4Terms> terms;
    if (terms.size() < n) terms.resize(n);
    u4_batch_(rounded_.data(), codes, n, blocks_, layout_.read_bytes, terms.data());
    if (distances_) return distances_(terms_, codes, terms.data(), n, out);
    for (size_t i = 0; i < n; ++i) out[i] = from_sums(codes[i], terms[i].dot, terms[i].sum, terms[i].squares);
  }

 private:
  // The distance to the vector of `code` from the integer sums of its primary codes.
  float from_sums(const uint8_t* code, double t_dot, double t_sum, double t_squares) const {
    return lvq::rounded_distance(terms_, code, t_dot, t_sum, t_squares);
  }

  Metric metric_;
  Layout layout_;
  size_t blocks_;
  lvq::U4TermsFn u4_terms_;
  lvq::U4TermsBatchFn u4_batch_;
  lvq::U8TermsFn u8_terms_;
  // The rounded query: in dimension order (8-bit codes), or in arrange_u4_query's layout.
  std::vector<int8_t> rounded_;
  lvq::RoundedDistancesFn distances_;  // null: from_sums a code at a time
  lvq::RoundedQueryTerms terms_;
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
  set_layout(fits_in_padding(dim, padded_dim_, primary_bits));
  residual_bytes_ = code_bytes(padded_dim_, residual_bits);
  primary_view_ = View{packing_of(primary_bits, 0), false};
  precise_view_ = View{packing_of(primary_bits, residual_bits), residual_bits > 0};
}

void LvqCodec::set_layout(bool constants_in_padding) {
  constants_in_padding_ = constants_in_padding;
  const size_t primary = code_bytes(padded_dim_, primary_bits_);
  constants_offset_ = constants_in_padding ? dim() : primary;
  residual_offset_ = constants_in_padding ? primary : primary + kConstantBytes;
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
  exponent_ = choose_exponent(x, n);
  trained_ = true;
}

// 0 unless the training rows' median step (range / (2^B1 - 1), centred) is below 2^-12: a step
// below 2^-14, float16's smallest normal, is stored as 2^-14, a coarser grid than the vector's,
// and a quarter of the median leaves room for the rows below it. (Unit vectors of 4096
// dimensions take steps of about 2^-11 in LVQ-8.) Else the S that brings the median step to
// about 2^-4, far from both ends of float16's range. Up to 4096 rows, spread evenly.
int LvqCodec::choose_exponent(const float* x, size_t n) const {
  const size_t rows = std::min<size_t>(n, 4096);
  std::vector<float> steps(rows);
  for (size_t k = 0; k < rows; ++k) {
    const float* row = x + (k * n / rows) * dim();
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < dim(); ++i) {
      lo = std::min(lo, row[i] - mean_[i]);
      hi = std::max(hi, row[i] - mean_[i]);
    }
    steps[k] = (hi - lo) / static_cast<float>((1u << primary_bits_) - 1);
  }
  std::nth_element(steps.begin(), steps.begin() + static_cast<std::ptrdiff_t>(rows / 2), steps.end());
  const float median = steps[rows / 2];
  if (!(median > 0.f) || median >= std::ldexp(1.f, -12)) return 0;  // constant rows have nothing to scale
  const int wanted = static_cast<int>(std::lround(std::log2(std::ldexp(1.0, -4) / median)));
  return std::clamp(wanted, 1, lvq::kMaxScaleExponent);
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
  // delta: the smallest normal float16 keeps it representable at full precision. With an
  // exponent S the constants are those of the vector times 2^S, marked, unless that overflows.
  const uint32_t max_primary = (1u << primary_bits_) - 1;
  const float up = std::ldexp(1.f, exponent_);
  const bool scaled = exponent_ > 0 && std::fabs(lo) * up <= f16::kMax / 2 && std::fabs(hi) * up <= f16::kMax / 2;
  const float factor = scaled ? up : 1.f, unscale = scaled ? std::ldexp(1.f, -exponent_) : 1.f;
  const uint16_t bias_h = f16::round_down(lo * factor);
  const float bias_scaled = f16::to_float(bias_h);
  const float wanted_delta = std::max((hi * factor - bias_scaled) / static_cast<float>(max_primary), f16::kMinNormal);
  const uint16_t delta_h = f16::round_up(wanted_delta);
  const float delta = f16::to_float(delta_h) * unscale, bias = bias_scaled * unscale;  // powers of two: exact
  store_u16(code + constants_offset_, scaled ? static_cast<uint16_t>(delta_h | lvq::kScaledMark) : delta_h);
  store_u16(code + constants_offset_ + 2, bias_h);

  const uint32_t max_residual = (1u << residual_bits_) - 1;
  const float step = residual_bits_ ? delta / static_cast<float>(max_residual) : 0.f;
  std::vector<float> codes(residual_bits_ ? 0 : dim());  // what store_fitted_grid fits
  for (size_t i = 0; i < dim(); ++i) {
    const uint32_t c = quantize((centred[i] - bias) / delta, max_primary);
    put_code(code, primary_bits_, i, c);
    if (!residual_bits_) codes[i] = static_cast<float>(c);
    if (residual_bits_) {
      // What the primary missed, shifted by delta/2 into [0, delta].
      const float missed = centred[i] - (bias + delta * static_cast<float>(c));
      put_code(code + residual_offset_, residual_bits_, i, quantize((missed + 0.5f * delta) / step, max_residual));
    }
  }
  if (!residual_bits_) store_fitted_grid(x, centred.data(), codes.data(), delta, bias, scaled, code);
}

// One-level codes keep their codes c and store a grid fitted to them, in place of the one they
// were made on (a residual level, where there is one, covers exactly what that grid misses, and
// the re-rank reads both: two-level codes keep it).
// - Rows of unit norm under ip (cosine stores them so): rounding lengthens the reconstruction
//   (by about dim·delta²/12), and with data far from the origin every score moves with its
//   length, more than the few 1e-3 that separate neighbours. The grid is scaled so that the
//   reconstruction has the row's norm; the bias is then rounded to float16 and the step solved
//   again around it (a rounded bias shifts every coordinate one way: 60% of lvq8's error in
//   128-d data offset by 3), rounded the way that keeps the norm better. Of the two grids with
//   that norm, the one nearer the grid made on (the other mirrors the row: a review found 262 of
//   3,000 3-d rows stored so before the nearer root was taken).
// - Otherwise both constants are scaled by t = <r, r̂> / <r̂, r̂>, the least-squares factor of the
//   reconstruction r̂ = bias + delta·c of the centred row r: rounding noise is taken back, more
//   from rows rounded coarser.
// The fitted grid replaces the one made on only where, with its constants rounded to float16, it
// keeps the row's squared error within kFittedErrorGrowth times (least squares: within 1x): rows
// whose codes all but pin the grid (near-constant rows, nearly the mean) keep it.
// Flat recall@10 (graph.md section 44): glove-50 (cosine) lvq4 0.8528 -> 0.8934, wordnet-minilm
// 0.9456 -> 0.9542; 33-d Gaussians offset by 3 (cosine) 0.5853 -> 0.8033 (lvq8 0.9677 -> 0.9780);
// fashion-mnist (l2) 0.9524 -> 0.9534, a 33-d Gaussian under l2 / ip 0.8644 -> 0.8710 / 0.8530 -> 0.8656.
void LvqCodec::store_fitted_grid(const float* x, const float* centred, const float* codes, float delta, float bias,
                                 bool scaled, uint8_t* code) const {
  const double factor = scaled ? std::ldexp(1.0, exponent_) : 1.0;  // stored constants are the true ones times this
  double along = 0, energy = 0, norm = 0, mean_along = 0, mean_energy = 0;
  for (size_t i = 0; i < dim(); ++i) {
    const double rebuilt = double(bias) + double(delta) * codes[i];
    along += double(centred[i]) * rebuilt;
    energy += rebuilt * rebuilt;
    norm += double(x[i]) * x[i];
    mean_along += double(mean_[i]) * rebuilt;
    mean_energy += double(mean_[i]) * mean_[i];
  }
  if (!(energy > 0) || !(along > 0)) return;  // r = 0 (the mean itself): keep the grid
  // The squared error of the grid (step, offset) in true units, as it decodes (float16 constants).
  auto error_of = [&](uint16_t step_stored, uint16_t offset_stored) {
    const double step = double(f16::to_float(step_stored)) / factor, offset = double(f16::to_float(offset_stored)) / factor;
    double e = 0;
    for (size_t i = 0; i < dim(); ++i) {
      const double d = double(centred[i]) - (offset + step * codes[i]);
      e += d * d;
    }
    return e;
  };
  const double made_error = error_of(f16::from_float(static_cast<float>(delta * factor)),
                                     f16::from_float(static_cast<float>(bias * factor)));
  // Constants past float16's range, or a step below its normals (few of its bits kept), keep the
  // grid made on (the fitted scale is near 1: only extremes come near either).
  auto representable = [&](double delta_stored, double bias_stored) {
    return std::isfinite(delta_stored) && std::isfinite(bias_stored) && delta_stored >= f16::kMinNormal &&
           std::fabs(bias_stored) <= f16::kMax / 2;
  };
  auto store_if_kept = [&](uint16_t delta_stored, uint16_t bias_stored, double allowed_growth) {
    if (!representable(f16::to_float(delta_stored), f16::to_float(bias_stored))) return;
    if (error_of(delta_stored, bias_stored) > allowed_growth * made_error + 1e-30) return;
    store_u16(code + constants_offset_, scaled ? static_cast<uint16_t>(delta_stored | lvq::kScaledMark) : delta_stored);
    store_u16(code + constants_offset_ + 2, bias_stored);
  };
  if (metric() == Metric::L2 || std::fabs(norm - 1.0) > 1e-3) {
    const double t = along / energy;
    if (!representable(t * delta * factor, t * bias * factor)) return;
    store_if_kept(f16::from_float(static_cast<float>(t * delta * factor)),
                  f16::from_float(static_cast<float>(t * bias * factor)), 1.0);
    return;
  }
  // The root of a·t² + 2b·t + c = 0 nearest `near` (NaN where there is none).
  auto root_near = [](double a, double b, double c, double near) {
    const double disc = b * b - a * c;
    if (disc < 0) return std::nan("");
    const double r = std::sqrt(disc);
    const double one = (-b + r) / a, other = (-b - r) / a;
    return std::fabs(one - near) <= std::fabs(other - near) ? one : other;
  };
  // |mu + t·r̂|² = |x|²: t²·energy + 2t·<mu, r̂> + |mu|² - |x|² = 0, the root nearest 1.
  const double t = root_near(energy, mean_along, mean_energy - norm, 1.0);
  if (!(t > 0) || !representable(t * delta * factor, t * bias * factor)) return;
  const uint16_t bias_stored = f16::from_float(static_cast<float>(t * bias * factor));
  const double fitted_bias = double(f16::to_float(bias_stored)) / factor;
  // The step that keeps the norm around the rounded bias: v = mu + bias, |v + d·c|² = |x|².
  double vc = 0, vv = 0, cc = 0;
  for (size_t i = 0; i < dim(); ++i) {
    const double v = double(mean_[i]) + fitted_bias;
    vc += v * codes[i];
    vv += v * v;
    cc += double(codes[i]) * codes[i];
  }
  if (!(cc > 0)) return;
  const double step = root_near(cc, vc, vv - norm, t * delta);
  if (!(step > 0)) return;
  auto norm_error = [&](uint16_t h) {
    const double d = double(f16::to_float(h)) / factor;
    return std::fabs(vv + 2 * d * vc + d * d * cc - norm);
  };
  const uint16_t down = f16::round_down(static_cast<float>(step * factor));
  const uint16_t up = f16::round_up(static_cast<float>(step * factor));
  store_if_kept(norm_error(down) <= norm_error(up) ? down : up, bias_stored, kFittedErrorGrowth);
}

float LvqCodec::delta(const uint8_t* code) const {
  return lvq::stored_constants(code, constants_offset_, unscale()).delta;
}
float LvqCodec::bias(const uint8_t* code) const { return lvq::stored_constants(code, constants_offset_, unscale()).bias; }

void LvqCodec::decode_view(const uint8_t* head, const uint8_t* tail, View view, bool add_mean, float* x) const {
  thread_local std::vector<float> padded;
  padded.resize(padded_dim_);
  const float residual_levels = view.two_level ? static_cast<float>((1u << residual_bits_) - 1) : 0.f;
  const Grid g = grid_of(head, constants_offset_, residual_levels, unscale());
  kernels_->decode[static_cast<int>(view.packing)](head, tail, padded_dim_, g.scale, g.offset, padded.data());
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
                                   view.two_level ? static_cast<float>((1u << residual_bits_) - 1) : 0.f,
                                   constants_in_padding_, unscale()};
  return std::make_unique<LvqDistance>(query, mean_, metric(), layout, *kernels_, view.packing);
}

std::unique_ptr<QueryDistance> LvqCodec::prepare(const float* query) const {
  // A two-level codec re-scores its walk's candidates with both levels: the walk may round.
  return residual_bits_ > 0 ? prepare_reranked_walk(query) : prepare_view(query, primary_view_);
}

std::unique_ptr<QueryDistance> LvqCodec::prepare_reranked_walk(const float* query) const {
  // 8-bit codes past what the integer lanes sum exactly walk with the float kernels.
  if (primary_bits_ == 8 && padded_dim_ / lvq::kBlockDims > lvq::kU8MaxBlocks) return prepare_view(query, primary_view_);
  const LvqRoundedDistance::Layout layout{padded_dim_, constants_offset_, head_size(), primary_bits_,
                                          constants_in_padding_, unscale()};
  return std::make_unique<LvqRoundedDistance>(query, mean_, metric(), layout, *kernels_);
}

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
  return simd::kernels().distance(l2, xa.data(), xb.data(), dim());
}

// The first byte is the layout plus trained: 2 + trained for [primary | constants | residual],
// 4 + trained for constants inside the primary codes' padding (lvq.hpp). Files of the first
// LVQ layout ([primary | residual | constants], byte 0 or 1) are refused rather than misread;
// files of layout 2 load as they were written.
// Plus 8 when the exponent S follows as one byte (codecs with S = 0 write what they wrote
// before it existed, and earlier readers refuse the files of the others as an unknown layout).
void LvqCodec::save_parameters(io::ByteWriter& out) const {
  out.u8(static_cast<uint8_t>((constants_in_padding_ ? 4 : 2) + (trained_ ? 1 : 0) + (exponent_ ? 8 : 0)));
  if (exponent_) out.u8(static_cast<uint8_t>(exponent_));
  for (float m : mean_) out.f32(m);
}

void LvqCodec::load_parameters(io::ByteReader& in) {
  const uint8_t stored = in.u8();
  const uint8_t flag = stored & static_cast<uint8_t>(~8u);
  if (flag < 2) throw FileFormatError(in.what() + ": LVQ codes in an older layout; rebuild the index");
  if (flag > 5) throw FileFormatError(in.what() + ": unknown LVQ code layout " + std::to_string(stored));
  const int exponent = (stored & 8) ? in.u8() : 0;
  if ((stored & 8) && (exponent < 1 || exponent > lvq::kMaxScaleExponent))
    throw FileFormatError(in.what() + ": LVQ scale exponent " + std::to_string(exponent) + " is out of range");
  const bool in_padding = flag >= 4;
  if (in_padding && !fits_in_padding(dim(), padded_dim_, primary_bits_))
    throw FileFormatError(in.what() + ": LVQ constants stored in padding these codes do not have");
  const uint8_t trained = flag & 1;
  // The mean of vectors LVQ can store lies within float16's range (their constants are float16);
  // a larger one is corrupt, and would overflow a query centred on it.
  for (float& m : mean_) {
    m = in.f32();
    if (!(std::fabs(m) <= f16::kMax)) throw FileFormatError(in.what() + ": LVQ mean is not finite or out of range");
  }
  in.expect_end();
  set_layout(in_padding);
  exponent_ = exponent;
  trained_ = trained == 1;
}

}  // namespace vidx
