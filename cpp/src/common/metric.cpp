#include "vidx/common/metric.hpp"

#include <cmath>

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

void normalize_in_place(float* v, size_t dim) {
  double sq = 0.0;  // double: long vectors of large values must not overflow or lose precision
  for (size_t i = 0; i < dim; ++i) sq += static_cast<double>(v[i]) * v[i];
  if (sq <= 0.0) return;
  const float inv = static_cast<float>(1.0 / std::sqrt(sq));
  for (size_t i = 0; i < dim; ++i) v[i] *= inv;
}

}  // namespace vidx
