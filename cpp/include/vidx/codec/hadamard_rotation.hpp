// A random rotation that costs O(d log d) to apply: random sign flips, then a normalised
// Walsh-Hadamard transform, on the vector zero-padded to a power of two (the randomised Hadamard
// transform of the JL literature). Dense random rotations (binary.hpp) cost d^2 multiply-adds
// and d^2 floats of memory: 784 dimensions hold 2.4 MB, which a query streams from memory on
// every search. For the sign sketches that use it (sign_sketch.hpp) one round screened as many
// candidates as two or three and missed none (fashion-mnist walks, numpy: 60.0% of the rejected
// candidates with 1 round, 58.7% with 2, 59.0% with 3), and a query pays ~2 us for 1024 values.
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
  size_t dim_, padded_;
  uint64_t seed_;
  // One round: a sign per input value (the padding's zeros need none), each +-1/sqrt(padded_),
  // the transform's scale folded in.
  std::vector<float> signs_;
};

}  // namespace vidx
