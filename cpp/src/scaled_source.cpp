#include "scaled_source.hpp"

#include <algorithm>
#include <cmath>

#include "vidx/codec/registry.hpp"
#include "vidx/common/row_scale.hpp"

namespace vidx {
namespace {

// Rows read for the median length: enough for a median within a percent or so of the whole's,
// few enough to cost nothing next to a build (every row of a smaller source).
constexpr size_t kSampleRows = 10000;
// Rows read at a time by the pass for the largest value.
constexpr size_t kPassRows = 4096;

bool finite_row(const float* row, size_t dim) {
  for (size_t j = 0; j < dim; ++j)
    if (!std::isfinite(row[j])) return false;
  return true;
}

}  // namespace

float choose_source_scale(io::VectorSource& source, float value_bound) {
  const size_t n = source.rows(), dim = source.dim();
  if (n == 0) return 0.f;
  const size_t sample = std::min(n, kSampleRows);
  std::vector<float> row(dim);
  std::vector<double> lengths;
  lengths.reserve(sample);
  double largest = 0;
  for (size_t i = 0; i < sample; ++i) {
    // Evenly spread over the source: rows often arrive in order (of documents, of time, of
    // category), and the first ones need not be like the rest.
    source.read(i * n / sample, 1, row.data());
    if (!finite_row(row.data(), dim)) continue;
    const double sum = squared_norm(row.data(), dim);
    if (sum > 0) lengths.push_back(std::sqrt(sum));
    for (const float v : row) largest = std::max(largest, static_cast<double>(std::fabs(v)));
  }
  if (lengths.empty()) return 0.f;
  const double median = RowScale::median_of(lengths);
  if (median >= RowScale::kShortRowLength) return 1.f;
  if (sample < n) {  // short rows: the factor is bounded by the largest value of them all
    std::vector<float> chunk(kPassRows * dim);
    for (size_t begin = 0; begin < n; begin += kPassRows) {
      const size_t count = std::min(kPassRows, n - begin);
      source.read(begin, count, chunk.data());
      for (size_t i = 0; i < count * dim; ++i)
        if (std::isfinite(chunk[i])) largest = std::max(largest, static_cast<double>(std::fabs(chunk[i])));
    }
  }
  return RowScale::factor_for(median, largest, value_bound);
}

void ScaledSource::read(size_t begin, size_t count, float* out) {
  source_.read(begin, count, out);
  if (factor_ == 1.f) return;
  check_vectors_for(quant_, metric_, out, count, dim(), begin, false, factor_);
  for (size_t i = 0; i < count * dim(); ++i) out[i] *= factor_;
}

}  // namespace vidx
