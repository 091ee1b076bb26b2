#include "vidx/codec/relearning.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
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

// Squared errors of the distances two codecs report (their precise ones, which search returns)
// from kQueryRows of the rows to up to kDistanceRows of them, against exact float64 ones. The
// reconstruction can be as good as another codec's while these are not: an L2 distance
// subtracts what the code's padding dimensions added (pad x bias^2, see LvqDistance), and a
// centre far from the rows makes that term large and the float32 difference coarse (1-d rows
// of [0, 2.5] after a first add of [100]: every distance read 0; learnt again, each reconstructs
// as well). Runs under the exclusive lock, only where the reconstruction would keep the codec.
constexpr size_t kQueryRows = 16, kDistanceRows = 256;
struct DistanceErrors {
  double current = 0, learnt = 0;
};
DistanceErrors distance_errors(const Codec& current, const Codec& learnt, Metric metric, const float* x, size_t n,
                               size_t dim) {
  const size_t taken = std::min(n, kDistanceRows), queries = std::min(n, kQueryRows);
  const auto row = [&](size_t j, size_t of) { return x + static_cast<size_t>(static_cast<uint64_t>(j) * n / of) * dim; };
  std::vector<uint8_t> current_codes(taken * current.code_size()), learnt_codes(taken * learnt.code_size());
  for (size_t j = 0; j < taken; ++j) {
    current.encode(row(j, taken), current_codes.data() + j * current.code_size());
    learnt.encode(row(j, taken), learnt_codes.data() + j * learnt.code_size());
  }
  DistanceErrors errors;
  for (size_t i = 0; i < queries; ++i) {
    const float* q = row(i, queries);
    const std::unique_ptr<QueryDistance> by_current = current.prepare_precise(q), by_learnt = learnt.prepare_precise(q);
    for (size_t j = 0; j < taken; ++j) {
      const float* r = row(j, taken);
      double exact = 0;
      if (metric == Metric::L2) {
        for (size_t d = 0; d < dim; ++d) exact += (static_cast<double>(q[d]) - r[d]) * (q[d] - r[d]);
      } else {
        for (size_t d = 0; d < dim; ++d) exact += static_cast<double>(q[d]) * r[d];
        exact = 1 - exact;  // what "ip" and "cosine" (unit rows) report
      }
      const double a = by_current->one(current_codes.data() + j * current.code_size()) - exact;
      const double b = by_learnt->one(learnt_codes.data() + j * learnt.code_size()) - exact;
      errors.current += a * a;
      errors.learnt += b * b;
    }
  }
  return errors;
}

// For sign codes: how many of each query row's 10 nearest rows (exact, among up to
// kDistanceRows of the rows) the codec's walk distances put in their best 20, as a share, over
// kQueryRows query rows. Their reconstruction and precise distances come from their 8-bit
// re-rank levels, which a centre learnt from the head of an ordered stream hardly changes; the
// sign bits a walk reads are what it costs (graph.md section 50).
double walk_overlap(const Codec& codec, Metric metric, const float* x, size_t n, size_t dim) {
  const size_t taken = std::min(n, kDistanceRows), queries = std::min(n, kQueryRows);
  constexpr size_t kTrue = 10, kFound = 20;
  if (taken <= kFound) return 1.0;
  const auto row = [&](size_t j, size_t of) { return x + static_cast<size_t>(static_cast<uint64_t>(j) * n / of) * dim; };
  std::vector<uint8_t> codes(taken * codec.code_size());
  for (size_t j = 0; j < taken; ++j) codec.encode(row(j, taken), codes.data() + j * codec.code_size());
  std::vector<std::pair<double, size_t>> exact(taken), walked(taken);
  size_t found = 0;
  for (size_t i = 0; i < queries; ++i) {
    const float* q = row(i, queries);
    const std::unique_ptr<QueryDistance> walk = codec.prepare(q);
    for (size_t j = 0; j < taken; ++j) {
      const float* r = row(j, taken);
      double d = 0;
      for (size_t k = 0; k < dim; ++k)
        d += metric == Metric::L2 ? (static_cast<double>(q[k]) - r[k]) * (q[k] - r[k]) : -static_cast<double>(q[k]) * r[k];
      exact[j] = {d, j};
      walked[j] = {walk->one(codes.data() + j * codec.code_size()), j};
    }
    std::partial_sort(exact.begin(), exact.begin() + kTrue, exact.end());
    std::partial_sort(walked.begin(), walked.begin() + kFound, walked.end());
    for (size_t t = 0; t < kTrue; ++t)
      for (size_t f = 0; f < kFound; ++f) found += exact[t].second == walked[f].second;
  }
  return static_cast<double>(found) / static_cast<double>(queries * kTrue);
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
    learnt.rows = kNever;  // a layout this build cannot relearn: never ask again
    return learnt;
  }
  learnt.rows = total;
  if (!keeps_vectors && !current.decodes_exactly() && n > 0) {
    const double before = reconstruction_error(current, x, n, dim), after = reconstruction_error(*codec, x, n, dim);
    if (!(after <= kMinErrorRatio * before)) {
      const DistanceErrors errors = distance_errors(current, *codec, metric, x, n, dim);
      const bool sign_codes_walk_better =
          sign_codes(current) &&
          walk_overlap(*codec, metric, x, n, dim) >= walk_overlap(current, metric, x, n, dim) + kMinWalkOverlapGain;
      if (!(errors.learnt <= kMinDistanceErrorRatio * errors.current) && !sign_codes_walk_better)
        return learnt;  // as good as learnt: keep it
    }
  }
  learnt.codec = std::move(codec);
  return learnt;
}

}  // namespace relearning
}  // namespace vidx
