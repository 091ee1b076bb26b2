#include "vidx/codec/f32_pca.hpp"

#include <utility>
#include <vector>

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

void F32PcaCodec::train(const float* x, size_t n) {
  // Too few dimensions for a check before the end, too many to learn cheaply, too few rows,
  // or a spectrum too flat for the leading components to pass a bound early: the rotation would cost a query 2 r d multiply-adds and
  // save nothing (wordnet-minilm, 54% in 64 components: 0.86-0.93x of f32), so keep the
  // identity and compare exactly as f32 does.
  const bool worth_learning = dim() >= kMinDim && dim() <= kMaxDim && n >= kMinTrainRows;
  const double share = worth_learning ? rotation_.learn(x, n, kComponents, seed_) : 0.0;
  if (share < kMinVarianceShare) rotation_.clear();
  trained_ = true;
}

void F32PcaCodec::encode(const float* x, uint8_t* code) const { rotation_.apply(x, reinterpret_cast<float*>(code)); }

void F32PcaCodec::decode(const uint8_t* code, float* x) const { rotation_.apply_inverse(f32::as_floats(code), x); }

std::unique_ptr<QueryDistance> F32PcaCodec::prepare(const float* query) const {
  std::vector<float> q(dim());
  rotation_.apply(query, q.data());
  if (metric() == Metric::L2) return std::make_unique<f32::L2Distance>(std::move(q), kernels_);
  if (compares_half_l2()) return std::make_unique<f32::HalfL2Distance>(std::move(q), kernels_);
  return std::make_unique<f32::IpDistance>(std::move(q), kernels_);
}

float F32PcaCodec::distance_between(const uint8_t* a, const uint8_t* b) const {
  const float* x = f32::as_floats(a);
  const float* y = f32::as_floats(b);
  if (metric() == Metric::L2) return kernels_->l2sq(x, y, dim());
  if (compares_half_l2()) return 0.5f * kernels_->l2sq(x, y, dim());
  return 1.f - kernels_->dot(x, y, dim());
}

// [u8 flags: bit 0 trained, bit 1 unit vectors (cosine) | the rotation].
void F32PcaCodec::save_parameters(io::ByteWriter& out) const {
  out.u8(static_cast<uint8_t>((trained_ ? 1 : 0) | (unit_ ? 2 : 0)));
  rotation_.save(out);
}

void F32PcaCodec::load_parameters(io::ByteReader& in) {
  const uint8_t flags = in.u8();
  if (flags > 3) throw FileFormatError(in.what() + ": invalid f32_pca flags");
  if (((flags & 2) != 0) != unit_)
    throw FileFormatError(in.what() + ": f32_pca codes were stored for another metric");
  trained_ = (flags & 1) != 0;
  rotation_.load(in);
}

}  // namespace vidx
