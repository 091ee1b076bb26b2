#include "vidx/codec/f32_pca.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "bound_calibration.hpp"
#include "f32_distances.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"

namespace vidx {

F32PcaCodec::F32PcaCodec(size_t dim, Metric metric, uint64_t seed)
    : Codec(dim, metric),
      unit_(metric == Metric::Cosine),
      seed_(seed),
      rotation_(dim),
      kernels_(&simd::kernels()) {}

size_t F32PcaCodec::most_components(size_t dim) {
  const double budget_r = kLearningBudget / (static_cast<double>(dim) * static_cast<double>(dim));
  const size_t most = std::min(dim / 2, static_cast<size_t>(budget_r));
  return most / kComponentStep * kComponentStep;
}

void F32PcaCodec::train(const float* x, size_t n) {
  // Too few dimensions for a check before the end, too many to learn cheaply, too few rows,
  // or a spectrum too flat for the leading components to pass a bound early: the rotation would
  // cost a query 2 r d multiply-adds and save nothing, so keep the identity and compare exactly
  // as f32 does.
  const size_t most = most_components(dim());
  const bool worth_learning = dim() >= kMinDim && most > 0 && n >= kMinTrainRows;
  const PcaRotation::ComponentRule rule{kComponentStep, most, kTargetShare};
  const double share = worth_learning ? rotation_.learn(x, n, rule, seed_) : 0.0;
  if (share < kMinVarianceShare) rotation_.clear();
  if (rotated() && (metric() == Metric::L2 || compares_half_l2())) {
    const calibration::SampleSize size = calibration::kFirstAdd;
    const std::vector<float> scales = calibrate_checks(x, n, size.rows, size.queries);
    check_scales_ = std::vector<std::atomic<float>>(scales.size());
    for (size_t b = 0; b < scales.size(); ++b) check_scales_[b].store(scales[b], std::memory_order_relaxed);
  }
  trained_ = true;
}

void F32PcaCodec::observe(const float* x, size_t n) {
  if (check_scales_.empty() || n == 0) return;
  const calibration::SampleSize size = calibration::kLaterAdd;
  if (n >= kMinTrainRows) return widen_checks(calibrate_checks(x, n, size.rows, size.queries));
  std::vector<float> pooled;
  {
    std::lock_guard<std::mutex> lock(pending_mutex_);
    pending_.insert(pending_.end(), x, x + n * dim());
    if (pending_.size() < kMinTrainRows * dim()) return;
    pooled.swap(pending_);
  }
  widen_checks(calibrate_checks(pooled.data(), pooled.size() / dim(), size.rows, size.queries));
}

size_t F32PcaCodec::parameter_bytes() const {
  std::lock_guard<std::mutex> lock(pending_mutex_);
  return rotation_.memory_bytes() + check_scales_.size() * sizeof(float) + pending_.capacity() * sizeof(float);
}

void F32PcaCodec::widen_checks(const std::vector<float>& scales) {
  if (scales.size() != check_scales_.size()) return;  // every sampled row a duplicate
  for (size_t b = 0; b < scales.size(); ++b) {
    float seen = check_scales_[b].load(std::memory_order_relaxed);
    while (seen < scales[b] && !check_scales_[b].compare_exchange_weak(seen, scales[b], std::memory_order_relaxed)) {
    }
  }
}

std::vector<float> F32PcaCodec::calibrate_checks(const float* x, size_t n, size_t sample_rows, size_t queries) const {
  const size_t m = std::min(n, sample_rows);
  std::vector<float> rows(m * dim());
  for (size_t i = 0; i < m; ++i) rotation_.apply(x + (i * n / m) * dim(), &rows[i * dim()]);
  return calibration::near_pair_check_scales(rows.data(), m, dim(), queries, *kernels_);
}

std::vector<float> F32PcaCodec::check_scales() const {
  std::vector<float> scales(check_scales_.size());
  for (size_t b = 0; b < scales.size(); ++b) scales[b] = check_scales_[b].load(std::memory_order_relaxed);
  return scales;
}

void F32PcaCodec::encode(const float* x, uint8_t* code) const { rotation_.apply(x, reinterpret_cast<float*>(code)); }

void F32PcaCodec::decode(const uint8_t* code, float* x) const { rotation_.apply_inverse(f32::as_floats(code), x); }

std::unique_ptr<QueryDistance> F32PcaCodec::prepare(const float* query) const {
  std::vector<float> q(dim());
  rotation_.apply(query, q.data());
  return prepare_rotated(std::move(q));
}

std::unique_ptr<QueryDistance> F32PcaCodec::prepare_from_code(const uint8_t* head, const uint8_t*) const {
  const float* y = f32::as_floats(head);
  return prepare_rotated(std::vector<float>(y, y + dim()));
}

std::unique_ptr<QueryDistance> F32PcaCodec::prepare_rotated(std::vector<float> q) const {
  if (metric() == Metric::L2) return std::make_unique<f32::L2Distance>(std::move(q), kernels_, check_scales());
  if (compares_half_l2()) return std::make_unique<f32::HalfL2Distance>(std::move(q), kernels_, check_scales());
  return std::make_unique<f32::IpDistance>(std::move(q), kernels_);
}

float F32PcaCodec::distance_between(const uint8_t* a, const uint8_t* b) const {
  const float* x = f32::as_floats(a);
  const float* y = f32::as_floats(b);
  if (metric() == Metric::L2) return kernels_->l2sq(x, y, dim());
  if (compares_half_l2()) return 0.5f * kernels_->l2sq(x, y, dim());
  return 1.f - kernels_->dot(x, y, dim());
}

// [u8 flags: bit 0 trained, bit 1 unit vectors (cosine), bit 2 check scales follow | the
// rotation | (bit 2) u32 count, count f32 check scales]. Files without bit 2 (written before
// the scales existed) load with exact checks.
void F32PcaCodec::save_parameters(io::ByteWriter& out) const {
  const bool scaled = !check_scales_.empty();
  out.u8(static_cast<uint8_t>((trained_ ? 1 : 0) | (unit_ ? 2 : 0) | (scaled ? 4 : 0)));
  rotation_.save(out);
  if (!scaled) return;
  out.u32(static_cast<uint32_t>(check_scales_.size()));
  for (float s : check_scales()) out.f32(s);
}

void F32PcaCodec::load_parameters(io::ByteReader& in) {
  const uint8_t flags = in.u8();
  if (flags > 7) throw FileFormatError(in.what() + ": invalid f32_pca flags");
  if (((flags & 2) != 0) != unit_)
    throw FileFormatError(in.what() + ": f32_pca codes were stored for another metric");
  trained_ = (flags & 1) != 0;
  rotation_.load(in);
  check_scales_ = std::vector<std::atomic<float>>();
  if ((flags & 4) == 0) return;
  const uint32_t count = in.u32();
  if (count != dim() / simd::kBoundCheckDims || !rotated())
    throw FileFormatError(in.what() + ": f32_pca check scales do not match the vectors");
  std::vector<std::atomic<float>> scales(count);
  for (std::atomic<float>& s : scales) {
    const float v = in.f32();
    if (!(v > 0.f && v <= 1.f)) throw FileFormatError(in.what() + ": f32_pca check scale out of (0, 1]");
    s.store(v, std::memory_order_relaxed);
  }
  check_scales_ = std::move(scales);
}

}  // namespace vidx
