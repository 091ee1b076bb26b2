// HNSW (Malkov & Yashunin) over any codec.
//
// Layout: level 0 is two arrays by slot: code heads (all a walk scores), at a stride that keeps
// each within as few cache lines as its size allows, and link lists [u32 count | 2M u32
// neighbour slots], packed. A walk scores many more nodes than it expands, and reads only the
// head of one and only the list of the other, so the two gain nothing from sharing a record
// and a short head need not pad one out to whole lines. A code's tail (Codec::head_size: LVQ
// residuals, binary's LVQ-8 level, f32_split's lower halves), which only re-ranking reads, lives
// in a third array, so the walk touches only traversal codes and links. Upper levels live in
// one arena, M slots (plus a count) per level for the few nodes that have them.
//
// Build: a seeded random 30% of the nodes are inserted first, the rest in about the caller's
// order (so sorted or clustered rows build as good a graph as shuffled ones, and a helpful order
// still helps: hnsw_build.cpp), in batches that grow with the graph (at most ~0.5% of it). Within
// a batch every new node searches the graph as it was when the batch started and picks its
// neighbours in parallel without locks; then the reverse links are applied grouped by
// target node. The graph depends only on the rows, their order and the seed, never on the
// number of threads or their timing. An add to a float32 graph that at least doubles it (a
// first build) walks LVQ-8 copies of the vectors (a quarter of their bytes, held only during
// the add) and scores each beam again in float32 before choosing neighbours
// (hnsw_construction_codes.hpp).
//
// A living graph (hnsw_remove.cpp): remove_rows unlinks removed nodes and repairs the lists
// that pointed at them; their slots are then free and add_rows reuses them like new ones;
// compact_rows packs the live slots. Writes run beside searches (concurrent_writes): link
// words are atomic (graph/link_words.hpp), each list is written under its node's lock, a node
// carries a state (only live ones are returned), and a removed slot is given back only after a
// grace period in which every search that might still stand on it has finished. Storage grows
// only in reserve_rows, under the index's exclusive lock, so memory that searches read never
// moves while they run.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/common/scratch_pool.hpp"
#include "vidx/common/topk.hpp"
#include "vidx/graph/grace_period.hpp"
#include "vidx/graph/node_locks.hpp"
#include "vidx/index.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {

class VisitedSet;

class HnswIndex final : public VectorIndex {
 public:
  // The codec stored when quant= is left empty: float32's bytes and float32's results, walks
  // reading only the upper 16 bits of each value (memory-bound indexes: 1.1-1.5x plain float32
  // at equal recall; benchmarks/results/graph.md sections 17 and 21). Other kinds store
  // kDefaultQuant (a flat scan of f32_split would not be exact).
  static constexpr const char* kDefaultCodec = "f32_split";
  // Not "f32_sketch" (the same halves behind a one-bit sketch that drops far candidates
  // unread), even for cosine: 1.22x f32_split's speed on wordnet-minilm's walks, but 0.77-1.11x
  // on gaussian mixtures of 128-768 dimensions, 0.83-0.90x on glove-50 and fashion-mnist
  // (graph.md section 23).

  HnswIndex(size_t dim, Metric metric, const IndexOptions& options);
  ~HnswIndex() override;
  std::string kind() const override { return "hnsw"; }

  struct SearchContext;  // per-thread scratch: visited marks, beam, gather buffers
  struct LinkRequest;    // a reverse link produced while building
  struct ConstructionCodes;  // compact codes a bulk float32 build walks (hnsw_construction_codes.hpp)
  friend struct HnswTestAccess;  // cpp/tests: drives the hooks directly

 protected:
  // Grows storage to hold slots [0, slot_count); the caller holds the exclusive index lock
  // (the base calls it before concurrent add_rows; add_rows calls it itself otherwise).
  void reserve_rows(size_t slot_count) override;
  // Until the codec has learnt from its first rows (LVQ's mean), a write trains it, and
  // training changes what every search reads: such a write takes the exclusive path.
  bool concurrent_writes() const override { return !codec_->needs_training(); }
  void plan_layout(const float* x, size_t n, ThreadPool& pool) override;
  void settle_layout() override;
  // An automatic M is chosen by the add that brings the index to kRowsToChooseDegree rows, not by
  // the next one that grows storage (up to half as many rows later).
  bool plans_layout_before(size_t n) const override;
  bool relearns_codec_before(size_t n) const override;
  std::function<void()> relearn_codec(const float* x, size_t n, ThreadPool& pool) override;  // hnsw_relearn.cpp
  void add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool, const ProgressFn& progress) override;
  void forget_rows_from(size_t slot_count) override;
  void remove_rows(const uint32_t* slots, size_t n, ThreadPool& pool) override;
  bool decode_rows(const uint32_t* slots, size_t n, float* out) const override;
  std::vector<uint32_t> compact_rows(ThreadPool& pool) override;
  void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                   int64_t* slots, ThreadPool& pool) const override;
  size_t structure_size() const override { return count_.load(std::memory_order_acquire); }
  size_t structure_memory() const override;
  std::map<std::string, size_t> structure_memory_parts() const override;
  void write_sections(io::IndexFileWriter& out) const override;
  void read_sections(const io::IndexFileReader& in) override;
  void adopt_loaded_ids(const std::string& path) override;
  void range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params, RangeResult& out,
                         ThreadPool& pool) const override;

 private:
  // ---- storage ----
  // Heads and lists are written only under the index write lock (lists also under their node's
  // lock); const search code reads them.
  uint8_t* head(uint32_t slot) const {
    return const_cast<uint8_t*>(heads_.data()) + static_cast<size_t>(slot) * head_stride_;
  }
  // The head of a node's code (all a traversal reads), and its tail (re-ranking only).
  const uint8_t* code(uint32_t slot) const { return head(slot); }
  uint8_t* tail(uint32_t slot) const {
    return const_cast<uint8_t*>(tails_.data()) + static_cast<size_t>(slot) * tail_size_;
  }
  // Re-ranking may take the walk's distances as they are (see tails_all_zero_).
  bool walk_is_precise() const { return tails_all_zero_.load(std::memory_order_acquire); }
  // [count, slot, slot, ...] of `slot` on `level` (level <= levels_[slot]).
  uint32_t* links(uint32_t slot, int level) const {
    if (level == 0) return const_cast<uint32_t*>(level0_links()) + static_cast<size_t>(slot) * level0_list_words();
    return const_cast<uint32_t*>(upper_.data()) + upper_offset_[slot] + static_cast<size_t>(level - 1) * (M_ + 1);
  }
  size_t capacity_at(int level) const { return level == 0 ? M0_ : M_; }
  // Per-slot storage (level-0 heads and lists, tails, kept vectors, states) for n slots;
  // levels and upper links are reserve_rows' part.
  void reserve_records(size_t n);
  const uint32_t* level0_links() const { return reinterpret_cast<const uint32_t*>(links0_.data()); }
  // Words of one level-0 list in links0_: [count | M0 slots].
  size_t level0_list_words() const { return M0_ + 1; }
  // head_size_, tail_size_ and head_stride_ from the codec (whose layout a file may choose:
  // read_sections calls it again once the file's codec is loaded).
  void set_head_layout();
  // M, 2M on level 0, and what follows from them (set_head_layout follows from M0_ too).
  void set_degree(size_t M);
  // An automatic M is chosen (hnsw_degree.hpp) once the graph and the add x[0..n-1] hold
  // kRowsToChooseDegree rows, and a choice of the default again each time they hold
  // kDegreeRecheckGrowth times the rows it was made from (degree_due), before the add is laid out
  // (hnsw_widen.cpp): plan_degree decides
  // (into planned_degree_; a shared lock suffices), apply_planned_degree records the choice and
  // widens the lists if it is not the default (under the exclusive lock).
  void plan_degree(const float* x, size_t n, ThreadPool& pool);
  void apply_planned_degree();
  // Lays every list out for degree M (> M_), links kept: level 0's and the upper levels'.
  void widen_lists(size_t M);
  // The vector stored in `slot` as float32: its kept copy, or its code decoded (any slot holding a
  // code: live, or removed and not reused).
  void vector_of(uint32_t slot, float* out) const;
  // Refuses a file whose stored codes (or kept vectors) decode to NaN or infinity (finite_codes.hpp).
  void check_codes_finite(const io::IndexFileReader& in, uint64_t count) const;
  // read_sections' level-0 heads, lists, code tails and kept vectors: as memory holds them
  // (version 3; in place when the file is mapped), from version 2's records (head and list
  // in one), or as version 1 files split them (whole codes, lists).
  void read_level0(const io::IndexFileReader& in, uint64_t count);
  void read_version2_records(const io::IndexFileReader& in, uint64_t count);
  void read_version1_records(const io::IndexFileReader& in, uint64_t count);
  void read_kept(const io::IndexFileReader& in);
  int sample_level(uint32_t slot) const;

  // ---- node states (one byte per slot, atomic: writers change them while searches read) ----
  // An add's nodes are kInserting until their lists are written (link_new_node), kLinked from
  // then until the add is done (still hidden from results), kLive after.
  enum NodeState : uint8_t { kEmpty = 0, kInserting = 1, kLive = 2, kRemoved = 3, kLinked = 4 };
  NodeState state(uint32_t slot) const {
    return static_cast<NodeState>(states_[slot].load(std::memory_order_acquire));
  }
  void set_state(uint32_t slot, NodeState s) { states_[slot].store(s, std::memory_order_release); }
  // Nodes a search may return: inserted, not removed here, and not hidden by the base (whose
  // remove hides a slot before remove_rows runs, and whose add publishes it after add_rows).
  bool returnable(uint32_t slot) const { return state(slot) == kLive && slot_is_live(slot); }
  // Starts loading what returnable reads: a node's state (a byte a node) and its label (eight),
  // scattered reads that missed L1 and, for the labels, L2 once per re-ranked candidate (perf of
  // a wordnet lvq4x4 batch: ~4% of the samples). Saved wordnet graphs at ef 24, ratio to hnswlib
  // in alternating processes (graph.md section 32): lvq4x4 3.52x -> 3.66x single-thread, 3.08x ->
  // 3.18x 2-thread batch; f32_split 2.39x -> 2.47x.
  void prefetch_returnable(uint32_t slot) const {
    __builtin_prefetch(&states_[slot]);
    prefetch_slot_is_live(slot);
  }
  // Nodes a new link may point to (a node being inserted is linkable, a removed one is not).
  bool linkable(uint32_t slot) const {
    const NodeState s = state(slot);
    return s == kLive || s == kInserting || s == kLinked;
  }
  // Nodes a walk can leave: their lists are written (a node being inserted has none yet).
  bool walkable(uint32_t slot) const {
    const NodeState s = state(slot);
    return s == kLive || s == kLinked;
  }
  // The entry point and top level, read together: (max_level + 1) << 32 | entry; 0 = empty.
  // Returns the top level (-1: empty graph) and sets `entry`, from one load.
  int entry_point(uint32_t& entry) const {
    const uint64_t packed = entry_state_.load(std::memory_order_acquire);
    entry = static_cast<uint32_t>(packed);
    return static_cast<int>(packed >> 32) - 1;
  }
  int max_level() const { return static_cast<int>(entry_state_.load(std::memory_order_acquire) >> 32) - 1; }
  void set_entry(uint32_t entry, int max_level) {
    entry_state_.store((static_cast<uint64_t>(max_level + 1) << 32) | entry, std::memory_order_release);
  }
  // Writes `count` slots as the list `lk` (the caller holds the node's lock).
  static void write_list(uint32_t* lk, const uint32_t* slots, size_t count);
  // Each candidate's distance from `qd`, into its .distance (one batch call).
  void score_with(const QueryDistance& qd, std::vector<Neighbor>& candidates, SearchContext& ctx) const;
  // Distances from `base`'s code to each candidate's, into their .distance.
  void score_from(uint32_t base, std::vector<Neighbor>& candidates, SearchContext& ctx) const;

  // ---- removal (hnsw_remove.cpp) ----
  // remove_rows' work once its n slots are marked removed: every list that linked to them
  // repaired, refined where due, orphans relinked, the entry point chosen again where it moved
  // (entry_moved), unreachable nodes reconnected. contexts: one per worker, acquired here,
  // released by the caller (also when this throws).
  void repair_around_removed(size_t n, bool entry_moved, ThreadPool& pool,
                             std::vector<std::unique_ptr<SearchContext>>& contexts);
  // Rewrites `node`'s list on `level` without removed nodes: its live neighbours plus the live
  // neighbours of its removed ones (plus `extra`, when given), chosen by select_neighbors.
  void repair_list(uint32_t node, int level, SearchContext& ctx, const std::vector<Neighbor>* extra = nullptr);
  // After a removal (hnsw_refine.cpp): each list due a refine is chosen again among what a beam
  // search around its node finds. due[s]: bit l set when slot s's list on level l is due.
  void refine_repaired(const std::vector<uint32_t>& due, ThreadPool& pool,
                       std::vector<std::unique_ptr<SearchContext>>& contexts);
  // After widen_lists (hnsw_widen.cpp): every list of the live nodes below slot `end`, filled for
  // the old M, gains what a beam search around its node finds, up to the new capacity, and links
  // back (hnsw_widen.cpp). Reports as phase "relink" (a report that throws stops the add once every
  // list has grown).
  void relink_widened(size_t end, ThreadPool& pool, std::vector<std::unique_ptr<SearchContext>>& contexts,
                      const ProgressFn& progress);
  // ---- indexes fed in order (hnsw_revisit.cpp) ----
  // Whether the add of rows x[0..n-1] into slots from `first` lies in one region of the graph:
  // pairs of its rows far nearer each other than its rows and the graph's stored ones are.
  bool add_is_one_region(const float* x, size_t n, uint32_t first) const;
  // After an add of `ordered_rows` rows in order (in runs, or in one region): a few older rows
  // for each, in turn from revisit_cursor_, search the graph again and link to what they find.
  // Reports as phase "revisit" (a report that throws stops the add once they all have).
  void revisit_older_rows(size_t ordered_rows, ThreadPool& pool, std::vector<std::unique_ptr<SearchContext>>& contexts,
                          const ProgressFn& progress);
  // A list to grow (grow_lists): `node`'s on `level`.
  struct GrownList {
    uint32_t node;
    int level;
  };
  // Where grow_lists' search for a list's node starts: at the node itself on its list's level (the
  // graph around it), or from the entry point down (as an insertion's).
  enum class SearchFrom { kNode, kEntryPoint };
  // Each list gains what a beam search of width `beam` for its node finds (add_links_found), and
  // the gains link back; in chunks that search the graph the earlier ones left (the same graph at
  // any thread count). Reports as `phase` after each chunk; a report that throws takes effect
  // (rethrown) once every list has grown. The caller holds remove_mutex_.
  void grow_lists(const std::vector<GrownList>& lists, size_t beam, SearchFrom from, ThreadPool& pool,
                  std::vector<std::unique_ptr<SearchContext>>& contexts, const char* phase,
                  const ProgressFn& progress);
  // node's list on `level` (the caller holds its lock) gains, up to its capacity, what
  // select_neighbors keeps of its list and `found` beyond the list; each gain is also a request
  // for a reverse link.
  void add_links_found(uint32_t node, int level, const std::vector<Neighbor>& found, SearchContext& ctx,
                       std::vector<LinkRequest>& requests);
  // Whether `node`'s list on `level`, which a removal just cost `lost` of its `degree` links,
  // is due a refine (counts the loss towards the next one when not).
  bool due_for_refine(uint32_t node, int level, uint32_t lost, uint32_t degree);
  // Nodes that no list links to any more (their in-links all came from removed nodes) ask
  // their own neighbours to link back, as a new node does.
  void relink_orphans(ThreadPool& pool, std::vector<std::unique_ptr<SearchContext>>& contexts);
  // Live nodes that level 0 no longer reaches from the entry point (a removal that took most
  // of a neighbourhood can leave survivors with no links in or out) are linked again: each to
  // the reachable nodes a search from the entry finds, and the nearest of those to it.
  void reconnect_unreachable(SearchContext& ctx);
  // node's level-0 list becomes `chosen`, topped up with its own live links.
  void relink_level0(uint32_t node, std::vector<uint32_t>& chosen);
  // `from` links to `to` on level 0 (replacing its farthest link when its list is full).
  void link_in_at_level0(uint32_t from, uint32_t to);
  // After the entry point was removed: the highest node a walk can leave (hnsw_remove.cpp).
  void choose_new_entry();
  // ---- search ----
  // seen: scratch marks (the context's visited set, reset here).
  uint32_t greedy_descend(const QueryDistance& qd, uint32_t entry, float& entry_distance, int from_level,
                          int to_level, VisitedSet& seen) const;
  void search_layer(const QueryDistance& qd, uint32_t entry, float entry_distance, int level, size_t ef,
                    SearchContext& ctx, size_t window = 0) const;
  // The two above over any codes by slot: code_of(slot) -> const uint8_t* (hnsw_context.hpp).
  // at_level_end(level, entry) -> the entry to go on from after each level (an insertion moves
  // along the chain of its copies there).
  template <class CodeOf, class AtLevelEnd>
  uint32_t descend(const QueryDistance& qd, uint32_t entry, float& entry_distance, int from_level, int to_level,
                   CodeOf code_of, VisitedSet& seen, AtLevelEnd at_level_end) const;
  template <class CodeOf>
  void walk_layer(const QueryDistance& qd, uint32_t entry, float entry_distance, int level, size_t ef,
                  SearchContext& ctx, CodeOf code_of, size_t window = 0) const;
  // Returns how many of the k results it found (the rest are -1).
  size_t search_one(const float* q, size_t k, const SearchParams& params, float* distances, int64_t* slots) const;
  // The same with the caller's scratch, registered with grace_ by the caller.
  size_t search_one(const float* q, size_t k, const SearchParams& params, SearchContext& ctx, float* distances,
                    int64_t* slots) const;
  // Re-scores `walked` (a walk's candidates, nearest first by the walk's distances) with
  // precise distances and writes the best k (live nodes only); returns how many it wrote.
  // adaptive (no rerank= given): stops early once the walk's distances, allowing for their
  // error, leave no candidate that could enter the k.
  size_t rerank(const float* q, const std::vector<Neighbor>& walked, size_t k, bool adaptive, float* distances,
                int64_t* slots) const;
  // Re-ranking reads what the walk never touched (code tails kept apart, or kept float32
  // vectors), cold in cache: it requests the bytes of the candidates it will surely score, and
  // then a few ahead, before scoring, so their misses overlap instead of queueing one at a time.
  // Into L2 (simd::prefetch_bytes_to_l2): a dozen kept vectors are hundreds of lines, more than
  // L1 tracks at once. Alternating processes, ratio to hnswlib in each (seven pairs): wordnet
  // lvq4 + f32 3.18x -> 3.44x, fashion-mnist 2.80x -> 2.91x; glove lvq8 + f32 unchanged.
  void prefetch_precise(uint32_t slot) const;
  // Replaces the distances of `found` by precise ones and sorts it again.
  void rescore(const float* q, std::vector<Neighbor>& found) const;

  // ---- filtered and range search (hnsw_filtered.cpp) ----
  // The k nearest rows `filter` allows (every live row when null); returns how many were found.
  size_t search_filtered(const float* q, size_t k, const SearchParams& params, const RowFilter* filter,
                         float* distances, int64_t* slots) const;
  // The best `width` rows that `filter` allows (every row when null) by the walk's distance,
  // nearest first: a filtered graph walk, or an exact scan of the allowed rows when that is
  // cheaper (few allowed rows, a width of every live row, or a walk that runs past what the
  // scan would cost). Given the
  // float query, an index that keeps float32 vectors scans those instead of the walk's codes,
  // and one whose codes' precise level is the stored float32 (f32_split) scans by that: then
  // `out` holds float32's distances, and it returns true.
  bool nearest_allowed(const QueryDistance& qd, size_t width, const RowFilter* filter, std::vector<Neighbor>& out,
                       const float* query = nullptr) const;
  // nearest_allowed's exact scan for codes whose precise level is the stored float32
  // (f32_split): the `width` nearest of the first `count` slots `filter` allows (all when null),
  // by float32's distance to `query`, nearest first.
  std::vector<Neighbor> nearest_allowed_precise(const float* query, size_t count, const RowFilter* filter,
                                                size_t width) const;
  // nearest_allowed's graph walk from the entry point down, over the nodes allowed_slot(slot)
  // accepts; `allowed` estimates how many rows the filter allows. Returns false (out
  // incomplete) when the walk ran past its budget.
  template <class Allowed>
  bool walk_allowed(const QueryDistance& qd, uint32_t entry, int max_level, size_t width, size_t allowed,
                    const RowFilter* filter, Allowed allowed_slot, std::vector<Neighbor>& out) const;
  // Every allowed row within `radius` of q, found by walks widened while they keep finding more.
  void range_one(const float* q, float radius, size_t ef, const RowFilter* filter, std::vector<Neighbor>& out) const;
  bool has_precise_distances() const { return codec_->reranks() || options().keep_vectors; }
  // The distance a search walks with: with kept float32 vectors every candidate is re-scored,
  // so the codec may use its faster, rounded walk (Codec::prepare_reranked_walk).
  std::unique_ptr<QueryDistance> prepare_walk(const float* q) const {
    return kept_codec_ ? codec_->prepare_reranked_walk(q) : codec_->prepare(q);
  }
  std::unique_ptr<SearchContext> acquire_context() const;
  void release_context(std::unique_ptr<SearchContext> ctx) const;

  // ---- build ----
  // The rows 0..n-1 of x in the order they are inserted (seeded by the seed and the first slot,
  // shaped by how near consecutive rows are; see hnsw_build.cpp for why it is neither the
  // caller's order nor a plain shuffle).
  // in_runs: whether its consecutive rows are far nearer each other than random pairs of them.
  std::vector<uint32_t> insertion_order(const float* x, uint32_t first, size_t n, bool& in_runs) const;
  // How an add's nodes look for their neighbours.
  struct InsertionSearch {
    const ConstructionCodes* walk_codes = nullptr;  // walked instead of the index's codes
    size_t expanded = 0;  // of the ef_construction candidates a search keeps, how many it expands (0: all)
    bool rows_in_runs = false;  // the add's rows come in runs: look wider (hnsw_build.cpp, kRunsSparseBeam)
    // The slots of the node's batch, linked to in the room its lists have left (add_batch_siblings,
    // kBatchSiblingsMax in hnsw_build.cpp); none when null.
    const uint32_t* batch_slots = nullptr;
    size_t batch_size = 0;
  };
  // Appends to ctx.selected (the node's neighbours in the graph on `level`) the nearest of its
  // batch's other nodes, as many as the list has room for (kBatchSiblingsMax).
  void add_batch_siblings(uint32_t slot, int level, const QueryDistance& exact, const InsertionSearch& search,
                          SearchContext& ctx) const;
  // Inserts rows[0..n-1] (indices into x) into slots[rows[i]].
  void insert_batch(const float* x, const uint32_t* slots, const uint32_t* rows, size_t n, ThreadPool& pool,
                    std::vector<std::unique_ptr<SearchContext>>& contexts, const InsertionSearch& search);
  // Writes the codes of rows x[0..n-1] into their fresh slots.
  void write_records(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool);
  // An add that stopped partway (its progress report threw): its n rows (linked or not) are
  // taken out as a remove takes nodes out.
  void take_back(const uint32_t* slots, size_t n, ThreadPool& pool);
  // After a stopped add that trained the codec: the codec as the index was made with it.
  void untrain_codec();
  // x: the node's vector as added (the query of its neighbour search). With `walk_codes`, the
  // search walks them and its beam is scored again in float32 before neighbours are chosen.
  void link_new_node(uint32_t slot, const float* x, SearchContext& ctx, std::vector<LinkRequest>& requests,
                     const InsertionSearch& search);
  // Adds ctx.sparse (nearest nodes of level 1) to ctx.candidates, without repeats, and sorts them.
  void add_sparse_candidates(uint32_t slot, SearchContext& ctx) const;
  // What a batch that starts when the graph holds `graph_size` of the add's `final_size` slots
  // passes insert_batch as InsertionSearch::expanded (hnsw_build.cpp: early insertions expand fewer).
  size_t expanded_by_early_insertions(size_t graph_size, size_t final_size) const;
  // Whether an add of n rows walks construction codes: graphs of exact (float32) codes, or of codes
  // wider than those by a few lines (f32_split of many dimensions), and adds that at least double
  // the graph (and are not small).
  bool wants_construction_codes(size_t n) const;
  // Construction codes for an add of rows x[0..n-1] into `slots` (written, and inserting), and
  // for every node already in the graph. The caller is the only adder meanwhile.
  std::unique_ptr<ConstructionCodes> make_construction_codes(const float* x, size_t n, const uint32_t* slots,
                                                             ThreadPool& pool) const;
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
  // Of `owner`'s copies (same_head) among the candidates it keeps only a few (mark_surplus_copies).
  // fill_margin > 0 (not under "ip"): a list left under max_count takes, nearest first, the
  // candidates ruled out that no kept neighbour is nearer to by that factor.
  static constexpr uint32_t kNotPruned = 0xFFFFFFFFu;
  void select_neighbors(const std::vector<Neighbor>& sorted_candidates, size_t max_count, uint32_t owner,
                        SearchContext& ctx, float fill_margin = 0.f) const;

  // ---- copies: nodes of one head (hnsw_copies.cpp) ----
  // Whether two nodes hold the same head: to a search's walk, the same vector (hnsw_copies.cpp).
  bool same_head(uint32_t a, uint32_t b) const;
  // Marks in ctx.copy_of_owner which candidates are copies of `owner`, and which of those a list
  // of `max_count` leaves out: it keeps the few nearest to owner in slot number, below and above in turn.
  void mark_surplus_copies(const std::vector<Neighbor>& candidates, uint32_t owner, size_t max_count,
                           SearchContext& ctx) const;
  // Adds to `links`, both ways, a chain in slot order through the sources of a reverse-link
  // group (new nodes of one batch) that are copies of each other.
  void chain_copies_among_sources(const LinkRequest* group, size_t n, int level, SearchContext& ctx,
                                  std::vector<LinkRequest>& links) const;
  // From `entry`, a copy of `node`, the copy on `level` whose slot number is nearest node's,
  // followed along the copies' chain there (the entry itself when it is no copy).
  uint32_t nearest_copy_by_slot(uint32_t entry, uint32_t node, int level) const;
  // When the candidates hold copies of `node` (an insertion's search on `level` found them), adds
  // the copies beside node's place in their chain there, which that search may not have reached.
  void add_copies_beside(uint32_t node, int level, std::vector<Neighbor>& candidates) const;
  // Of the candidates that mark_surplus_copies found to be copies of `node`, the one nearest to
  // it in slot number (`otherwise` when there is none nearer).
  uint32_t nearest_copy_among(const std::vector<Neighbor>& candidates, uint32_t node, const SearchContext& ctx,
                              uint32_t otherwise) const;

  std::unique_ptr<Codec> codec_;
  relearning::Record learning_;  // codec/relearning.hpp
  // keep_vectors: float32 copies of the vectors, by slot, that re-ranking reads instead of
  // the codec's precise level.
  std::unique_ptr<Codec> kept_codec_;
  AlignedBuffer kept_;
  // M was left automatic and no add has chosen it yet (the lists are laid out for kDefaultDegree
  // meanwhile; a file keeps it so). Cleared, under the exclusive lock, by the add that brings
  // the graph to kRowsToChooseDegree rows: in settle_layout, or in add_rows for a first add that
  // runs alone (a codec that trains on it).
  bool degree_pending_;
  size_t planned_degree_ = 0;  // plan_degree's choice, until applied (0: none)
  size_t planned_from_ = 0;    // the rows plan_degree chose from
  // An automatic M that chose the default: the rows it chose from, so that it chooses again as the
  // index grows (hnsw_degree.hpp, kDegreeRecheckGrowth); 0 where M is settled (given, chosen wider,
  // or read from a file that does not say). Saved with the graph; changed under the exclusive lock.
  size_t degree_checked_at_ = 0;
  // Whether an add that brings the graph to `rows` rows chooses its automatic M (again).
  bool degree_due(size_t rows) const;
  // Slots below this were linked for the old M when a late choice widened the lists; the add_rows
  // that follows (the add that widened them) relinks them (0: none due; set and taken within one add).
  std::atomic<size_t> relink_below_{0};
  size_t M_ = 0;
  size_t M0_ = 0;
  size_t ef_construction_ = 0;
  double level_multiplier_ = 0.0;

  size_t head_size_ = 0;     // bytes of a code kept in heads_
  size_t tail_size_ = 0;     // bytes of a code kept in tails_
  // Every stored tail is zero bytes so far, kept only for a codec whose walk is then exact
  // (Codec::walks_exactly_with_zero_tails) re-ranked from its tails: false from the start for
  // any other, cleared for good by the first non-zero tail (before its node is linked), and
  // false for tails searched in place from a mapped file, which are not read at load. While
  // it holds, re-ranking reads no tails.
  std::atomic<bool> tails_all_zero_{false};
  AlignedBuffer tails_;      // code tails by slot (empty for codecs whose head is the code)
  size_t head_stride_ = 0;   // bytes between two slots' heads
  AlignedBuffer heads_;      // code heads by slot
  AlignedBuffer links0_;     // level-0 lists by slot, M0 + 1 words each
  io::SectionChecks mapped_checks_;  // of the sections above kept in place from a mapped file
  size_t capacity_ = 0;      // slots allocated
  std::atomic<size_t> count_{0};  // slots in use or freed: one past the highest slot ever added

  // Level and upper links of every slot < capacity_, allocated when the slot is (a slot keeps
  // its level when it is reused, so a reused slot finds its upper lists in place).
  std::vector<uint8_t> levels_;          // top level of each node
  std::vector<uint64_t> upper_offset_;   // where a node's upper links start in upper_
  std::vector<uint32_t> upper_;
  std::unique_ptr<std::atomic<uint8_t>[]> states_;  // NodeState by slot
  std::atomic<uint64_t> entry_state_{0};
  std::mutex entry_mutex_;               // writers updating the entry point
  std::mutex remove_mutex_;              // one remove_rows at a time
  std::shared_mutex bulk_gate_;          // add_rows: shared, or exclusive for one with construction codes
  // Level-0 links each node lost to removals since its list was last refined (saturating;
  // written only by remove_rows, under remove_mutex_; not saved: a loaded index starts at 0).
  std::vector<uint8_t> links_lost_;
  // The slot the next revisit starts from (hnsw_revisit.cpp; under remove_mutex_, or the exclusive
  // lock; saved, and moved with the rows by compact()).
  size_t revisit_cursor_ = 0;
  graph::NodeLocks node_locks_;
  mutable graph::GracePeriod grace_;

  mutable ScratchPool<SearchContext> contexts_;
};

}  // namespace vidx
