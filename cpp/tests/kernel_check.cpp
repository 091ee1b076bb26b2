// Runs every kernel of every SIMD level this CPU and build run against the scalar level and
// against a float64 reference written here independently of the kernel loops, on random data
// over many dimensions (odd ones and tails included). Prints one line per level and exits
// non-zero on the first family that disagrees. Built and run by tests/neon_check.sh (natively
// for the x86 levels, under qemu-aarch64 for NEON).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/float16.hpp"
#include "vidx/codec/lvq_kernels.hpp"
#include "vidx/codec/split_f32_kernels.hpp"
#include "vidx/simd/cpu_features.hpp"
#include "vidx/simd/kernels.hpp"

namespace {

using namespace vidx;

struct Checker {
  std::string level;
  size_t checks = 0, failures = 0;

  // |got - want| within rel·scale, where scale bounds the magnitude of the summed terms.
  void near(const char* what, size_t dim, double got, double want, double scale, double rel = 2e-5) {
    ++checks;
    if (std::fabs(got - want) <= rel * scale + 1e-30) return;
    if (++failures <= 10)
      std::printf("MISMATCH level=%s %s dim=%zu got=%.9g want=%.9g (scale %.3g)\n", level.c_str(), what, dim, got,
                  want, scale);
  }
  void same(const char* what, size_t dim, double got, double want) { near(what, dim, got, want, 0.0, 0.0); }
};

std::mt19937 rng(12345);

std::vector<float> gaussian(size_t n) {
  std::normal_distribution<float> g;
  std::vector<float> v(n);
  for (float& x : v) x = g(rng);
  return v;
}

const size_t kDims[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 100, 127,
                        128, 129, 200, 255, 256, 257, 300, 384, 511, 512, 768, 784, 960, 1023};

// ---- float32 ---------------------------------------------------------------------------------

void check_f32(Checker& c, const simd::KernelTable& t, const simd::KernelTable& scalar) {
  constexpr size_t kVectors = 9;
  for (size_t dim : kDims) {
    const std::vector<float> q = gaussian(dim), x = gaussian(dim * kVectors);
    std::vector<const float*> rows(kVectors);
    for (size_t i = 0; i < kVectors; ++i) rows[i] = x.data() + i * dim;
    std::vector<float> l2(kVectors), ip(kVectors), bounded(kVectors), unbounded(kVectors);
    t.l2sq_batch(q.data(), rows.data(), kVectors, dim, l2.data());
    t.dot_batch(q.data(), rows.data(), kVectors, dim, ip.data());
    t.l2sq_batch_bounded(q.data(), rows.data(), kVectors, dim, std::numeric_limits<float>::infinity(), nullptr,
                         unbounded.data());
    double bound = 0;
    for (size_t i = 0; i < kVectors; ++i) {
      double want_l2 = 0, want_ip = 0, abs_ip = 0;
      for (size_t d = 0; d < dim; ++d) {
        const double a = q[d], b = rows[i][d];
        want_l2 += (a - b) * (a - b);
        want_ip += a * b;
        abs_ip += std::fabs(a * b);
      }
      bound += want_l2 / kVectors;
      c.near("l2sq", dim, t.l2sq(q.data(), rows[i], dim), want_l2, want_l2);
      c.near("dot", dim, t.dot(q.data(), rows[i], dim), want_ip, abs_ip);
      c.near("l2sq~scalar", dim, t.l2sq(q.data(), rows[i], dim), scalar.l2sq(q.data(), rows[i], dim), want_l2);
      c.near("dot~scalar", dim, t.dot(q.data(), rows[i], dim), scalar.dot(q.data(), rows[i], dim), abs_ip);
      c.same("l2sq_batch", dim, l2[i], t.l2sq(q.data(), rows[i], dim));
      c.same("dot_batch", dim, ip[i], t.dot(q.data(), rows[i], dim));
      c.same("l2sq_batch_bounded(inf)", dim, unbounded[i], l2[i]);
    }
    // With the mean distance as bound: exact below it, at least the bound above it.
    t.l2sq_batch_bounded(q.data(), rows.data(), kVectors, dim, static_cast<float>(bound), nullptr, bounded.data());
    for (size_t i = 0; i < kVectors; ++i) {
      if (l2[i] < bound) c.same("l2sq_batch_bounded(below)", dim, bounded[i], l2[i]);
      else c.near("l2sq_batch_bounded(above)", dim, bounded[i] >= bound ? 1 : 0, 1, 0, 0);
    }
    // Scaled checks: scales of 1 check against the bound itself; scales near 0 abandon every
    // vector at its first check (where the vector has a whole block before its end), reporting
    // at least the bound.
    const std::vector<float> ones(dim / simd::kBoundCheckDims + 1, 1.f), tiny(ones.size(), 1e-6f);
    std::vector<float> scaled(kVectors);
    t.l2sq_batch_bounded(q.data(), rows.data(), kVectors, dim, static_cast<float>(bound), ones.data(), scaled.data());
    // Below the bound both are the distance bit for bit; above it both report at least the
    // bound, though not the same partial sum (an ISA may look at the bound less often without
    // scales: IsaShape::kBoundBlocks).
    for (size_t i = 0; i < kVectors; ++i) {
      if (bounded[i] < bound) c.same("l2sq_batch_bounded(scales 1)", dim, scaled[i], bounded[i]);
      else c.near("l2sq_batch_bounded(scales 1, above)", dim, scaled[i] >= bound ? 1 : 0, 1, 0, 0);
    }
    t.l2sq_batch_bounded(q.data(), rows.data(), kVectors, dim, static_cast<float>(bound), tiny.data(), scaled.data());
    for (size_t i = 0; i < kVectors; ++i) {
      const bool checked = dim >= simd::kBoundCheckDims;
      const bool abandoned = scaled[i] >= static_cast<float>(bound) && (l2[i] >= bound || scaled[i] != l2[i]);
      const bool as_expected = checked ? abandoned : scaled[i] == bounded[i];
      c.near("l2sq_batch_bounded(scales ~0)", dim, as_expected ? 1 : 0, 1, 0, 0);
    }
  }
}

// k-means' panels: estimates against a float64 reference (and the scalar level's), the least
// of them, and the indices not above a threshold, over column counts that leave panels part
// empty and a NaN estimate that must count as not above.
void check_panels(Checker& c, const simd::KernelTable& t, const simd::KernelTable& scalar) {
  constexpr size_t R = simd::kPanelRows, W = simd::kPanelWidth;
  for (size_t dim : kDims) {
    for (size_t columns : {size_t{1}, size_t{31}, size_t{70}}) {
      const size_t n_panels = (columns + W - 1) / W, padded = n_panels * W;
      const std::vector<float> rows_data = gaussian(R * dim), cols = gaussian(columns * dim);
      std::vector<float> panels(padded * dim, 0.f), offsets(padded, std::numeric_limits<float>::infinity());
      for (size_t k = 0; k < columns; ++k) {
        offsets[k] = static_cast<float>(k % 5);
        for (size_t j = 0; j < dim; ++j) panels[(k / W) * dim * W + j * W + k % W] = cols[k * dim + j];
      }
      const float* rows[R];
      for (size_t r = 0; r < R; ++r) rows[r] = rows_data.data() + r * dim;
      std::vector<float> out(R * padded), out_scalar(R * padded);
      float least[R], least_scalar[R];
      for (size_t r = 0; r < R; ++r) least[r] = least_scalar[r] = 1e30f;
      t.panel_distances(rows, panels.data(), offsets.data(), n_panels, dim, out.data(), padded, least);
      scalar.panel_distances(rows, panels.data(), offsets.data(), n_panels, dim, out_scalar.data(), padded,
                             least_scalar);
      for (size_t r = 0; r < R; ++r) {
        double want_least = 1e30;
        for (size_t k = 0; k < columns; ++k) {
          double dot = 0, scale = 0;
          for (size_t j = 0; j < dim; ++j) {
            dot += static_cast<double>(rows[r][j]) * cols[k * dim + j];
            scale += std::fabs(static_cast<double>(rows[r][j]) * cols[k * dim + j]);
          }
          const double want = offsets[k] - 2 * dot;
          c.near("panel_distances", dim, out[r * padded + k], want, 2 * scale + offsets[k]);
          c.near("panel_distances~scalar", dim, out[r * padded + k], out_scalar[r * padded + k], 2 * scale + offsets[k]);
          want_least = std::min<double>(want_least, out[r * padded + k]);
        }
        c.same("panel_distances least", dim, least[r], want_least);
      }
      // not_above over row 0, with one estimate made NaN.
      std::vector<float> v(out.begin(), out.begin() + padded);
      v[columns / 2] = std::numeric_limits<float>::quiet_NaN();
      const float threshold = v[0];
      std::vector<uint32_t> got(padded);
      const size_t found = t.not_above(v.data(), padded, threshold, got.data());
      std::vector<uint32_t> want;
      for (size_t k = 0; k < padded; ++k)
        if (!(v[k] > threshold)) want.push_back(static_cast<uint32_t>(k));
      bool same = found == want.size();
      for (size_t i = 0; same && i < found; ++i) same = got[i] == want[i];
      c.near("not_above", dim, same ? 1 : 0, 1, 0, 0);
    }
  }
}

// ---- float16 ---------------------------------------------------------------------------------

std::vector<uint16_t> halves(const std::vector<float>& v) {
  std::vector<uint16_t> h(v.size());
  for (size_t i = 0; i < v.size(); ++i) h[i] = f16::from_float(v[i]);
  return h;
}

// float64 sums of a query q against the values x_d of one code, and of that code against
// another's values y_d: what a kernel over codes converted to floats should return.
struct ReferenceSums {
  double l2 = 0, ip = 0, abs_ip = 0, l2_pair = 0, ip_pair = 0, abs_pair = 0;

  template <class X, class Y>
  ReferenceSums(const std::vector<float>& q, X x_of, Y y_of) {
    for (size_t d = 0; d < q.size(); ++d) {
      const double x = x_of(d), y = y_of(d);
      l2 += (q[d] - x) * (q[d] - x);
      ip += q[d] * x;
      abs_ip += std::fabs(q[d] * x);
      l2_pair += (x - y) * (x - y);
      ip_pair += x * y;
      abs_pair += std::fabs(x * y);
    }
  }
};

// The kernels a table of codes converted to floats has (float16, split float32's upper halves):
// against the float64 reference, against the scalar level, and the bounded batch's rules.
template <class Table, class Element>
void check_converted(Checker& c, const std::string& family, const Table& t, const Table& scalar,
                     const std::vector<float>& q, const Element* a, const Element* b, const ReferenceSums& ref) {
  const size_t dim = q.size();
  const auto what = [&](const char* kernel) { return family + " " + kernel; };
  c.near(what("l2").c_str(), dim, t.l2(q.data(), a, dim), ref.l2, ref.l2);
  c.near(what("dot").c_str(), dim, t.dot(q.data(), a, dim), ref.ip, ref.abs_ip);
  c.near(what("l2_pair").c_str(), dim, t.l2_pair(a, b, dim), ref.l2_pair, ref.l2_pair);
  c.near(what("dot_pair").c_str(), dim, t.dot_pair(a, b, dim), ref.ip_pair, ref.abs_pair);
  c.near(what("l2~scalar").c_str(), dim, t.l2(q.data(), a, dim), scalar.l2(q.data(), a, dim), ref.l2);
  c.near(what("dot~scalar").c_str(), dim, t.dot(q.data(), a, dim), scalar.dot(q.data(), a, dim), ref.abs_ip);
  const float exact = t.l2(q.data(), a, dim);
  const auto bounded = [&](float bound) {
    float out;
    t.l2_batch_bounded(q.data(), &a, 1, dim, bound, nullptr, &out);
    return out;
  };
  c.same(what("l2_bounded(inf)").c_str(), dim, bounded(std::numeric_limits<float>::infinity()), exact);
  c.same(what("l2_bounded(above)").c_str(), dim, bounded(exact * 1.001f + 1e-6f), exact);
  c.near(what("l2_bounded(below)").c_str(), dim, bounded(exact * 0.5f) >= exact * 0.5f ? 1 : 0, 1, 0, 0);
}

void check_f16(Checker& c, const f16k::KernelTable& t, const f16k::KernelTable& scalar) {
  for (size_t dim : kDims) {
    const std::vector<float> q = gaussian(dim);
    const std::vector<uint16_t> a = halves(gaussian(dim)), b = halves(gaussian(dim));
    const ReferenceSums ref(
        q, [&](size_t d) { return f16::to_float(a[d]); }, [&](size_t d) { return f16::to_float(b[d]); });
    check_converted(c, "f16", t, scalar, q, a.data(), b.data(), ref);
  }
}

// ---- split float32 ---------------------------------------------------------------------------

// The halves of v's values, as the "f32_split" codec stores them.
void split_halves(const std::vector<float>& v, std::vector<split::UpperHalf>& upper, std::vector<uint16_t>& lower) {
  upper.resize(v.size());
  lower.resize(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const uint32_t bits = f16::bits_of(v[i]);
    upper[i].bits = static_cast<uint16_t>(bits >> 16);
    lower[i] = static_cast<uint16_t>(bits);
  }
}

// The rounded query's kernels (AVX512-BF16): the products are the scalar level's against the
// rounded query's values, so the sums agree to rounding; a batch gives each row the single
// kernel's result bit for bit.
void check_split_rounded(Checker& c, const split::KernelTable& t, const split::KernelTable& scalar,
                         const std::vector<float>& q, const split::UpperHalf* const* rows, size_t dim) {
  std::vector<split::UpperHalf> rounded(dim);
  std::vector<float> rounded_values(dim);
  for (size_t d = 0; d < dim; ++d) {
    rounded[d] = split::round_to_upper(q[d]);
    rounded_values[d] = split::upper_value(rounded[d]);
    c.near("round_to_upper", dim, rounded_values[d], q[d], std::fabs(q[d]), 1.0 / 256);
  }
  float dots[3];
  t.dot_batch_rounded(rounded.data(), rows, 3, dim, dots);
  for (size_t i = 0; i < 3; ++i) {
    double abs_ip = 0;
    for (size_t d = 0; d < dim; ++d) abs_ip += std::fabs(rounded_values[d] * split::upper_value(rows[i][d]));
    const float single = t.dot_rounded(rounded.data(), rows[i], dim);
    c.same("split dot_batch_rounded", dim, dots[i], single);
    c.near("split dot_rounded~scalar", dim, single, scalar.dot(rounded_values.data(), rows[i], dim), abs_ip);
  }
}

void check_split(Checker& c, const split::KernelTable& t, const split::KernelTable& scalar,
                 const simd::KernelTable& f32) {
  for (size_t dim : kDims) {
    const std::vector<float> q = gaussian(dim), va = gaussian(dim), vb = gaussian(dim);
    std::vector<split::UpperHalf> a, b;
    std::vector<uint16_t> a_low, b_low;
    split_halves(va, a, a_low);
    split_halves(vb, b, b_low);
    for (size_t d = 0; d < dim; ++d)  // within a step of 2^-7
      c.near("split upper value", dim, split::upper_value(a[d]), va[d], std::fabs(va[d]), 1.0 / 128);
    const ReferenceSums ref(
        q, [&](size_t d) { return split::upper_value(a[d]); }, [&](size_t d) { return split::upper_value(b[d]); });
    check_converted(c, "split", t, scalar, q, a.data(), b.data(), ref);
    // Joined halves are the float32 values: the float32 kernels' results of this level, bit for bit.
    c.same("split l2_joined", dim, t.l2_joined(q.data(), a.data(), a_low.data(), dim),
           f32.l2sq(q.data(), va.data(), dim));
    c.same("split dot_joined", dim, t.dot_joined(q.data(), a.data(), a_low.data(), dim),
           f32.dot(q.data(), va.data(), dim));
    // Three rows: batches score some side by side (kBatchGroup) and the rest one by one, and each
    // result is the single distance's bit for bit either way.
    const split::UpperHalf* rows[3] = {a.data(), b.data(), a.data()};
    float batch[3], dots[3];
    t.l2_batch(q.data(), rows, 3, dim, batch);
    t.dot_batch(q.data(), rows, 3, dim, dots);
    for (size_t i = 0; i < 3; ++i) {
      c.same("split l2_batch", dim, batch[i], t.l2(q.data(), rows[i], dim));
      c.same("split dot_batch", dim, dots[i], t.dot(q.data(), rows[i], dim));
    }
    if (t.dot_rounded) check_split_rounded(c, t, scalar, q, rows, dim);
  }
}

// ---- LVQ -------------------------------------------------------------------------------------

// Code value of dimension i, read per the layout in lvq_kernels.hpp.
uint32_t nibble(const std::vector<uint8_t>& codes, size_t i) {
  const uint8_t byte = codes[(i / 32) * 16 + i % 16];
  return i % 32 < 16 ? (byte & 0xfu) : (byte >> 4u);
}

double lvq_value(lvq::Packing p, const std::vector<uint8_t>& pri, const std::vector<uint8_t>& res, size_t i) {
  switch (p) {
    case lvq::Packing::U8: return pri[i];
    case lvq::Packing::U4: return nibble(pri, i);
    case lvq::Packing::U4U4: return 15.0 * nibble(pri, i) + nibble(res, i);
    case lvq::Packing::U4U8: return 255.0 * nibble(pri, i) + res[i];
    case lvq::Packing::U8U8: return 255.0 * pri[i] + res[i];
  }
  return 0;
}

void check_lvq(Checker& c, const lvq::KernelTable& t, const lvq::KernelTable& scalar) {
  std::uniform_int_distribution<int> byte(0, 255);
  for (size_t padded : {32, 64, 96, 128, 160, 384, 800, 1024}) {
    const std::vector<float> q = gaussian(padded);
    std::vector<uint8_t> pri(padded), res(padded);
    for (auto& b : pri) b = static_cast<uint8_t>(byte(rng));
    for (auto& b : res) b = static_cast<uint8_t>(byte(rng));
    std::vector<float> decoded(padded);
    for (int pk = 0; pk < lvq::kPackings; ++pk) {
      const auto p = static_cast<lvq::Packing>(pk);
      const double max_value = lvq_value(p, std::vector<uint8_t>(padded, 255), std::vector<uint8_t>(padded, 255), 0);
      const float scale = static_cast<float>(4.0 / max_value), offset = -2.f;
      double l2 = 0, ip = 0, abs_ip = 0;
      for (size_t i = 0; i < padded; ++i) {
        const double v = lvq_value(p, pri, res, i), x = offset + static_cast<double>(scale) * v;
        l2 += (q[i] - x) * (q[i] - x);
        ip += q[i] * v;
        abs_ip += std::fabs(q[i] * v);
      }
      c.near("lvq l2", padded, t.l2[pk](q.data(), pri.data(), res.data(), padded, scale, offset), l2, l2);
      c.near("lvq dot", padded, t.dot[pk](q.data(), pri.data(), res.data(), padded), ip, abs_ip);
      c.near("lvq l2~scalar", padded, t.l2[pk](q.data(), pri.data(), res.data(), padded, scale, offset),
             scalar.l2[pk](q.data(), pri.data(), res.data(), padded, scale, offset), l2);
      c.near("lvq dot~scalar", padded, t.dot[pk](q.data(), pri.data(), res.data(), padded),
             scalar.dot[pk](q.data(), pri.data(), res.data(), padded), abs_ip);
      t.decode[pk](pri.data(), res.data(), padded, scale, offset, decoded.data());
      for (size_t i = 0; i < padded; ++i)
        c.near("lvq decode", padded, decoded[i], offset + static_cast<double>(scale) * lvq_value(p, pri, res, i), 4.0, 1e-6);
    }
  }
  // Integer terms of 4-bit codes against an 8-bit query: exact, so equal to the reference.
  // Block counts cover whole query groups, short last groups and both together; the query's
  // extremes (+-127) and all-15 codes are the largest products.
  std::uniform_int_distribution<int> query_byte(-127, 127);
  for (size_t blocks : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 25, 33}) {
    const size_t padded = blocks * lvq::kBlockDims;
    for (int extreme = 0; extreme < 2; ++extreme) {
      std::vector<int8_t> r(padded), arranged(padded);
      std::vector<uint8_t> codes(padded / 2);
      for (auto& v : r) v = static_cast<int8_t>(extreme ? 127 : query_byte(rng));
      for (auto& b : codes) b = static_cast<uint8_t>(extreme ? 255 : byte(rng));
      lvq::arrange_u4_query(r.data(), blocks, arranged.data());
      int64_t dot = 0, sum = 0, squares = 0;
      for (size_t i = 0; i < padded; ++i) {
        const int64_t v = nibble(codes, i);
        dot += v * r[i];
        sum += v;
        squares += v * v;
      }
      const lvq::U4Terms got = t.u4_terms(arranged.data(), codes.data(), blocks);
      const lvq::U4Terms ref = scalar.u4_terms(arranged.data(), codes.data(), blocks);
      c.same("lvq u4 dot", padded, got.dot, static_cast<double>(dot));
      c.same("lvq u4 sum", padded, got.sum, static_cast<double>(sum));
      c.same("lvq u4 squares", padded, got.squares, static_cast<double>(squares));
      c.same("lvq u4 dot~scalar", padded, got.dot, ref.dot);
      const lvq::U4Terms dot_only = t.u4_dot(arranged.data(), codes.data(), blocks);
      c.same("lvq u4 dot alone", padded, dot_only.dot, static_cast<double>(dot));
      c.same("lvq u4 dot alone~scalar", padded, dot_only.dot, scalar.u4_dot(arranged.data(), codes.data(), blocks).dot);
    }
    // The batch kernels: each code's terms as the one-code kernel gives them, for gathers of 1 to
    // 19 codes (shorter and longer than the prefetch distance), codes at scattered addresses.
    std::vector<int8_t> r(padded), arranged(padded);
    for (auto& v : r) v = static_cast<int8_t>(query_byte(rng));
    lvq::arrange_u4_query(r.data(), blocks, arranged.data());
    for (size_t n : {1, 2, 7, 19}) {
      std::vector<std::vector<uint8_t>> pool(n, std::vector<uint8_t>(padded / 2));
      std::vector<const uint8_t*> gather(n);
      for (size_t i = 0; i < n; ++i) {
        for (auto& b : pool[i]) b = static_cast<uint8_t>(byte(rng));
        gather[n - 1 - i] = pool[i].data();
      }
      std::vector<lvq::U4Terms> terms(n), dots(n);
      t.u4_terms_batch(arranged.data(), gather.data(), n, blocks, padded / 2, terms.data());
      t.u4_dot_batch(arranged.data(), gather.data(), n, blocks, padded / 2, dots.data());
      for (size_t i = 0; i < n; ++i) {
        const lvq::U4Terms one = t.u4_terms(arranged.data(), gather[i], blocks);
        c.same("lvq u4 batch dot", padded, terms[i].dot, one.dot);
        c.same("lvq u4 batch sum", padded, terms[i].sum, one.sum);
        c.same("lvq u4 batch squares", padded, terms[i].squares, one.squares);
        c.same("lvq u4 batch dot alone", padded, dots[i].dot, t.u4_dot(arranged.data(), gather[i], blocks).dot);
      }
    }
  }
  // Rounded walks' distances from codes' sums, several at a time where a level has that loop:
  // bit for bit lvq::rounded_distance's, for L2 and dot, gathers shorter and longer than a step,
  // constants of every float16 range (subnormal, tiny, large, negative).
  if (t.rounded_distances) {
    const float constants[] = {3.0e-6f, 1.0e-3f, 0.37f, -0.52f, 1.5f, -7.25f, 300.f, 6.0e-8f};
    for (bool l2 : {false, true}) {
      lvq::RoundedQueryTerms q;
      q.q_sum = 3.25, q.q_mu = -0.125, q.q_norm = 17.5, q.step = 0.0078125 * 1.37, q.dim = 384;
      q.constants_offset = 192;
      q.l2 = l2;
      for (size_t n : {1, 7, 8, 19}) {
        std::vector<std::vector<uint8_t>> pool(n, std::vector<uint8_t>(q.constants_offset + 4));
        std::vector<const uint8_t*> codes(n);
        std::vector<lvq::U4Terms> terms(n);
        std::uniform_int_distribution<int> pick(0, 7), dot(-700000, 700000), sum(0, 5760), squares(0, 86400);
        for (size_t i = 0; i < n; ++i) {
          const uint16_t stored[2] = {f16::from_float(constants[pick(rng)]), f16::from_float(constants[pick(rng)])};
          std::memcpy(pool[i].data() + q.constants_offset, stored, sizeof(stored));
          codes[n - 1 - i] = pool[i].data();
          terms[i] = lvq::U4Terms{dot(rng), sum(rng), squares(rng)};
        }
        std::vector<float> got(n);
        t.rounded_distances(q, codes.data(), terms.data(), n, got.data());
        for (size_t i = 0; i < n; ++i)
          c.same(l2 ? "lvq rounded distances l2" : "lvq rounded distances dot", n, got[i],
                 lvq::rounded_distance(q, codes[i], terms[i].dot, terms[i].sum, terms[i].squares));
      }
    }
  }
  // Integer terms of 8-bit codes against an 8-bit query, both in dimension order: exact too.
  // The extremes (query -127 and +127, codes 255) are the largest products and squares, up to
  // the longest codes the kernels take (lvq::kU8MaxBlocks; longer ones walk with float kernels).
  for (size_t blocks : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{12}, size_t{25}, size_t{33},
                        lvq::kU8MaxBlocks}) {
    const size_t padded = blocks * lvq::kBlockDims;
    for (int extreme = 0; extreme < 3; ++extreme) {
      std::vector<int8_t> r(padded);
      std::vector<uint8_t> codes(padded);
      for (auto& v : r) v = static_cast<int8_t>(extreme == 1 ? 127 : extreme == 2 ? -127 : query_byte(rng));
      for (auto& b : codes) b = static_cast<uint8_t>(extreme ? 255 : byte(rng));
      int64_t dot = 0, sum = 0, squares = 0;
      for (size_t i = 0; i < padded; ++i) {
        dot += static_cast<int64_t>(codes[i]) * r[i];
        sum += codes[i];
        squares += static_cast<int64_t>(codes[i]) * codes[i];
      }
      const lvq::U8Terms got = t.u8_terms(r.data(), codes.data(), blocks);
      const lvq::U8Terms dot_only = t.u8_dot(r.data(), codes.data(), blocks);
      const lvq::U8Terms ref = scalar.u8_terms(r.data(), codes.data(), blocks);
      c.same("lvq u8 dot", padded, static_cast<double>(got.dot), static_cast<double>(dot));
      c.same("lvq u8 sum", padded, static_cast<double>(got.sum), static_cast<double>(sum));
      c.same("lvq u8 squares", padded, static_cast<double>(got.squares), static_cast<double>(squares));
      c.same("lvq u8 dot alone", padded, static_cast<double>(dot_only.dot), static_cast<double>(dot));
      c.same("lvq u8 dot~scalar", padded, static_cast<double>(got.dot), static_cast<double>(ref.dot));
    }
  }
}

// ---- binary codes ----------------------------------------------------------------------------

void check_binary(Checker& c, binary::HammingFn hamming, binary::MaskedSumFn masked_sum, binary::PlanesDotFn planes_dot) {
  std::uniform_int_distribution<uint64_t> word;
  for (size_t words = 1; words <= 27; ++words) {
    std::vector<uint64_t> a(words), b(words);
    for (auto& w : a) w = word(rng);
    for (auto& w : b) w = word(rng);
    const std::vector<float> q = gaussian(64 * words);
    uint32_t want = 0;
    double sum = 0, abs_sum = 0;
    for (size_t w = 0; w < words; ++w)
      for (size_t i = 0; i < 64; ++i) {
        want += ((a[w] ^ b[w]) >> i) & 1u;
        if ((a[w] >> i) & 1u) sum += q[w * 64 + i];
        abs_sum += std::fabs(q[w * 64 + i]);
      }
    c.same("hamming", 64 * words, hamming(a.data(), b.data(), words), want);
    c.same("hamming(self)", 64 * words, hamming(a.data(), a.data(), words), 0);
    c.near("masked_sum", 64 * words, masked_sum(q.data(), a.data(), words), sum, abs_sum);
    // A query of 1..8 bit planes (sign sketches use 5; AVX2 weighs up to 5 in bytes, more in words).
    for (size_t count = 1; count <= 8; ++count) {
      std::vector<uint64_t> planes(count * words);
      for (auto& w : planes) w = word(rng);
      uint64_t weighted = 0;
      for (size_t j = 0; j < count; ++j)
        for (size_t w = 0; w < words; ++w)
          for (size_t i = 0; i < 64; ++i) weighted += (((planes[j * words + w] & a[w]) >> i) & 1u) << j;
      c.same("planes_dot", 64 * words, planes_dot(planes.data(), a.data(), words, count), static_cast<double>(weighted));
    }
  }
}

}  // namespace

// round_to_upper rounds to the nearest bfloat16, ties to even, like vcvtneps2bf16.
int check_rounding() {
  const std::pair<uint32_t, uint16_t> cases[] = {
      {0x3f800000u, 0x3f80}, {0x3f808000u, 0x3f80}, {0x3f818000u, 0x3f82}, {0x3f808001u, 0x3f81},
      {0x3f807fffu, 0x3f80}, {0xbf808001u, 0xbf81}, {0x7f7fffffu, 0x7f80}, {0x00000001u, 0x0000}};
  int bad = 0;
  for (const auto& [bits, want] : cases) {
    const uint16_t got = split::round_to_upper(f16::float_of(bits)).bits;
    if (got != want) {
      std::printf("MISMATCH round_to_upper(0x%08x) = 0x%04x, want 0x%04x\n", bits, got, want);
      bad = 1;
    }
  }
  return bad;
}

int main() {
  const simd::CpuFeatures& f = simd::cpu_features();
  std::printf("arch %s, best level %s, active %s (%s)\n", f.arch.c_str(), simd::level_name(simd::best_level()),
              simd::level_name(simd::kernels().level), simd::dispatch_note().c_str());
  int failed = check_rounding(), levels = 0;
  for (simd::Level level : simd::kLevelsBestFirst) {
    if (!simd::kernels_for(level)) continue;
    ++levels;
    Checker c{simd::level_name(level)};
    check_f32(c, *simd::kernels_for(level), *simd::kernels_for(simd::Level::Scalar));
    check_panels(c, *simd::kernels_for(level), *simd::kernels_for(simd::Level::Scalar));
    check_f16(c, *f16k::kernels_for(level), *f16k::kernels_for(simd::Level::Scalar));
    check_split(c, *split::kernels_for(level), *split::kernels_for(simd::Level::Scalar), *simd::kernels_for(level));
    check_lvq(c, *lvq::kernels_for(level), *lvq::kernels_for(simd::Level::Scalar));
    check_binary(c, binary::hamming_for(level), binary::masked_sum_for(level), binary::planes_dot_for(level));
    std::printf("level %-7s %6zu checks, %zu mismatches\n", c.level.c_str(), c.checks, c.failures);
    if (c.failures) failed = 1;
  }
  if (levels < 2 && simd::best_level() != simd::Level::Scalar) failed = 1;
  std::printf(failed ? "FAILED\n" : "all kernels agree\n");
  return failed;
}
