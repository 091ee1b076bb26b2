// A random rotation that costs O(d log d) to apply: rounds of random sign flips, each followed
// by a normalised Walsh-Hadamard transform, on the vector zero-padded to a power of two. Dense
// random rotations (binary.hpp) cost d^2 multiply-adds and d^2 floats of memory: 784
// dimensions hold 2.4 MB, which a query streams from memory on every search. One round is the
// subsampled randomised Hadamard transform of the JL literature; for the sign sketches that use
// it (sign_sketch.hpp) one round screened as many candidates as a dense Gaussian rotation and
// missed none more (fashion-mnist walks, numpy: 60.0% of the rejected candidates with 1 round,
// 58.7% with 2, 59.0% with 3), and a query pays ~2.4 us per round for 1024 values.
// The signs are drawn from a seed, so the rotation travels as that seed alone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vidx {

class HadamardRotation {
 public:
  HadamardRotation(size_t dim, uint64_t seed);

  size_t dim() const { return dim_; }
  // The rotated length: the smallest power of two >= dim (and >= 64, one word of sign bits).
  size_t padded_dim() const { return padded_; }
  uint64_t seed() const { return seed_; }
  size_t parameter_bytes() const { return signs_.size() * sizeof(float); }
  // out (padded_dim() floats) = R·[x, 0...]; |out| = |x|.
  void apply(const float* x, float* out) const;

 private:
  static constexpr size_t kRounds = 1;
  size_t dim_, padded_;
  uint64_t seed_;
  std::vector<float> signs_;  // kRounds x padded_, each +-1/sqrt(padded_) (the transform's scale folded in)
};

}  // namespace vidx
