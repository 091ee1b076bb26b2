// Portable LVQ kernels: the reference the SIMD levels are tested against, and the only
// level on architectures without a dedicated file.
#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {
namespace {

constexpr size_t kLanes = 8;

inline uint32_t nibble(const uint8_t* codes, size_t i) {
  const uint8_t byte = codes[(i / kBlockDims) * (kBlockDims / 2) + (i % 16)];
  return (i % kBlockDims) < 16 ? (byte & 0xfu) : (byte >> 4);
}

template <Packing P>
inline float value(const uint8_t* primary, const uint8_t* residual, size_t i) {
  switch (P) {
    case Packing::U8: return static_cast<float>(primary[i]);
    case Packing::U4: return static_cast<float>(nibble(primary, i));
    case Packing::U4U4: return static_cast<float>(15u * nibble(primary, i) + nibble(residual, i));
    case Packing::U4U8: return static_cast<float>(255u * nibble(primary, i) + residual[i]);
    case Packing::U8U8: return static_cast<float>(255u * primary[i] + residual[i]);
  }
  return 0.f;
}

// padded_dim is a multiple of kBlockDims, hence of kLanes: no tail.
template <Packing P>
float l2(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale,
         float offset) {
  float acc[kLanes] = {};
  for (size_t i = 0; i < padded_dim; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) {
      const float d = q[i + l] - (offset + scale * value<P>(primary, residual, i + l));
      acc[l] += d * d;
    }
  float sum = 0.f;
  for (float a : acc) sum += a;
  return sum;
}

template <Packing P>
float dot(const float* q, const uint8_t* primary, const uint8_t* residual, size_t padded_dim) {
  float acc[kLanes] = {};
  for (size_t i = 0; i < padded_dim; i += kLanes)
    for (size_t l = 0; l < kLanes; ++l) acc[l] += q[i + l] * value<P>(primary, residual, i + l);
  float sum = 0.f;
  for (float a : acc) sum += a;
  return sum;
}

template <Packing P>
void decode(const uint8_t* primary, const uint8_t* residual, size_t padded_dim, float scale, float offset, float* out) {
  for (size_t i = 0; i < padded_dim; ++i) out[i] = offset + scale * value<P>(primary, residual, i);
}

}  // namespace

const KernelTable& scalar_kernels() {
  using P = Packing;
  static const KernelTable table{
      simd::Level::Scalar,
      {l2<P::U8>, l2<P::U4>, l2<P::U4U4>, l2<P::U4U8>, l2<P::U8U8>},
      {dot<P::U8>, dot<P::U4>, dot<P::U4U4>, dot<P::U4U8>, dot<P::U8U8>},
      {decode<P::U8>, decode<P::U4>, decode<P::U4U4>, decode<P::U4U8>, decode<P::U8U8>}};
  return table;
}

}  // namespace vidx::lvq
