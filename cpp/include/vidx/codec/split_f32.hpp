// "f32_split": float32 vectors stored as the two 16-bit halves of every value, apart.
//
// A code is [upper halves | lower halves], 2·dim bytes each, and its head (Codec::head_size) is
// the upper halves: sign, exponent and the leading 7 mantissa bits of each value, a truncated
// bfloat16. A graph walk scores its candidates from heads alone, each value read with a zero
// lower half (within 2^-7 of the value, relative, towards zero: split_f32_kernels.hpp),
// and so waits on half the cache lines a float32 walk does; the candidates it keeps are then
// re-scored with the halves joined, which is exactly the stored float32 (reranks()). So the
// index holds float32's bytes and returns float32's distances, bit for bit, and its walks read
// what an 8-bit-per-dimension walk would read twice over, without the extra copy of the
// vectors that LVQ codes plus kept float32 vectors cost.
//
// Splitting is exact and portable (bit operations only), so codes are the same on every
// machine and decode() returns the vector encode() was given. A structure that keeps tails
// apart (HNSW) holds the lower halves in their own array, read only by re-ranking.
#pragma once
#include <cstdint>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/finite_codes.hpp"
#include "vidx/codec/split_f32_kernels.hpp"

namespace vidx {

class SplitF32Codec final : public Codec {
 public:
  SplitF32Codec(size_t dim, Metric metric) : Codec(dim, metric), kernels_(&split::kernels()) {}

  std::string name() const override { return "f32_split"; }
  size_t code_size() const override { return 4 * dim(); }
  size_t head_size() const override { return 2 * dim(); }
  int walk_bits() const override { return 16; }  // the upper halves
  bool decodes_exactly() const override { return true; }
  // Heads are already half of float32's bytes: a graph build walks them as they are rather than
  // making LVQ-8 construction codes, as it does for full float32 vectors.
  bool full_width() const override { return false; }
  bool reranks() const override { return true; }
  // A zero lower half leaves the upper half the float32 value itself, and the walk's kernels sum
  // in the joined kernel's order (simd/loops_float.hpp): data whose values fit bfloat16 (8-bit
  // integers such as pixels, embeddings computed in bfloat16) is walked at float32 precision.
  // Not inner products whose walk rounds the query to bfloat16 (KernelTable::dot_rounded).
  bool walks_exactly_with_zero_tails() const override { return metric() == Metric::L2 || !rounds_walk_query(); }
  // Whether a walk's inner products take the query rounded to bfloat16 (AVX512-BF16 kernels).
  bool rounds_walk_query() const { return metric() != Metric::L2 && kernels_->dot_rounded != nullptr; }

  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override { decode_split(code, code + head_size(), x); }
  void decode_split(const uint8_t* head, const uint8_t* tail, float* x) const override;
  // A value's exponent is all in its upper half.
  bool finite(const uint8_t* head, const uint8_t*, float*) const override {
    return exponents_finite<uint16_t>(head, dim(), kF32UpperHalfExponentBits);
  }
  // The walk's distance: from the upper halves alone.
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  // The re-rank's: float32's exact distance, from both halves.
  std::unique_ptr<QueryDistance> prepare_precise(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  void save_parameters(io::ByteWriter& /*out*/) const override {}

  // The same codec with another kernel table (tests compare every SIMD level).
  void use_kernels(const split::KernelTable& table) { kernels_ = &table; }

 private:
  const split::KernelTable* kernels_;
};

}  // namespace vidx
