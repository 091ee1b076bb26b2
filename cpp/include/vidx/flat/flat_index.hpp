// Exhaustive search: every query is compared with every stored vector. Ground truth, small
// sets, and the reference the approximate structures are tested against.
// Exact with float32 codes (quant "none") or with keep_vectors (it then scans the kept float32
// vectors); with another codec alone it is an exhaustive scan of the codes, re-ranked with
// the codec's precise level where it has one: as exact as the codes are.
// Living: a removed row's slot keeps its stale code until an add reuses it; searches skip it
// (slot_is_live) and compact() packs the live rows and gives the rest back.
// Appends run beside searches (concurrent_writes): the base reserves room under its exclusive
// lock (reserve_rows), add_rows writes codes into new slots past every search's count and then
// raises count_; a search scans the rows below the count_ it read and, when the base hid rows
// by then, skips the hidden ones. A scan reads every row below its count, free ones included,
// so a write that refills removed rows' slots (or trains the codec) takes the exclusive path.
#pragma once
#include <atomic>
#include <memory>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/index.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {

class FlatIndex final : public VectorIndex {
 public:
  FlatIndex(size_t dim, Metric metric, const IndexOptions& options);
  std::string kind() const override { return "flat"; }

 protected:
  // Exclusive: the write that trains the codec (what every search reads) and writes while
  // slots are free or pending (an add would reuse free slots that scans are reading).
  bool concurrent_writes() const override { return !codec_->needs_training() && removed_unreclaimed() == 0; }
  void reserve_rows(size_t slot_count) override { resize_rows(slot_count, false); }
  bool relearns_codec_before(size_t n) const override;
  std::function<void()> relearn_codec(const float* x, size_t n, ThreadPool& pool) override;
  void add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool, const ProgressFn& progress) override;
  void remove_rows(const uint32_t* /*slots*/, size_t /*n*/, ThreadPool& /*pool*/) override {}  // skipped until reused
  bool decode_rows(const uint32_t* slots, size_t n, float* out) const override;
  std::vector<uint32_t> compact_rows(ThreadPool& pool) override;
  void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                   int64_t* slots, ThreadPool& pool) const override;
  size_t structure_size() const override { return count_.load(std::memory_order_acquire); }
  size_t structure_memory() const override { return codes_.size() + kept_.size() + codec_->parameter_bytes(); }
  std::map<std::string, size_t> structure_memory_parts() const override;
  void write_sections(io::IndexFileWriter& out) const override;
  void read_sections(const io::IndexFileReader& in) override;
  void range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params, RangeResult& out,
                         ThreadPool& pool) const override;

 private:
  // filter: the rows this query may return (nullptr: all).
  void search_one(const float* q, size_t k, size_t rerank, const RowFilter* filter, float* distances,
                  int64_t* slots) const;
  // The vector stored in `slot` as float32: its kept copy, or its code decoded.
  void vector_of(uint32_t slot, float* out) const;
  // Reallocates the buffers to hold exactly `rows` rows (compact) or at least that (add).
  void resize_rows(size_t rows, bool exact);
  // The rows a search may scan, read once per query, and the filter it scans them with: when
  // rows are hidden (removed, or added and not yet published) and the query has no filter of
  // its own, live_rows() (checked after the count is read, so every row below it that is not
  // live is hidden by then).
  size_t rows_to_scan(const RowFilter*& filter) const;

  std::unique_ptr<Codec> codec_;
  relearning::Record learning_;  // codec/relearning.hpp
  AlignedBuffer codes_;   // one code every stride_ bytes
  size_t stride_ = 0;     // code_size() rounded up to 8 bytes
  std::unique_ptr<Codec> kept_codec_;  // "f32" when keep_vectors is set and codec_ is not float32
  AlignedBuffer kept_;
  io::SectionChecks mapped_checks_;  // of codes_ and kept_ kept in place from a mapped file
  std::atomic<size_t> count_{0};  // slots written so far; concurrent add_rows raise it
};

}  // namespace vidx
