// A power of two that an index multiplies short rows (and queries) by before it stores or
// compares them, so that their distances keep their precision.
//
// Why: "ip" compares by 1 - <q, x> in float32, whose spacing near 1 is 6e-8. Rows whose inner
// products are smaller than that all score 1: recall@10 on Gaussian rows of length 5.7e-5 was
// 0.006 for every codec (0.99 on the same rows at length 1). float16 codes ("f16") lose short
// rows under "l2" as well (subnormal below 6e-5: recall 0.75 at length 5.7e-7). Scaling every
// row and query by the same s ranks as before (<sq, sx> = s^2 <q, x>) and is exact in float32
// for a power of two, so get() divides it out exactly and search() reports the distance the
// unscaled rows have (1 - (1 - d)/s^2 for "ip", d/s^2 for "l2"), as precisely as float32 holds it.
//
// s is chosen by the add that stores an index's first rows, from the median length of its
// non-zero rows: 1 unless that is under kShortRowLength, else the power of two that brings it to
// about 1, at most what leaves the add's largest value kHeadroom times inside the quant's range
// (a few ordinary rows among short ones are stored, not refused). Rows added later are scaled by
// the same s (the codecs and the graph were built from scaled rows), so values s times beyond a
// quant's range are refused by add() (check_vectors, naming the scale). An index that holds no
// slot (never stored a row, a first add refused or stopped, everything removed and compacted, or
// a copy of such) chooses again at its next add: its copies and files do as it does.
// SPANN, which streams its build's rows from a source, chooses s once, before its build, from an
// even sample of the source's rows (and, only where they are short, one pass for the largest
// value: scaled_source.hpp); its later adds, rebuilds and files keep it.
//
// Threads: set under the owner's write mutex and exclusive lock, while no write is in flight and
// no slot is held; read by searches and writers without them (atomic).
#pragma once
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#include "vidx/common/metric.hpp"

namespace vidx {

class RowScale {
 public:
  // Rows whose median length is at least this are left as they are (every index of ordinary
  // data: its distances, files and figures stay bit for bit what they were).
  static constexpr double kShortRowLength = 1.0 / 16;
  // The largest exponent chosen: 2^100 leaves room for float32's smallest normal (2^-126).
  static constexpr int kMaxExponent = 100;
  // How far inside the stored range the first rows' largest value stays once scaled: room for
  // later rows that much larger.
  static constexpr double kHeadroom = 16;

  // Which indexes scale: "ip" with any codec, "l2" with a codec that loses short values (the
  // registry's CodecFactory::loses_short_values: float16). Cosine stores unit vectors.
  static bool applies(Metric metric, bool codec_loses_short_values) {
    return metric == Metric::IP || (metric == Metric::L2 && codec_loses_short_values);
  }
  // The factor for an index whose first stored rows are these; value_bound: the largest |value|
  // the index stores (the quant's range, and what keeps distances within float32). 0 when every
  // row is zero: they tell nothing of the scale (and any factor stores them alike).
  static float choose(const float* x, size_t n, size_t dim, float value_bound) {
    std::vector<double> lengths;
    lengths.reserve(n);
    for (size_t r = 0; r < n; ++r) {
      const double sum = squared_norm(x + r * dim, dim);
      if (sum > 0) lengths.push_back(std::sqrt(sum));  // zero rows have no scale to tell
    }
    double largest = 0;
    for (size_t i = 0; i < n * dim; ++i) largest = std::max(largest, static_cast<double>(std::fabs(x[i])));
    if (lengths.empty()) return 0.f;
    return factor_for(median_of(lengths), largest, value_bound);
  }
  // The factor for rows whose non-zero lengths have this median and whose largest |value| is
  // `largest` (what choose() works out; a build that streams its rows works them out its own way).
  static float factor_for(double median, double largest, float value_bound) {
    if (median >= kShortRowLength) return 1.f;
    int exponent = std::min(kMaxExponent, static_cast<int>(std::lround(-std::log2(median))));
    exponent = std::min(exponent, static_cast<int>(std::floor(std::log2(value_bound / (largest * kHeadroom)))));
    return exponent >= 1 ? std::ldexp(1.f, exponent) : 1.f;
  }
  // The median of non-empty `values` (reordered).
  static double median_of(std::vector<double>& values) {
    std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
    return values[values.size() / 2];
  }
  // Whether a file's factor is one this library could have chosen.
  static bool plausible(float s) {
    int exponent = 0;
    return std::isfinite(s) && std::frexp(s, &exponent) == 0.5f && exponent - 1 >= 1 && exponent - 1 <= kMaxExponent;
  }

  float factor() const { return factor_.load(std::memory_order_acquire); }
  bool scaled() const { return factor() != 1.f; }
  // Chosen from rows that told the scale (not only zero rows), or taken from a file.
  bool chosen() const { return chosen_.load(std::memory_order_acquire); }
  // s from choose() (0: the rows told nothing; the factor stays 1, not chosen).
  void set(float s) {
    factor_.store(s == 0.f ? 1.f : s, std::memory_order_release);
    chosen_.store(s != 0.f, std::memory_order_release);
  }

  // x scaled into `buffer` (x itself when the factor is 1).
  const float* apply(const float* x, size_t n, size_t dim, std::vector<float>& buffer) const {
    const float s = factor();
    if (s == 1.f) return x;
    buffer.resize(n * dim);
    for (size_t i = 0; i < n * dim; ++i) buffer[i] = x[i] * s;
    return buffer.data();
  }
  // Stored rows back to the values added (exact: a power of two).
  void undo(float* rows, size_t count) const {
    const float inverse = 1.f / factor();
    if (inverse != 1.f)
      for (size_t i = 0; i < count; ++i) rows[i] *= inverse;
  }
  // A distance between scaled rows as the rows added have it.
  float user_distance(float d, Metric metric) const { return static_cast<float>(precise_user_distance(d, metric)); }
  // The same in float64, before it is rounded: "ip" distances of short rows, which all read 1 in
  // float32, still tell their rows apart (what a merge of several indexes' answers ranks by).
  double precise_user_distance(float d, Metric metric) const {
    const double s2 = static_cast<double>(factor()) * factor();
    if (s2 == 1.0 || !std::isfinite(d)) return d;
    return metric == Metric::IP ? 1.0 - (1.0 - d) / s2 : d / s2;
  }
  // A radius given for the rows added, for the scaled ones.
  float index_radius(float r, Metric metric) const {
    const double s2 = static_cast<double>(factor()) * factor();
    if (s2 == 1.0 || !std::isfinite(r)) return r;
    const double radius = metric == Metric::IP ? 1.0 - (1.0 - r) * s2 : r * s2;
    constexpr double kMax = std::numeric_limits<float>::max();
    return static_cast<float>(std::clamp(radius, -kMax, kMax));
  }

 private:
  std::atomic<float> factor_{1.f};
  std::atomic<bool> chosen_{false};
};

}  // namespace vidx
