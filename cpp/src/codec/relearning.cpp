#include "vidx/codec/relearning.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

namespace vidx {
namespace relearning {

namespace {

// Squared error of the codec's reconstruction of up to kErrorRows of rows x[0..n-1], at even steps.
constexpr size_t kErrorRows = 1024;
double reconstruction_error(const Codec& codec, const float* x, size_t n, size_t dim) {
  const size_t taken = std::min(n, kErrorRows);
  std::vector<uint8_t> code(codec.code_size());
  std::vector<float> back(dim);
  double error = 0;
  for (size_t j = 0; j < taken; ++j) {
    const float* row = x + static_cast<size_t>(static_cast<uint64_t>(j) * n / taken) * dim;
    codec.encode(row, code.data());
    codec.decode(code.data(), back.data());
    for (size_t d = 0; d < dim; ++d) error += (static_cast<double>(row[d]) - back[d]) * (row[d] - back[d]);
  }
  return error;
}

// Squared error of the distances the codec reports (its precise ones, which search returns)
// from kQueryRows of the rows to up to kErrorRows of them, against exact float64 ones. The
// reconstruction can be as good as another codec's while these are not: an L2 distance
// subtracts what the code's padding dimensions added (pad x bias^2, see LvqDistance), and a
// centre far from the rows makes that term large and the float32 difference coarse (1-d rows
// of [0, 2.5] after a first add of [100]: every distance read 0; learnt again, each reconstructs
// as well).
constexpr size_t kQueryRows = 16;
double distance_error(const Codec& codec, Metric metric, const float* x, size_t n, size_t dim) {
  const size_t taken = std::min(n, kErrorRows), queries = std::min(n, kQueryRows);
  std::vector<uint8_t> codes(taken * codec.code_size());
  std::vector<const float*> rows(taken);
  for (size_t j = 0; j < taken; ++j) {
    rows[j] = x + static_cast<size_t>(static_cast<uint64_t>(j) * n / taken) * dim;
    codec.encode(rows[j], codes.data() + j * codec.code_size());
  }
  double error = 0;
  for (size_t i = 0; i < queries; ++i) {
    const float* q = x + static_cast<size_t>(static_cast<uint64_t>(i) * n / queries) * dim;
    const std::unique_ptr<QueryDistance> distance = codec.prepare_precise(q);
    for (size_t j = 0; j < taken; ++j) {
      double exact = 0;
      for (size_t d = 0; d < dim; ++d)
        exact += metric == Metric::L2 ? (static_cast<double>(q[d]) - rows[j][d]) * (q[d] - rows[j][d])
                                      : static_cast<double>(q[d]) * rows[j][d];
      if (metric != Metric::L2) exact = 1 - exact;
      const double off = distance->one(codes.data() + j * codec.code_size()) - exact;
      error += off * off;
    }
  }
  return error;
}

}  // namespace

Learnt learn_again(const IndexOptions& options, size_t dim, Metric metric, const Codec& current, bool keeps_vectors,
                   const std::vector<uint32_t>& live, const SlotVector& vector_of, const float* x, size_t n) {
  const size_t stored = live.size(), total = stored + n;
  const size_t taken = std::min(total, kSettledRows);
  std::vector<float> rows(taken * dim);
  for (size_t j = 0; j < taken; ++j) {
    // Row j of `taken` at even steps over stored rows then the add's (all of them when few).
    const size_t i = static_cast<size_t>(static_cast<uint64_t>(j) * total / taken);  // < 2^16 * 2^31
    float* out = rows.data() + j * dim;
    if (i < stored)
      vector_of(live[i], out);
    else
      std::memcpy(out, x + (i - stored) * dim, dim * sizeof(float));
  }
  Learnt learnt;
  std::unique_ptr<Codec> codec = make_codec(options.quant, dim, metric, options.seed);
  codec->train(rows.data(), taken);
  if (codec->name() != current.name() || codec->code_size() != current.code_size() ||
      codec->head_size() != current.head_size() || codec->needs_training()) {
    learnt.rows = kSettledRows;  // a layout this build cannot relearn: never ask again
    return learnt;
  }
  learnt.rows = taken;
  if (!keeps_vectors && !current.decodes_exactly() && n > 0) {
    const double before = reconstruction_error(current, x, n, dim), after = reconstruction_error(*codec, x, n, dim);
    if (!(after <= kMinErrorRatio * before) &&
        !(distance_error(*codec, metric, x, n, dim) <= kMinDistanceErrorRatio * distance_error(current, metric, x, n, dim)))
      return learnt;  // as good as learnt: keep it
  }
  learnt.codec = std::move(codec);
  return learnt;
}

}  // namespace relearning
}  // namespace vidx
