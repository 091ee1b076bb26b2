// "f32_sketch": f32_split's float32 halves behind a one-bit sign sketch (sign_sketch.hpp).
//
// A code is [sketch | upper halves | lower halves]; its head is the sketch and the upper halves.
// A graph walk whose beam is full first bounds each gathered candidate's distance from its
// sketch (two or three cache lines) and reads the upper halves only of candidates whose bound
// stays under the beam's: most candidates a walk scores are dropped, and most of those are now
// dropped without reading their vectors. Results stay float32's (re-ranked from both halves),
// and the index holds float32's bytes plus the sketch (1 bit a rotated dimension and 16 bytes:
// 144 bytes for 784 dimensions, 4.6% of float32's).
#pragma once
#include <cstdint>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/sign_sketch.hpp"
#include "vidx/codec/split_f32.hpp"

namespace vidx {

class SketchedSplitF32Codec final : public Codec {
 public:
  SketchedSplitF32Codec(size_t dim, Metric metric, uint64_t seed)
      : Codec(dim, metric), split_(dim, metric), sketch_(dim, metric, seed) {}

  std::string name() const override { return "f32_sketch"; }
  size_t code_size() const override { return sketch_.bytes() + split_.code_size(); }
  size_t head_size() const override { return sketch_.bytes() + split_.head_size(); }
  int walk_bits() const override { return split_.walk_bits(); }  // the sketch only screens
  bool decodes_exactly() const override { return true; }
  bool full_width() const override { return false; }
  bool reranks() const override { return true; }

  // Once: an HNSW index retrained it on every add, and each add's mean misplaced every sketch stored
  // before it (two adds of different clusters: recall@10 0.89 -> 0.11).
  bool needs_training() const override { return !sketch_.trained(); }
  void train(const float* x, size_t n) override { sketch_.train(x, n); }

  void encode(const float* x, uint8_t* code) const override;
  void decode(const uint8_t* code, float* x) const override { split_.decode(code + sketch_.bytes(), x); }
  void decode_split(const uint8_t* head, const uint8_t* tail, float* x) const override {
    split_.decode_split(head + sketch_.bytes(), tail, x);
  }
  bool finite(const uint8_t* head, const uint8_t* tail, float* scratch) const override {
    return sketch_.finite(head) && split_.finite(head + sketch_.bytes(), tail, scratch);
  }

  // The walk's distance: screened by the sketch, then from the upper halves.
  std::unique_ptr<QueryDistance> prepare(const float* query) const override;
  // The re-rank's: float32's exact distance, from both halves.
  std::unique_ptr<QueryDistance> prepare_precise(const float* query) const override;
  float distance_between(const uint8_t* a, const uint8_t* b) const override {
    return split_.distance_between(a + sketch_.bytes(), b + sketch_.bytes());
  }

  void save_parameters(io::ByteWriter& out) const override { sketch_.save_parameters(out); }
  void load_parameters(io::ByteReader& in) override { sketch_.load_parameters(in); }
  size_t parameter_bytes() const override { return sketch_.parameter_bytes(); }

  const SignSketch& sketch() const { return sketch_; }

  // Another level's kernels (tests compare every level).
  void use_kernels(const split::KernelTable& table, binary::PlanesDotFn planes_dot) {
    split_.use_kernels(table);
    sketch_.use_kernel(planes_dot);
  }

 private:
  SplitF32Codec split_;
  SignSketch sketch_;
};

}  // namespace vidx
