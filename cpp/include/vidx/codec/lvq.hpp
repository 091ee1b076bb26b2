// Locally-adaptive Vector Quantization (Aguerrebere et al., "Similarity search in the blink
// of an eye with compressed indices", VLDB 2023).
//
// Vectors are centred by the dataset mean mu (learnt at the first add). Each centred vector
// gets its own grid: bias = min_i, delta = (max - min) / (2^B1 - 1), both stored as float16
// and rounded to float16 *before* encoding so the stored constants are the ones the codes
// were made with. Codes c_i = round((x_i - mu_i - bias) / delta) take B1 bits; one-level codes
// then store a grid fitted to their codes (lvq.cpp, store_fitted_grid: the reconstruction keeps
// the norm of unit rows, or is scaled by its least-squares factor), which ranks distances closer
// to the exact ones.
// Two-level LVQ-B1xB2 adds a B2-bit residual with step delta / (2^B2 - 1) for what the
// primary code missed; a structure walks with the primary codes only and re-ranks with both.
//
// float16's smallest normal is 2^-14: a vector whose step lies below it keeps few bits of it
// (flat lvq8 on a Gaussian scaled by 1e-5 found 0.04 of its ten nearest; HNSW with quant="f32",
// whose build walks LVQ-8 codes, 0.55). A codec whose training rows are that small takes an
// exponent S: a vector's constants are then stored as those of the vector times 2^S, marked by
// the step's sign bit (a step is never negative), and read back times 2^-S, so the codes and
// every distance are in the data's own units. A vector too large for that (its constants would
// overflow) is stored unscaled, unmarked. Trained on larger data, S is 0 and nothing is marked.
//
// Code of one vector: [primary codes | f16 delta | f16 bias | residual codes], codes padded
// to blocks of 32 dimensions in the layout of lvq_kernels.hpp. The head (primary codes and
// constants) is all a traversal reads; the residual codes are the tail that only re-ranking
// reads, so a structure can keep them apart from its graph (Codec::head_size).
// 8-bit primary codes whose padding has room for the constants keep them there, right after
// the last dimension: the head is then the padded codes alone, one cache line for 50
// dimensions instead of two (a graph walk over such short codes waits on every line it
// loads). The kernels read the padding as codes; a float query is zero there, so only L2's
// padding term changes, and LvqDistance subtracts what the constants add to it.
#pragma once
#include <cmath>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/lvq_kernels.hpp"

namespace vidx {

class LvqCodec final : public Codec {
 public:
  // primary_bits: 4 or 8; residual_bits: 0 (one level), 4 or 8.
  LvqCodec(size_t dim, Metric metric, int primary_bits, int residual_bits);

  std::string name() const override;
  size_t code_size() const override { return residual_offset_ + residual_bytes_; }
  size_t head_size() const override { return residual_offset_; }
  size_t load_alignment() const override { return 16; }
  int walk_bits() const override { return primary_bits_; }

  bool needs_training() const override { return !trained_; }
  void train(const float* x, size_t n) override;

  void encode(const float* x, uint8_t* code) const override;
  // The full reconstruction (both levels where there are two).
  void decode(const uint8_t* code, float* x) const override;
  void decode_split(const uint8_t* head, const uint8_t* tail, float* x) const override;
  // The reconstruction from the primary codes alone.
  void decode_primary(const uint8_t* code, float* x) const;
  // Codes are integers: a code decodes to finite values when its step and bias are finite (the
  // mean is checked when the codec's parameters load).
  bool finite(const uint8_t* head, const uint8_t*, float*) const override {
    return std::isfinite(delta(head)) && std::isfinite(bias(head));
  }

  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  std::unique_ptr<QueryDistance> prepare_precise(const float* query) const override;
  std::unique_ptr<QueryDistance> prepare_reranked_walk(const float* query) const override;
  bool reranks() const override { return residual_bits_ > 0; }
  float distance_between(const uint8_t* a, const uint8_t* b) const override;
  bool prefers_prepared_comparisons() const override { return true; }
  bool decoded_rows_compare_alike() const override { return residual_bits_ == 0; }

  void save_parameters(io::ByteWriter& out) const override;
  void load_parameters(io::ByteReader& in) override;
  size_t parameter_bytes() const override { return mean_.size() * sizeof(float); }

  // Per-vector grid as stored: the primary step delta and the offset bias.
  float delta(const uint8_t* code) const;
  float bias(const uint8_t* code) const;
  const std::vector<float>& mean() const { return mean_; }
  int primary_bits() const { return primary_bits_; }
  int residual_bits() const { return residual_bits_; }
  // S (0: constants stored as they are).
  int scale_exponent() const { return exponent_; }

  // The same codec with another kernel table (tests compare every SIMD level).
  void use_kernels(const lvq::KernelTable& table) { kernels_ = &table; }

  // How a distance reads a code: which parts, and the grid they are decoded on.
  struct View {
    lvq::Packing packing;
    bool two_level;
  };

 private:
  std::unique_ptr<QueryDistance> prepare_view(const float* query, View view) const;
  int choose_exponent(const float* x, size_t n) const;
  float unscale() const { return std::ldexp(1.f, -exponent_); }
  void decode_view(const uint8_t* head, const uint8_t* tail, View view, bool add_mean, float* x) const;
  // encode()'s last step for one-level codes (lvq.cpp): the row x, its centred values, its codes
  // (as floats) and the grid they were made on (true units; `scaled`: stored times 2^S).
  void store_fitted_grid(const float* x, const float* centred, const float* codes, float delta, float bias,
                         bool scaled, uint8_t* code) const;

  int primary_bits_;
  int residual_bits_;
  size_t padded_dim_;
  // Where the constants go: after the codes, or inside the primary codes' padding.
  void set_layout(bool constants_in_padding);
  bool constants_in_padding_ = false;
  size_t constants_offset_;  // after the primary codes, or at byte `dim` of their padding
  size_t residual_offset_;   // bytes of primary codes and constants: the head
  size_t residual_bytes_;    // bytes of residual codes: the tail
  View primary_view_;
  View precise_view_;
  std::vector<float> mean_;  // mu, zero until trained
  int exponent_ = 0;         // S, chosen with the mean
  bool trained_ = false;
  const lvq::KernelTable* kernels_;
};

}  // namespace vidx
