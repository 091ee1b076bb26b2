// HNSW (Malkov & Yashunin) over any codec.
//
// Layout: level 0 is one 64-byte-aligned block of fixed-stride records
//   [code head | u32 count | 2M u32 neighbour slots]
// so visiting a node touches one contiguous record. A code's tail (Codec::head_size: LVQ
// residuals, binary's LVQ-8 level), which only re-ranking reads, lives in a separate array by
// slot, so the walk touches only traversal codes and links. Upper levels live in one arena,
// M slots (plus a count) per level for the few nodes that have them.
//
// Build: nodes are inserted in a seeded random order (so sorted or clustered rows build the
// same graph as shuffled ones), in batches that grow with the graph (at most ~2% of it). Within
// a batch every new node searches the graph as it was when the batch started and picks its
// neighbours in parallel without locks; then the reverse links are applied grouped by
// target node. The graph depends only on the rows and the seed, never on the number of
// threads or their timing.
#pragma once
#include <memory>
#include <mutex>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/common/scratch_pool.hpp"
#include "vidx/common/topk.hpp"
#include "vidx/index.hpp"

namespace vidx {

class HnswIndex final : public VectorIndex {
 public:
  HnswIndex(size_t dim, Metric metric, const IndexOptions& options);
  ~HnswIndex() override;
  std::string kind() const override { return "hnsw"; }

  struct SearchContext;  // per-thread scratch: visited marks, beam, gather buffers
  struct LinkRequest;    // a reverse link produced while building

 protected:
  void add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool) override;
  void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                   int64_t* slots, ThreadPool& pool) const override;
  size_t structure_size() const override { return count_; }
  size_t structure_memory() const override;
  std::map<std::string, size_t> structure_memory_parts() const override;
  void write_sections(io::IndexFileWriter& out) const override;
  void read_sections(const io::IndexFileReader& in) override;

 private:
  // ---- storage ----
  // Records are written only under the index write lock; const search code reads them.
  uint8_t* record(uint32_t slot) const {
    return const_cast<uint8_t*>(level0_.data()) + static_cast<size_t>(slot) * stride_;
  }
  // The head of a node's code (all a traversal reads), and its tail (re-ranking only).
  const uint8_t* code(uint32_t slot) const { return record(slot); }
  uint8_t* tail(uint32_t slot) const {
    return const_cast<uint8_t*>(tails_.data()) + static_cast<size_t>(slot) * tail_size_;
  }
  // [count, slot, slot, ...] of `slot` on `level` (level <= levels_[slot]).
  uint32_t* links(uint32_t slot, int level) const {
    if (level == 0) return reinterpret_cast<uint32_t*>(record(slot) + links_offset_);
    return const_cast<uint32_t*>(upper_.data()) + upper_offset_[slot] + static_cast<size_t>(level - 1) * (M_ + 1);
  }
  size_t capacity_at(int level) const { return level == 0 ? M0_ : M_; }
  void reserve(size_t n);
  // read_sections' level-0 records, codes and kept vectors: as memory holds them (version 2;
  // in place when the file is mapped), or as version 1 files split them (codes, links).
  void read_records(const io::IndexFileReader& in, uint64_t count);
  void read_version1_records(const io::IndexFileReader& in, uint64_t count);
  void read_kept(const io::IndexFileReader& in);
  void allocate_upper_links(uint32_t slot);
  int sample_level(uint32_t slot) const;

  // ---- search ----
  uint32_t greedy_descend(const QueryDistance& qd, uint32_t entry, float& entry_distance, int from_level,
                          int to_level) const;
  void search_layer(const QueryDistance& qd, uint32_t entry, float entry_distance, int level, size_t ef,
                    SearchContext& ctx) const;
  void search_one(const float* q, size_t k, const SearchParams& params, float* distances, int64_t* slots) const;
  // Re-scores the best `n` of the beam with precise distances and writes the best k.
  void rerank(const float* q, size_t n, size_t k, const SearchContext& ctx, float* distances, int64_t* slots) const;
  bool has_precise_distances() const { return codec_->reranks() || options().keep_vectors; }
  std::unique_ptr<SearchContext> acquire_context() const;
  void release_context(std::unique_ptr<SearchContext> ctx) const;

  // ---- build ----
  // The slots first..end-1 in the order they are inserted (a seeded shuffle).
  std::vector<uint32_t> insertion_order(uint32_t first, uint32_t end) const;
  // Inserts slots[0..n-1]; x: the rows added, the row of slot s at x + (s - first) * dim.
  void insert_batch(const float* x, uint32_t first, const uint32_t* slots, size_t n, ThreadPool& pool,
                    std::vector<std::unique_ptr<SearchContext>>& contexts);
  // x: the node's vector as added (the query of its neighbour search).
  void link_new_node(uint32_t slot, const float* x, SearchContext& ctx, std::vector<LinkRequest>& requests);
  // Applies requests grouped by (level, target), in parallel; with collect_sibling_links, also
  // returns (per group) the links between new nodes that the reverse-link pruning asks for.
  std::vector<std::vector<LinkRequest>> apply_link_requests(std::vector<LinkRequest>& requests, ThreadPool& pool,
                                                            std::vector<std::unique_ptr<SearchContext>>& contexts,
                                                            bool collect_sibling_links);
  // Links group[0..n-1] (same target and level) back to their sources, pruning on overflow.
  void apply_reverse_links(const LinkRequest* group, size_t n, SearchContext& ctx,
                           std::vector<LinkRequest>* sibling_links);
  // The neighbour-selection heuristic: walk candidates nearest first and keep one only if
  // it is closer to the base node than to every neighbour kept so far. Writes ctx.selected,
  // and in ctx.pruned_by, for each candidate, the kept neighbour that ruled it out (or kNotPruned).
  static constexpr uint32_t kNotPruned = 0xFFFFFFFFu;
  void select_neighbors(const std::vector<Neighbor>& sorted_candidates, size_t max_count, SearchContext& ctx) const;

  std::unique_ptr<Codec> codec_;
  // keep_vectors: float32 copies of the vectors, by slot, that re-ranking reads instead of
  // the codec's precise level.
  std::unique_ptr<Codec> kept_codec_;
  AlignedBuffer kept_;
  size_t M_;
  size_t M0_;
  size_t ef_construction_;
  double level_multiplier_;

  size_t head_size_ = 0;     // bytes of a code kept in its record
  size_t tail_size_ = 0;     // bytes of a code kept in tails_
  AlignedBuffer tails_;      // code tails by slot (empty for codecs whose head is the code)
  size_t links_offset_ = 0;  // where [count | links] starts in a record
  size_t stride_ = 0;        // bytes per level-0 record
  AlignedBuffer level0_;
  size_t capacity_ = 0;      // records allocated
  size_t count_ = 0;         // records in the graph

  std::vector<uint8_t> levels_;          // top level of each node
  std::vector<uint64_t> upper_offset_;   // where a node's upper links start in upper_
  std::vector<uint32_t> upper_;
  uint32_t entry_ = 0;
  int max_level_ = -1;                   // -1: empty graph

  mutable ScratchPool<SearchContext> contexts_;
};

}  // namespace vidx
