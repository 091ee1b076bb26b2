// Exact search: every query is compared with every stored code. Ground truth, small sets,
// and the reference the approximate structures are tested against.
#pragma once
#include <memory>

#include "vidx/codec/codec.hpp"
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/index.hpp"

namespace vidx {

class FlatIndex final : public VectorIndex {
 public:
  FlatIndex(size_t dim, Metric metric, const IndexOptions& options);
  std::string kind() const override { return "flat"; }

 protected:
  void add_rows(const float* x, size_t n, ThreadPool& pool) override;
  void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                   int64_t* slots, ThreadPool& pool) const override;
  size_t structure_size() const override { return count_; }
  size_t structure_memory() const override { return codes_.size() + codec_->parameter_bytes(); }
  std::map<std::string, size_t> structure_memory_parts() const override {
    // Codes stay whole here: their heads are "codes", their tails "rerank_codes".
    const size_t heads = codes_.size() / codec_->code_size() * codec_->head_size();
    return {{"codes", heads}, {"rerank_codes", codes_.size() - heads}, {"codec", codec_->parameter_bytes()}};
  }
  void write_sections(io::IndexFileWriter& out) const override;
  void read_sections(const io::IndexFileReader& in) override;

 private:
  void search_one(const float* q, size_t k, size_t rerank, float* distances, int64_t* slots) const;

  std::unique_ptr<Codec> codec_;
  AlignedBuffer codes_;
  size_t count_ = 0;
};

}  // namespace vidx
