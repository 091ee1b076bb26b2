#include "vidx/common/metric.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>

#include "vidx/common/error.hpp"

namespace vidx {

Metric parse_metric(const std::string& name) {
  if (name == "l2" || name == "L2" || name == "euclidean") return Metric::L2;
  if (name == "ip" || name == "IP" || name == "inner_product") return Metric::IP;
  if (name == "cosine" || name == "cos" || name == "angular") return Metric::Cosine;
  throw InvalidArgument("unknown metric '" + name + "' (expected 'l2', 'ip' or 'cosine')");
}

const char* metric_name(Metric m) {
  switch (m) {
    case Metric::L2: return "l2";
    case Metric::IP: return "ip";
    case Metric::Cosine: return "cosine";
  }
  return "unknown";
}

double squared_norm(const float* v, size_t dim) {
  // double: long vectors of large values must not overflow or lose precision. Eight running
  // sums, not one: a single sum waits on its last addition for every value (four cycles each,
  // about half a microsecond at d = 384, paid twice by each cosine query: the check and the
  // normalisation), while independent sums vectorise. The order is fixed, so the result is the
  // same on every machine.
  double lanes[8] = {};
  size_t i = 0;
  for (; i + 8 <= dim; i += 8)
    for (size_t l = 0; l < 8; ++l) lanes[l] += static_cast<double>(v[i + l]) * v[i + l];
  for (; i < dim; ++i) lanes[0] += static_cast<double>(v[i]) * v[i];
  return ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5])) + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
}

double normalize_in_place(float* v, size_t dim) {
  const double sq = squared_norm(v, dim);
  if (sq <= 0.0) return 0.0;
  // Scale in double: 1/|v| of a tiny or huge vector does not fit in a float. One division, then
  // products (a division a value cost as much as the rest of a small query's setup).
  const double norm = std::sqrt(sq);
  const double inverse_norm = 1.0 / norm;
  for (size_t i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] * inverse_norm);
  return norm;
}

float max_abs_value(size_t dim) {
  // |x - y|^2 summed over dim coordinates is at most dim * (2B)^2, and |<x, y>| at most dim * B^2.
  return static_cast<float>(std::sqrt(static_cast<double>(std::numeric_limits<float>::max()) / (4.0 * dim)));
}

namespace {

// Whether every value of the row is within +-limit (NaN is not). On the bits of |x| (sign
// cleared) integer order is float order, and inf and NaN lie above every finite value, so
// one integer max a value decides it; compilers vectorise that loop. A search checks its
// query on every call, where a compare-and-branch per value cost about a microsecond at
// d = 784.
uint32_t magnitude_bits(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof(b));
  return b & 0x7fffffffu;
}

bool all_within(const float* row, size_t dim, float limit) {
  uint32_t largest[8] = {};
  size_t c = 0;
  for (; c + 8 <= dim; c += 8)
    for (size_t l = 0; l < 8; ++l) largest[l] = std::max(largest[l], magnitude_bits(row[c + l]));
  for (; c < dim; ++c) largest[0] = std::max(largest[0], magnitude_bits(row[c]));
  return *std::max_element(largest, largest + 8) <= magnitude_bits(limit);
}

}  // namespace

void check_vectors(Metric metric, const float* x, size_t n, size_t dim, const char* what, float codec_bound,
                   const std::string& codec, size_t first_row, bool keeps_lengths, float row_scale) {
  // Bounds on what is stored, so on the values given: divided by the index's row scale.
  const float bound = max_abs_value(dim) / row_scale;
  codec_bound /= row_scale;
  // Cosine stores unit vectors: neither bound applies to what it is given.
  const float limit = metric == Metric::Cosine ? std::numeric_limits<float>::max() : std::min(bound, codec_bound);
  const auto where = [&](size_t r, size_t c) {
    return std::string(what) + " row " + std::to_string(first_row + r) + " column " + std::to_string(c);
  };
  // Messages as before for indexes that do not scale; a scaled index's are in %.9g (a value just
  // past a bound reads otherwise as the bound) and name the factor the bounds were divided by.
  const auto number = [&](double v) { return row_scale == 1.f ? std::to_string(v) : value_text(v, 9); };
  const std::string scaled = row_scale == 1.f ? std::string()
                                              : " divided by " + value_text(row_scale, 9) +
                                                    ", the factor this index multiplies its rows and queries by "
                                                    "(its first rows were short: see add())";
  for (size_t r = 0; r < n; ++r) {
    const float* row = x + r * dim;
    // Valid rows pass the fast pass; a row that fails it is searched for the value to name.
    if (!all_within(row, dim, limit)) {
      for (size_t c = 0; c < dim; ++c) {
        if (!std::isfinite(row[c])) throw InvalidArgument(where(r, c) + " is NaN or infinite");
        // Cosine compares unit vectors (normalised in double), so only l2 and ip need the bound.
        if (metric != Metric::Cosine && std::fabs(row[c]) > bound)
          throw InvalidArgument(where(r, c) + " is " + number(row[c]) + ": with dimension " +
                                std::to_string(dim) + " values must be within +-" + number(bound) +
                                " (sqrt(FLT_MAX / (4 * dim))" + scaled + ") so that distances fit in float32");
        if (metric != Metric::Cosine && std::fabs(row[c]) > codec_bound)
          throw InvalidArgument(where(r, c) + " is " + number(row[c]) + ": quant '" + codec +
                                "' stores values within +-" + number(codec_bound * row_scale) +
                                " (float16 underneath)" +
                                (row_scale == 1.f ? "" : ", so +-" + number(codec_bound) + " here (" + scaled.substr(1) + ")") +
                                "; use quant='none' or scale the data");
      }
    }
    if (metric != Metric::Cosine) continue;
    const double squared_length = squared_norm(row, dim);
    if (!(squared_length > 0.0))
      throw InvalidArgument(std::string(what) + " row " + std::to_string(first_row + r) +
                            " is the zero vector, which has no direction for the cosine metric (vidx reads "
                            "vectors as float32, which rounds values of size below about 7e-46 to 0)");
    const double max_length = std::numeric_limits<float>::max();
    if (keeps_lengths && squared_length > max_length * max_length)
      throw InvalidArgument(std::string(what) + " row " + std::to_string(first_row + r) +
                            " has a length beyond float32's range, which this cosine index keeps to return "
                            "the vector as added (get()); scale the data");
  }
}

}  // namespace vidx
