// An orthogonal change of basis whose first coordinates are the data's leading principal
// components, so that a squared distance summed coordinate by coordinate reaches most of its
// value in the first few dozen coordinates. A kernel that stops once a partial sum passes its
// bound (simd::KernelTable::l2sq_batch_bounded) then reads a fraction of each far vector.
//
// The basis is a product of r Householder reflections, T = H_{r-1} ... H_0, made by the QR
// factorisation of the top-r principal directions p_0..p_{r-1}: T p_k = +-e_k, so coordinate k
// of T x is the k-th principal component of x for k < r, and the remaining coordinates span
// the rest. Applying it costs 2 r d multiply-adds (a dense d x d rotation would cost d^2 and,
// at d = 784, read 2.4 MB per query), and T is exactly orthogonal in exact arithmetic, so
// distances and inner products are those of the original vectors up to float rounding.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vidx/io/fwd.hpp"

namespace vidx {

class PcaRotation {
 public:
  // The identity (no reflections) until learn().
  explicit PcaRotation(size_t dim) : dim_(dim) {}

  // How many components learn() keeps: the fewest of step, 2 step, ... up to most that hold
  // target_share of the variance (most, if none does).
  struct ComponentRule {
    size_t step;
    size_t most;
    double target_share;
  };

  // Learns the leading principal directions of up to kSampleRows of the n rows of x (evenly
  // spaced), as many as the rule asks (at most dim), deterministically for a given seed.
  // Returns the share of the sample's variance the kept directions hold (0 to 1).
  double learn(const float* x, size_t n, const ComponentRule& rule, uint64_t seed);
  // Back to the identity.
  void clear();

  // y = T x and x = T^T y (in place allowed: out may equal in).
  void apply(const float* in, float* out) const;
  void apply_inverse(const float* in, float* out) const;

  size_t dim() const { return dim_; }
  size_t components() const { return reflectors_.size() / dim_; }
  size_t memory_bytes() const { return (reflectors_.capacity() + scales_.capacity()) * sizeof(float); }

  // [u32 r | r x dim f32 reflectors]; load checks every reflector is a unit vector.
  void save(io::ByteWriter& out) const;
  void load(io::ByteReader& in);

  static constexpr size_t kSampleRows = 4096;

 private:
  void compute_scales();
  void reflect(size_t k, float* y) const;  // y = H_k y

  size_t dim_;
  // Row k is the unit vector v_k of H_k = I - 2 v_k v_k^T; its first k entries are zero.
  std::vector<float> reflectors_;
  std::vector<float> scales_;  // 2 / |v_k|^2 of the stored (rounded) v_k
};

}  // namespace vidx
