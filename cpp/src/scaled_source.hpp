// A build's rows multiplied by the index's row scale (RowScale) as they are read, and how a
// build that streams its rows chooses that scale. Private to the core sources.
//
// Why: SPANN builds from a VectorSource, which may be a file larger than memory; flat and HNSW
// choose their factor from the whole of their first add, in memory. A build reads an even sample
// of the source's rows for their median length, and only where that says the rows are short
// (no ordinary index pays for it) one more pass for the largest value, which bounds the factor.
#pragma once
#include <string>
#include <vector>

#include "vidx/common/metric.hpp"
#include "vidx/io/vector_source.hpp"

namespace vidx {

// The factor (RowScale::factor_for) for an index whose first rows come from `source`; 0 when
// every row sampled is zero (the factor stays unchosen: 1). value_bound: the largest |value| the
// index stores. Rows with NaN or infinite values are left out (the build refuses them by name).
float choose_source_scale(io::VectorSource& source, float value_bound);

// `source`'s rows times `factor` (a power of two), each chunk first checked as add() checks rows
// against the bounds the factor narrows (check_vectors_for, naming the factor and the row).
class ScaledSource final : public io::VectorSource {
 public:
  ScaledSource(io::VectorSource& source, float factor, std::string quant, Metric metric)
      : source_(source), factor_(factor), quant_(std::move(quant)), metric_(metric) {}
  size_t rows() const override { return source_.rows(); }
  size_t dim() const override { return source_.dim(); }
  void read(size_t begin, size_t count, float* out) override;
  std::string describe() const override { return source_.describe(); }

 private:
  io::VectorSource& source_;
  float factor_;
  std::string quant_;
  Metric metric_;
};

}  // namespace vidx
