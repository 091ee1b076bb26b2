// HNSW construction: batched and deterministic (see hnsw_index.hpp). Each list is written
// under its node's lock, so several add_rows calls (and remove_rows) may run at once.
#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>
#include <utility>
#include <vector>

#include "hnsw_construction_codes.hpp"
#include "hnsw_context.hpp"
#include "hnsw_row_sampling.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/common/zero_bytes.hpp"
#include "vidx/graph/link_words.hpp"
#include "vidx/hnsw/hnsw_index.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {

namespace {

// A batch never exceeds this fraction of the graph it is inserted into: new nodes of one
// batch do not see each other, which costs recall only when batches are large. On glove6b-50
// (100k rows, three seeds) 2% lost 0.002 at ef 24 against 0.5%, and 0.1% or one node at a
// time gained nothing more; on tight synthetic clusters 0.5% gained 0.01-0.017 at ef 16.
constexpr double kBatchFraction = 0.005;
// Nor this fraction of its own add. An add much smaller than the graph often brings one region
// (a document's chunks, a day of logs, rows of a category), and batches sized by the graph
// alone put much of that region in one batch whose nodes cannot see each other: glove6b-50's
// first 50,000 rows fed in adds of 1,000 sorted by cluster lost 0.028-0.039 at ef 16 against
// the same adds shuffled (0.7190 / 0.7144 against 0.7474 / 0.7535, two seeds; hnswlib on the
// sorted feed 0.7376). With this cap 0.7495 / 0.7449 against 0.7479 / 0.7526, build time level
// (1.8-2.1 s); adds of 200 0.7533 / 0.7441 (before 0.7214 / 0.7163); wordnet
// and fashion-mnist sorted adds level with shuffled (graph.md section 42). A first add, whose
// graph is itself, never meets the cap. Batches of a few nodes cost more than their work (each
// one's phases meet at the pool): without kMinAddBatch, adds of 100 rows into that graph took
// 2-2.4x as long; with it, medians of three alternating runs, 4.38 ms against 4.13 before and
// adds of 400 18.9 ms against 18.0, while adds of 200 sorted keep 0.7533 / 0.7441.
constexpr double kAddBatchFraction = 0.02;
constexpr double kMinAddBatch = 16;

// The nodes of a batch that holds at most this many also link to each other: no walk finds them
// (nothing links to them before the batch ends), and a small batch is often all one region. An
// add of one document's chunks is one batch once the graph holds a few thousand rows (a batch is
// at most 0.5% of the graph, and an add's at least kMinAddBatch), whose chunks are each other's
// nearest rows: 49,026 ~90-word chunks of 4,420 man pages (all-MiniLM-L6-v2, cosine), M=16,
// ef_construction 200, fed a page an add, had 0.438 of each row's five nearest rows of its own
// page in its level-0 list against 0.723 fed shuffled, and recall@10 at ef 10 / 20 0.882 / 0.948
// against 0.911 / 0.961 (hnswlib, which inserts one row at a time, 0.894 / 0.953; graph.md
// sections 55-56). Each node scores the others once a level, a few dozen distances against the
// thousands of its walk; larger batches come from large adds and large graphs, whose batches
// are spread over the add (insertion_order) and rarely hold each other's neighbours.
constexpr size_t kBatchSiblingsMax = 64;

// The order an add inserts its rows in. The caller's order can hurt a graph: rows that arrive in
// runs of near neighbours (chunks of one document, rows grouped by category) would fill a batch
// with nodes that cannot see each other, and rows that arrive region by region leave the early
// graph, whose links every later node walks, knowing only the first regions (hnswlib, inserting
// 8,000 rows of 400 tight clusters sorted by cluster: recall 0.87 at ef 10 against 0.99
// shuffled). But it can also help: glove's rows come in word-frequency order, and frequent words
// inserted first become well-linked hubs (hnswlib loses 0.002-0.003 at ef 24 when they are
// shuffled; a full shuffle left vidx 0.007-0.009 below hnswlib in file order at ef 24). So, when
// the rows come in runs of near neighbours (kLocalRunsRatio below), a random skeleton of
// kSkeletonShare of the rows goes first, in random order: every region has early members,
// whatever the order. The rest keeps the caller's order at the scale of the add, each row moved
// by a random distance of up to kOrderWindow of the add, which breaks runs of neighbours far
// beyond a batch. Recall@10 at ef 24 / 32, M=16, efC=200, mean of 3 seeds:
// glove6b-50 (390,000 rows, file order) 0.9346 / 0.9535 shuffled -> 0.9388 / 0.9567 (hnswlib
// 0.9435 / 0.9603 in the same runs); without the skeleton 0.9404 / 0.9590, but the sorted tight
// clusters then fall to 0.905 (0.979 with it, 0.989 shuffled); a skeleton of half the rows keeps
// little of glove's gain (0.9359). wordnet-minilm-384 in dictionary order gives up 0.003 (0.9515
// -> 0.9485, hnswlib 0.9453), sorted by cluster 0.9495 -> 0.9505 (hnswlib 0.9523). Measured with
// benchmarks/recall_parity.py --order; benchmarks/results/graph.md section 9.
constexpr double kSkeletonShare = 0.3;
constexpr double kOrderWindow = 0.1;

// The skeleton is for rows that arrive in runs of near neighbours, and costs the graph where
// they do not, so an add takes one only when its consecutive rows are far nearer each other than
// random pairs of its rows are: the median squared distance of consecutive rows over that of
// random pairs below kLocalRunsRatio. Recall@10 at equal ef, skeleton against none (Intel Xeon,
// M=16, efC=200, graph.md section 34), with that ratio: 8,000 rows of 400 tight clusters sorted
// by cluster (0.0025) 0.986-0.991 against 0.901-0.914 at ef 10 (M=12); gaussian mixtures sorted
// by cluster 0.961-0.965 against 0.924-0.925 (0.005), level from 0.04 to 0.41; glove6b-50 in
// file order (0.93) 0.9429 against 0.9460 at ef 96 over 10,000 queries (hnswlib 0.9477), sorted
// by cluster (0.75) 0.9463 against 0.9482; wordnet-minilm in dictionary order and sorted by
// cluster (0.77) and fashion-mnist sorted by cluster (0.28) level or slightly below. The bound
// sits well above where the skeleton starts to matter.
constexpr double kLocalRunsRatio = 0.25;
constexpr size_t kLocalitySamples = 2000;

// An add whose rows come in runs (above: a document store fed document by document, logs day by
// day, rows category by category) brings its clusters whole, so a new node's ef_construction beam
// fills with the few clusters nearest it, each several times over (8,000 rows of 400 tight
// clusters fed in sorted adds: a late row's 64 nearest earlier rows hold 4.2 other clusters on
// average, against 10.4 shuffled), and the heuristic keeps one link a cluster; and a cluster
// that arrives after its neighbours gets no reverse links from them, so its lists hold only what
// its own selection kept. Searches then stopped in a late cluster that never linked to the
// earlier cluster beside it. The nodes of such adds, and only they, look wider:
// - a node of level 0 also takes the kRunsSparseBeam * M nearest nodes of level 1, a random
//   1/M of the graph that spans clusters the level-0 beam misses (found by a beam there where
//   the descent passes greedily);
// - a list the heuristic leaves under M is filled with candidates it ruled out that no kept
//   neighbour is kRunsFillMargin times nearer to (squared distances: about 1.4x).
// Recall@10 at equal ef (graph.md section 52), means of two seeds: the tight clusters in adds of
// 400, M=12, ef_construction 64, ef 10 / 64: 0.908 / 0.964 -> 0.959 / 0.993 (shuffled adds 0.984
// / 1.000); the defaults, ef 10: 0.982 -> 0.993 (0.995); in one sorted add 0.989 -> 0.999; a
// sorted Gaussian mixture in adds of 4,000, ef 16: 0.954 -> 0.960 (0.963). 100,000 64-d rows of
// 5,000 documents of 20 near-copies fed in adds of 2,000 in document order, ef 10 / 40, one seed:
// 0.764 / 0.935 -> 0.802 / 0.945 (shuffled 0.925 / 0.994; hnswlib 0.800 / 0.936). Their builds
// take 1.3-1.4x as long (medians of five alternating builds), and search 1.09-1.11x faster at
// equal recall (the documents). Each part alone did less (section 52). Adds whose rows do not
// come in runs (the ann-benchmarks sets in any of their orders) build the same graphs as before.
// What an add cannot see, the regions that come after it, older nodes look for again as rows
// come in order (hnsw_revisit.cpp; the figures above are from before that).
constexpr size_t kRunsSparseBeam = 2;
constexpr float kRunsFillMargin = 2.0f;

// A node inserted early has its list rewritten again and again by the reverse links of the nodes
// inserted after it, so its own search matters less than a late node's. Batches that start while
// the graph holds less than kEarlyShare of the add's final size expand only kEarlyExpandedShare of
// the ef_construction candidates their searches keep (all of which neighbour selection still sees:
// CandidateBuffer's split beam). A build's time follows the candidates its searches score, so it
// drops; recall at equal ef drops a little, search speed at equal recall does not. Intel Xeon, 2
// threads, M=16, ef_construction 200 (benchmarks/results/graph.md section 28): glove6b-50 26.5 ->
// 22.0 s, wordnet-minilm-384 4.57 -> 4.08 s, recall at equal ef +0.0004 to -0.0010 (all test
// queries, two and three seeds); saved graphs against hnswlib at recall 0.95, 5,000 spread
// queries: glove 2.17x -> 2.16x, wordnet 1.89x -> 1.92x. Expanding 100 of 200 gave up two to three
// times the recall. A uniformly smaller ef_construction costs more recall for less time saved
// (glove's first 150,000 rows: 160 saved 15% for up to -0.0029, this rule at 100 saved 26% for up
// to -0.0020). Sparing only the first 30% (the skeleton) lost more than half as much as sparing the
// first 70%, and sparing the last insertions instead lost two to three times as much.
constexpr double kEarlyShare = 0.7;
constexpr double kEarlyExpandedShare = 0.6;

// Construction codes pay off for adds of at least this many rows that at least double the
// graph (the first build, above all): they encode every row of the graph and hold the codes
// while the add runs.
constexpr size_t kConstructionCodesMinRows = 4096;

// LVQ-8: walking it left recall at equal ef within 0.0005 of walking float32 on
// wordnet-minilm-384, fashion-mnist-784, glove6b-50 and tight synthetic clusters. LVQ-4 builds
// ~20% faster on the first two and was as good there, but lost 0.015-0.04 at ef 16 on tight
// clusters, whose neighbours differ by less than its 4-bit step.
constexpr const char* kConstructionCodec = "lvq8";

// Codes that are not float32 are walked through construction codes only when these spare the
// walk at least this many bytes a candidate. f32_split, Intel Xeon, 2 threads, alternating
// processes (graph.md section 26): wordnet-minilm-384 (768-byte upper halves against a
// 392-byte LVQ-8 code, cosine) builds 5.55-5.77 -> 4.85-4.99 s; fashion-mnist-784 (1568
// against 792 bytes, but L2: its bounded walks read a fraction of each code) 2% slower,
// 6.68-6.83 -> 6.86-6.98 s; glove6b-50 (100 against 58 bytes) slower, 28.8-30.3 -> 32.0 s
// (the walk then re-scores its beam from codes it did not touch).
constexpr size_t kConstructionCodesMinSavedBytes = 256;

// Neighbour selection drops a candidate c only when a kept neighbour s is nearer to it by this
// factor: kPruneMargin * d(s, c) < d(owner, c), not HNSW's d(s, c) < d(owner, c). This is
// Vamana's relaxed pruning (DiskANN's alpha): some longer links survive that the plain rule
// drops as redundant, and walks find more per ef. Distances here are squared L2 or 1 - cos (half
// the squared L2 of unit vectors), so 1.05 is an alpha of about 1.025. Saved f32_split graphs
// against hnswlib (benchmarks/results/graph.md section 25): wordnet-minilm-384 recall at ef 24
// 0.9444 -> 0.9548, speed at recall 0.95 1.81x -> 2.00x hnswlib; fashion-mnist ef 12 0.9492 ->
// 0.9612; glove6b-50 level (ef 96 0.9465 -> 0.9469), where 1.1 already lost 0.0036; builds 1-6%
// slower. Inner-product distances can be negative, where a factor would relax nothing
// consistently, so that metric keeps the plain rule.
constexpr float kPruneMargin = 1.05f;

// Candidate lists up to this long are decoded whole for neighbour selection, by codecs that
// prefer prepared comparisons (select_neighbors). A full list choosing again among its old and
// new neighbours (reverse links, repairs: a level-0 list's 32 and a few) is one; a new node's
// ef_construction candidates are not.
constexpr size_t kDecodedSelectionMax = 64;

bool by_level_target_source(const HnswIndex::LinkRequest& a, const HnswIndex::LinkRequest& b) {
  if (a.level != b.level) return a.level < b.level;
  return a.target != b.target ? a.target < b.target : a.source < b.source;
}

bool same_request(const HnswIndex::LinkRequest& a, const HnswIndex::LinkRequest& b) {
  return a.level == b.level && a.target == b.target && a.source == b.source;
}

}  // namespace

void HnswIndex::select_neighbors(const std::vector<Neighbor>& sorted_candidates, size_t max_count, uint32_t owner,
                                 SearchContext& ctx, float fill_margin) const {
  std::vector<uint32_t>& selected = ctx.selected;
  selected.clear();
  // Codecs whose stored-to-stored distance decodes both codes (LVQ) compare in one of two ways;
  // the others compare codes directly.
  // - A long list (a new node's candidates, most of them ruled out by the first few kept
  //   neighbours): each kept neighbour prepared once as a query (decoded at full precision, then
  //   the fast asymmetric kernel on the candidate's head).
  // - A short list (a full list choosing again among its old and new neighbours, where most
  //   candidates stay and meet every neighbour kept before them), where the codec's rows
  //   compare as its prepared codes do (single-level LVQ): each candidate decoded once and the
  //   float32 rows compared, giving the same choices. Preparing there cost more than the
  //   comparisons (a decode, a centring and two allocations for every kept neighbour). Builds
  //   with LVQ codes, 2 threads, alternating processes (graph.md section 30): wordnet-minilm
  //   lvq4 + kept float32 4.75-4.93 -> 4.27-4.48 s, lvq8 4.73-5.05 -> 4.28-4.53 s; glove6b-50
  //   lvq4 + kept 28.4-30.7 -> 26.5-27.0 s, lvq8 27.4-28.8 -> 25.2-26.6 s; fashion-mnist lvq4 +
  //   kept level; the graphs byte for byte the same (wordnet, fashion-mnist and glove). Decoding
  //   a new node's 200 candidates as well lost (fashion-mnist 5.9-6.2 s). Two-level LVQ
  //   prepares a rounded query, whose choices full rows changed: fashion-mnist lvq4x4 builds
  //   level, recall at equal ef 0.0003-0.0022 lower (three seeds), so it keeps preparing.
  const bool compares_prepared = codec_->prefers_prepared_comparisons();
  const bool decoded_mode = compares_prepared && codec_->decoded_rows_compare_alike() &&
                            sorted_candidates.size() <= kDecodedSelectionMax;
  const bool prepared_mode = compares_prepared && !decoded_mode;
  const float margin = metric() == Metric::IP ? 1.f : kPruneMargin;
  size_t prepared = 0;  // kept neighbours prepared so far (lazily: the last one may never be)
  SearchContext::DecodedCandidates& decoded = ctx.decoded;
  if (decoded_mode) decoded.reset(sorted_candidates.size(), dim());
  const auto decode = [&](size_t i, float* row) {  // as prepare_from_code decodes
    codec_->decode_split(code(sorted_candidates[i].slot), tail(sorted_candidates[i].slot), row);
  };
  const simd::KernelTable& kernels = simd::kernels();
  const bool l2 = metric() == Metric::L2;
  ctx.pruned_by.assign(sorted_candidates.size(), kNotPruned);
  mark_surplus_copies(sorted_candidates, owner, max_count, ctx);
  // The distance between candidate i and the j-th neighbour kept.
  const auto distance_to_kept = [&](size_t i, size_t j) {
    if (decoded_mode) return kernels.distance(l2, decoded.row(i, decode), decoded.chosen_row(j), dim());
    if (prepared_mode) {
      if (j == prepared) {
        if (ctx.prepared.size() <= j) ctx.prepared.emplace_back();
        ctx.prepared[j] = codec_->prepare_from_code(code(selected[j]), tail(selected[j]));
        ++prepared;
      }
      return ctx.prepared[j]->one(code(sorted_candidates[i].slot));
    }
    return codec_->distance_between(code(sorted_candidates[i].slot), code(selected[j]));
  };
  const auto keep = [&](size_t i) {
    selected.push_back(sorted_candidates[i].slot);
    ctx.pruned_by[i] = kNotPruned;
    if (decoded_mode) {
      decoded.row(i, decode);  // a first candidate kept unseen (nothing to compare it with)
      decoded.chosen.push_back(static_cast<uint32_t>(i));
    }
  };
  for (size_t i = 0; i < sorted_candidates.size() && selected.size() < max_count; ++i) {
    if (ctx.copy_of_owner[i] == SearchContext::kSurplusCopy) continue;
    // A copy of the owner is no farther from a kept neighbour than from the owner itself, but
    // rounding (a lossy code compared with the float32 row it came from, say) may say otherwise.
    const size_t compared = ctx.copy_of_owner[i] == SearchContext::kKeptCopy ? 0 : selected.size();
    bool ruled_out = false;
    for (size_t j = 0; j < compared && !ruled_out; ++j) {
      if (margin * distance_to_kept(i, j) < sorted_candidates[i].distance) {
        ruled_out = true;  // better reached through selected[j]
        ctx.pruned_by[i] = selected[j];
      }
    }
    if (!ruled_out) keep(i);
  }
  // A short list filled with what the heuristic ruled out, under the looser rule.
  if (fill_margin <= 0.f || metric() == Metric::IP) return;
  for (size_t i = 0; i < sorted_candidates.size() && selected.size() < max_count; ++i) {
    if (ctx.pruned_by[i] == kNotPruned) continue;  // kept already, or a surplus copy
    bool ruled_out = false;
    for (size_t j = 0; j < selected.size() && !ruled_out; ++j)
      ruled_out = fill_margin * distance_to_kept(i, j) < sorted_candidates[i].distance;
    if (!ruled_out) keep(i);
  }
}

void HnswIndex::link_new_node(uint32_t slot, const float* x, SearchContext& ctx, std::vector<LinkRequest>& requests,
                              const InsertionSearch& search) {
  const ConstructionCodes* walk_codes = search.walk_codes;
  const int node_level = levels_[slot];
  // Full-width codes (written before linking) are the vector as precisely as x: preparing from
  // them spares f32_pca rotating x again; a compact code would be less precise than x.
  const auto exact = codec_->full_width() ? codec_->prepare_from_code(code(slot), tail(slot)) : codec_->prepare(x);
  const auto compact = walk_codes ? walk_codes->codec->prepare_reranked_walk(x) : nullptr;
  const QueryDistance& walk = compact ? *compact : *exact;
  const auto walk_code = [&](uint32_t s) { return walk_codes ? walk_codes->of(s) : code(s); };
  uint32_t entry = 0;
  const int max_level = entry_point(entry);
  float entry_distance = walk.one(walk_code(entry));
  // Once the walk stands on a copy of the new node, its copies all tie: it moves along their
  // chain to the one nearest in slot number instead (a skip list over the levels), so the search
  // on the node's own levels finds the copies it is to link up with (hnsw_copies.cpp).
  const auto toward_own_slot = [&](int level, uint32_t e) { return nearest_copy_by_slot(e, slot, level); };
  // Rows that come in runs: level 0 also chooses among the nearest nodes of level 1
  // (kRunsSparseBeam above), found by a beam there where a node of level 0 would only pass
  // through greedily.
  const bool sparse_level = search.rows_in_runs && max_level >= 1;
  ctx.sparse.clear();
  if (sparse_level && node_level == 0) {
    entry = descend(walk, entry, entry_distance, max_level, 2, walk_code, ctx.visited, toward_own_slot);
    entry = toward_own_slot(1, entry);
    walk_layer(walk, entry, entry_distance, 1, kRunsSparseBeam * M_, ctx, walk_code);
    for (size_t i = 0; i < ctx.beam.size(); ++i) ctx.sparse.push_back({ctx.beam.distance(i), ctx.beam.slot(i)});
    entry = ctx.beam.slot(0);
    entry_distance = ctx.beam.distance(0);
  } else if (max_level > node_level) {
    entry = descend(walk, entry, entry_distance, max_level, node_level + 1, walk_code, ctx.visited, toward_own_slot);
  }

  for (int level = std::min(node_level, max_level); level >= 0; --level) {
    entry = toward_own_slot(level, entry);
    walk_layer(walk, entry, entry_distance, level, ef_construction_, ctx, walk_code, search.expanded);
    ctx.candidates.clear();
    for (size_t i = 0; i < ctx.beam.size(); ++i) {
      const uint32_t c = ctx.beam.slot(i);
      if (c != slot && linkable(c)) ctx.candidates.push_back({ctx.beam.distance(i), c});
    }
    if (sparse_level && level == 1) {  // a node of level 1 or more: its own level-1 beam's nearest
      ctx.sparse.assign(ctx.candidates.begin(),
                        ctx.candidates.begin() + std::min(ctx.candidates.size(), kRunsSparseBeam * M_));
    }
    if (level == 0 && !ctx.sparse.empty()) add_sparse_candidates(slot, ctx);
    if (compact) {  // the walk's distances only chose the beam: neighbours are chosen by exact ones
      score_with(*exact, ctx.candidates, ctx);
      std::sort(ctx.candidates.begin(), ctx.candidates.end(), closer);
    }
    add_copies_beside(slot, level, ctx.candidates);
    select_neighbors(ctx.candidates, M_, slot, ctx, search.rows_in_runs ? kRunsFillMargin : 0.f);
    if (ctx.beam.size() > 0) {
      entry = ctx.beam.slot(0);
      entry_distance = ctx.beam.distance(0);
      // Among tied copies the beam's first is the lowest slot; go on from the kept copy nearest
      // in slot number (the same distance) so the next level starts beside the node's own place.
      if (same_head(entry, slot)) entry = nearest_copy_among(ctx.candidates, slot, ctx, entry);
    }
    size_t from_graph = ctx.selected.size();  // the rest, siblings, ask for no link back
    if (search.batch_slots) add_batch_siblings(slot, level, *exact, search, ctx);
    {
      // A neighbour removed since the search is dropped here, under the lock a remove's
      // repair pass takes too: either it sees the removal or the repair sees this list.
      graph::NodeLocks::Guard lock(node_locks_, slot);
      const auto removed = [&](uint32_t s) { return !linkable(s); };
      from_graph -= std::count_if(ctx.selected.begin(), ctx.selected.begin() + from_graph, removed);
      ctx.selected.erase(std::remove_if(ctx.selected.begin(), ctx.selected.end(), removed), ctx.selected.end());
      write_list(links(slot, level), ctx.selected.data(), ctx.selected.size());
    }
    for (size_t i = 0; i < from_graph; ++i)
      requests.push_back({ctx.selected[i], slot, static_cast<uint32_t>(level)});
  }
  // Its lists are written: a walk may start from it (choose_new_entry), a repair may reconnect it.
  set_state(slot, kLinked);
}

void HnswIndex::add_batch_siblings(uint32_t slot, int level, const QueryDistance& exact,
                                   const InsertionSearch& search, SearchContext& ctx) const {
  // Siblings only fill the room the graph's neighbours left (a level-0 list holds 2M, a new node
  // chooses M): they never displace a neighbour from the graph, and they ask for no link back,
  // which could displace one from a sibling's list. A batch of near-copies whose siblings could
  // take a whole list (M of them, or the plain rule's ties under "ip") would otherwise choose no
  // node of the graph, ask no node of it to link to them, and be an island (graph.md section 56).
  const size_t room = capacity_at(level) - std::min(capacity_at(level), ctx.selected.size());
  if (room == 0) return;
  std::vector<Neighbor>& siblings = ctx.siblings;
  siblings.clear();
  for (size_t b = 0; b < search.batch_size; ++b) {
    const uint32_t sibling = search.batch_slots[b];
    // Copies of the node are linked up as a chain instead (apply_reverse_links); a sibling its
    // walk met (a concurrent remove can make a linked sibling the entry point) is chosen already.
    if (sibling == slot || levels_[sibling] < level || same_head(sibling, slot) ||
        std::find(ctx.selected.begin(), ctx.selected.end(), sibling) != ctx.selected.end())
      continue;
    siblings.push_back({0.f, sibling});
  }
  if (siblings.empty()) return;
  score_with(exact, siblings, ctx);
  std::sort(siblings.begin(), siblings.end(), closer);
  ctx.from_graph.assign(ctx.selected.begin(), ctx.selected.end());
  select_neighbors(siblings, room, slot, ctx);
  ctx.from_graph.insert(ctx.from_graph.end(), ctx.selected.begin(), ctx.selected.end());
  ctx.selected.swap(ctx.from_graph);
}

std::unique_ptr<HnswIndex::ConstructionCodes> HnswIndex::make_construction_codes(const float* x, size_t n,
                                                                                 const uint32_t* slots,
                                                                                 ThreadPool& pool) const {
  const size_t existing = count_.load();
  auto cc = std::make_unique<ConstructionCodes>();
  cc->codec = make_codec(kConstructionCodec, dim(), codec_->metric(), options().seed);
  cc->codec->train(x, n);
  cc->stride = (cc->codec->code_size() + 15) / 16 * 16;
  const uint32_t top = *std::max_element(slots, slots + n);
  const size_t slot_count = std::max<size_t>(existing, static_cast<size_t>(top) + 1);
  cc->codes.reallocate(slot_count * cc->stride);
  // Every slot in the graph (live or inserting): this add's rows from the caller's vectors,
  // older ones decoded from their exact codes (f32_pca decodes by rotating back, 2 r d
  // multiply-adds a row).
  constexpr uint32_t kOlder = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> row_of(slot_count, kOlder);
  for (size_t i = 0; i < n; ++i) row_of[slots[i]] = static_cast<uint32_t>(i);
  std::vector<std::vector<float>> rows(pool.size(), std::vector<float>(dim()));
  pool.parallel_for(
      slot_count,
      [&](size_t s, size_t worker) {
        const uint32_t slot = static_cast<uint32_t>(s);
        if (!linkable(slot)) return;
        const float* row = rows[worker].data();
        if (row_of[slot] == kOlder) codec_->decode_split(code(slot), tail(slot), rows[worker].data());
        else row = x + static_cast<size_t>(row_of[slot]) * dim();
        cc->codec->encode(row, cc->of(slot));
      },
      1024);
  return cc;
}

void HnswIndex::apply_reverse_links(const LinkRequest* group, size_t n, SearchContext& ctx,
                                    std::vector<LinkRequest>* sibling_links) {
  const uint32_t target = group[0].target;
  const int level = static_cast<int>(group[0].level);
  graph::NodeLocks::Guard lock(node_locks_, target);
  if (!linkable(target)) return;  // removed meanwhile: its in-links are being repaired away
  uint32_t* lk = links(target, level);
  const uint32_t count = graph::load_count(lk);  // stable: only lock holders write it
  const size_t capacity = capacity_at(level);
  // New copies of one vector never saw each other: wherever they meet, they link up as a chain
  // (a star around one of them would overflow its list, where only a few copies stay; and copies
  // left unlinked start separate chains that later copies, which see only part of a large group,
  // never join: hnsw_copies.cpp).
  if (sibling_links) chain_copies_among_sources(group, n, level, ctx, *sibling_links);
  // A source may be in the list already (a node of the target's own small batch, linked in the
  // room its list had left, add_batch_siblings; a row that looked again, hnsw_revisit.cpp, links to
  // what it found and asks for the link back, which the found row may hold): such requests are
  // left out, so no list holds a node twice.
  const auto listed = [&](uint32_t source) {
    for (uint32_t j = 1; j <= count; ++j)
      if (graph::load_link(lk, j) == source) return true;
    return false;
  };
  std::vector<LinkRequest> unlisted;
  if (std::any_of(group, group + n, [&](const LinkRequest& r) { return listed(r.source); })) {
    std::copy_if(group, group + n, std::back_inserter(unlisted), [&](const LinkRequest& r) { return !listed(r.source); });
    if (unlisted.empty()) return;
    group = unlisted.data();
    n = unlisted.size();
  }
  if (count + n <= capacity) {
    for (size_t i = 0; i < n; ++i) graph::store_link(lk, static_cast<uint32_t>(count + 1 + i), group[i].source);
    graph::publish_count(lk, static_cast<uint32_t>(count + n));
    return;
  }
  // Overflow: choose again among the old and the new neighbours with the same heuristic
  // (neighbours removed meanwhile are left out: the repair pass would drop them anyway).
  std::vector<Neighbor>& scratch = ctx.candidates;
  scratch.clear();
  for (uint32_t j = 1; j <= count; ++j) {
    const uint32_t v = graph::load_link(lk, j);
    if (linkable(v)) scratch.push_back({0.f, v});
  }
  for (size_t i = 0; i < n; ++i) scratch.push_back({0.f, group[i].source});
  score_from(target, scratch, ctx);
  std::sort(scratch.begin(), scratch.end(), closer);
  select_neighbors(scratch, capacity, target, ctx);
  write_list(lk, ctx.selected.data(), ctx.selected.size());
  if (!sibling_links) return;
  // A new node dropped here because another new node of its batch is nearer to it: the two
  // never saw each other (both searched the graph as it was before the batch), and this list
  // may have been the only way in. Link them to each other instead.
  const auto is_new = [&](uint32_t s) {
    for (size_t i = 0; i < n; ++i)
      if (group[i].source == s) return true;
    return false;
  };
  for (size_t i = 0; i < scratch.size(); ++i) {
    const uint32_t pruner = ctx.pruned_by[i];
    if (pruner == kNotPruned || !is_new(pruner) || !is_new(scratch[i].slot)) continue;
    if (same_head(pruner, scratch[i].slot)) continue;  // copies: chained above
    sibling_links->push_back({pruner, scratch[i].slot, static_cast<uint32_t>(level)});
    sibling_links->push_back({scratch[i].slot, pruner, static_cast<uint32_t>(level)});
  }
}

void HnswIndex::add_sparse_candidates(uint32_t slot, SearchContext& ctx) const {
  // Few (2M) against a beam of ef_construction: a scan finds the ones the beam holds already.
  const size_t beam_candidates = ctx.candidates.size();
  for (const Neighbor& s : ctx.sparse) {
    if (s.slot == slot || !linkable(s.slot)) continue;
    bool found = false;
    for (size_t i = 0; i < beam_candidates && !found; ++i) found = ctx.candidates[i].slot == s.slot;
    if (!found) ctx.candidates.push_back(s);
  }
  std::sort(ctx.candidates.begin(), ctx.candidates.end(), closer);
}

void HnswIndex::insert_batch(const float* x, const uint32_t* slots, const uint32_t* rows, size_t n, ThreadPool& pool,
                             std::vector<std::unique_ptr<SearchContext>>& contexts, const InsertionSearch& search) {
  // The batch may meet nodes that a concurrent remove unlinks: it holds their memory until done.
  graph::GracePeriod::Reader reading(grace_);
  // Phase 1: each new node finds its neighbours in the graph as it was before this batch and, in a
  // small batch, links to the batch's nearest other nodes too (kBatchSiblingsMax). It writes only
  // its own link lists, which no old node links to yet (a walk reaches a batch's nodes before
  // phase 2 only from one that a concurrent remove made the entry point, choose_new_entry).
  std::vector<uint32_t> siblings;
  InsertionSearch batch_search = search;
  if (n >= 2 && n <= kBatchSiblingsMax) {
    for (size_t i = 0; i < n; ++i) siblings.push_back(slots[rows[i]]);
    batch_search.batch_slots = siblings.data();
    batch_search.batch_size = n;
  }
  std::vector<std::vector<LinkRequest>> requests(n);
  pool.parallel_for(n, [&](size_t i, size_t worker) {
    link_new_node(slots[rows[i]], x + static_cast<size_t>(rows[i]) * dim(), *contexts[worker], requests[i],
                  batch_search);
  });

  // Phase 2: reverse links, grouped by (level, target); each group touches one list only.
  std::vector<LinkRequest> all;
  for (auto& r : requests) all.insert(all.end(), r.begin(), r.end());
  std::vector<std::vector<LinkRequest>> sibling_links = apply_link_requests(all, pool, contexts, true);

  // Phase 3: new nodes that phase 2 found nearer to each other than to an old node link to
  // each other (their lists have room: a new node starts with at most M of 2M level-0 links).
  all.clear();
  for (auto& r : sibling_links) all.insert(all.end(), r.begin(), r.end());
  apply_link_requests(all, pool, contexts, false);

  // The highest new node becomes the entry point (the first inserted on ties: deterministic).
  std::lock_guard<std::mutex> lock(entry_mutex_);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t slot = slots[rows[i]];
    if (levels_[slot] > max_level() && linkable(slot)) set_entry(slot, levels_[slot]);
  }
}

std::vector<std::vector<HnswIndex::LinkRequest>> HnswIndex::apply_link_requests(
    std::vector<LinkRequest>& requests, ThreadPool& pool, std::vector<std::unique_ptr<SearchContext>>& contexts,
    bool collect_sibling_links) {
  // Sorted (and without repeats) the outcome does not depend on which thread made a request.
  std::sort(requests.begin(), requests.end(), by_level_target_source);
  requests.erase(std::unique(requests.begin(), requests.end(), same_request), requests.end());
  std::vector<size_t> group_start;
  for (size_t i = 0; i < requests.size(); ++i)
    if (i == 0 || requests[i].target != requests[i - 1].target || requests[i].level != requests[i - 1].level)
      group_start.push_back(i);
  const size_t groups = group_start.size();
  group_start.push_back(requests.size());
  std::vector<std::vector<LinkRequest>> sibling_links(collect_sibling_links ? groups : 0);
  pool.parallel_for(
      groups,
      [&](size_t g, size_t worker) {
        apply_reverse_links(&requests[group_start[g]], group_start[g + 1] - group_start[g], *contexts[worker],
                            collect_sibling_links ? &sibling_links[g] : nullptr);
      },
      16);
  return sibling_links;
}

size_t HnswIndex::expanded_by_early_insertions(size_t graph_size, size_t final_size) const {
  if (static_cast<double>(graph_size) >= kEarlyShare * static_cast<double>(final_size)) return 0;
  const size_t expanded =
      std::max(M_, static_cast<size_t>(kEarlyExpandedShare * static_cast<double>(ef_construction_) + 0.5));
  return expanded < ef_construction_ ? expanded : 0;
}

namespace {

// The median squared L2 distance between consecutive rows of x over that between random pairs
// of its rows (sampled with rng): about 1 when the order says nothing about where rows lie, near
// 0 when rows arrive in runs of near neighbours. Summed in double, so every SIMD level and
// platform takes the same branch for the same rows.
double consecutive_rows_ratio(const float* x, size_t n, size_t dim, Rng& rng) {
  if (n < 3) return 1.0;
  const auto squared_distance = [&](size_t a, size_t b) { return squared_l2_in_double(x + a * dim, x + b * dim, dim); };
  const size_t samples = std::min(kLocalitySamples, n - 1);
  std::vector<double> consecutive(samples), random(samples);
  for (size_t s = 0; s < samples; ++s) {
    const size_t i = samples == n - 1 ? s : static_cast<size_t>(rng.below(n - 1));
    consecutive[s] = squared_distance(i, i + 1);
    random[s] = squared_distance(i, static_cast<size_t>(rng.below(n)));
  }
  const double apart = median_in_place(random);
  return apart > 0 ? median_in_place(consecutive) / apart : 1.0;  // mostly one repeated row: no runs to break
}

}  // namespace

std::vector<uint32_t> HnswIndex::insertion_order(const float* x, uint32_t first, size_t n, bool& in_runs) const {
  // Each row gets a sort key: a seeded random share of the rows (the skeleton, when the rows come
  // in runs of near neighbours) a key below every other, in random order; the others their
  // position plus a random displacement of up to kOrderWindow of the add. Driven by (seed, first)
  // and the rows: deterministic, whatever the thread count.
  Rng sampling(splitmix64(options().seed) ^ splitmix64(first + 0x10CA1));
  in_runs = consecutive_rows_ratio(x, n, dim(), sampling) < kLocalRunsRatio;
  const double skeleton_share = in_runs ? kSkeletonShare : 0.0;
  Rng rng(splitmix64(options().seed) ^ splitmix64(first + 0x51ED));
  const double window = kOrderWindow * static_cast<double>(n);
  std::vector<std::pair<double, uint32_t>> keys(n);
  for (uint32_t i = 0; i < n; ++i) {
    const bool skeleton = rng.uniform() < skeleton_share;
    keys[i] = {skeleton ? -1.0 - rng.uniform() : static_cast<double>(i) + window * rng.uniform(), i};
  }
  std::sort(keys.begin(), keys.end());
  std::vector<uint32_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = keys[i].second;
  return order;
}

void HnswIndex::write_records(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool) {
  const size_t cs = codec_->code_size();
  const size_t kept_bytes = kept_codec_ ? kept_codec_->code_size() : 0;
  pool.parallel_for(
      n,
      [&](size_t i, size_t) {
        const uint32_t slot = slots[i];
        uint8_t* rec = head(slot);
        if (tail_size_ == 0) {
          codec_->encode(x + i * dim(), rec);
        } else {  // the head goes with the heads, the tail beside the graph
          thread_local std::vector<uint8_t> whole;
          whole.resize(cs);
          codec_->encode(x + i * dim(), whole.data());
          std::memcpy(rec, whole.data(), head_size_);
          std::memcpy(tail(slot), whole.data() + head_size_, tail_size_);
          if (tails_all_zero_.load(std::memory_order_relaxed) && !all_zero_bytes(whole.data() + head_size_, tail_size_))
            tails_all_zero_.store(false, std::memory_order_release);  // before the node is linked below
        }
        if (kept_bytes) std::memcpy(kept_.data() + slot * kept_bytes, x + i * dim(), kept_bytes);
        // Fresh lists (a reused slot's old ones were emptied when it was removed).
        graph::NodeLocks::Guard lock(node_locks_, slot);
        for (int level = 0; level <= levels_[slot]; ++level) graph::publish_count(links(slot, level), 0);
      },
      256);
}

bool HnswIndex::wants_construction_codes(size_t n) const {
  if (n < kConstructionCodesMinRows || n < count_.load()) return false;
  // Float32 codes are the wide ones a walk pays full price for. Other codes are walked as they
  // are unless construction codes spare a walk kConstructionCodesMinSavedBytes a candidate:
  // compressed codecs are already compact (and walking a second lossy code would only lose
  // precision), and f32_split's upper halves (two bytes a dimension) of low-dimensional data
  // are within a line of the LVQ-8 code. Nor under L2, where those codes' walks abandon far
  // candidates partway (bounded batches) and so read a fraction of each code anyway.
  if (codec_->full_width()) return true;
  if (codec_->metric() == Metric::L2) return false;
  const size_t construction_bytes = make_codec(kConstructionCodec, dim(), codec_->metric())->code_size();
  return codec_->head_size() >= construction_bytes + kConstructionCodesMinSavedBytes;
}

void HnswIndex::add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool,
                         const ProgressFn& progress) {
  if (n == 0) return;
  // Construction codes cover the slots in the graph when the add starts: no other add may
  // insert nodes (which the walks would reach without codes) until this one is done. Other
  // adds wait at the gate; searches and removes do not take it.
  const bool bulk = wants_construction_codes(n);
  std::unique_lock<std::shared_mutex> sole_adder(bulk_gate_, std::defer_lock);
  std::shared_lock<std::shared_mutex> one_of_adders(bulk_gate_, std::defer_lock);
  if (bulk) sole_adder.lock();
  else one_of_adders.lock();
  // A first add that runs alone (a codec that trains on it); concurrent ones went through
  // plan_layout and settle_layout.
  if (degree_pending_ && !concurrent_writes()) {
    plan_degree(x, n, pool);
    apply_planned_degree();
  }
  const uint32_t top = *std::max_element(slots, slots + n);
  // Callers that hold the exclusive lock may leave growing to us; concurrent ones reserved.
  reserve_rows(static_cast<size_t>(top) + 1);
  size_t graph_size = count_.load();
  while (graph_size <= top && !count_.compare_exchange_weak(graph_size, static_cast<size_t>(top) + 1)) {
  }
  for (size_t i = 0; i < n; ++i) set_state(slots[i], kInserting);
  // The codec learns from the first rows it sees (LVQ: the mean it centres by). Training is the
  // exclusive path (concurrent_writes), so no search reads the codec while a stop replaces it.
  const bool trains = codec_->needs_training();
  std::unique_ptr<ConstructionCodes> walk_codes;
  std::vector<std::unique_ptr<SearchContext>> contexts;
  std::vector<uint32_t> order;
  bool in_runs = false;
  bool ordered = false;  // in runs, or in one region of the graph (hnsw_revisit.cpp)
  try {
    if (trains) {
      codec_->train(x, n);
      learning_.learnt_from = n;
    } else {
      codec_->observe(x, n);
    }
    write_records(x, n, slots, pool);
    if (bulk) walk_codes = make_construction_codes(x, n, slots, pool);
    for (size_t w = 0; w < pool.size(); ++w) contexts.push_back(acquire_context());
    // Not the caller's order, nor a plain shuffle (kSkeletonShare above).
    order = insertion_order(x, slots[0], n, in_runs);
    ordered = in_runs || add_is_one_region(x, n, slots[0]);
  } catch (...) {
    // Nothing links to these nodes yet, nor is the entry one of them: an error here (memory)
    // leaves them empty again, as the slots the base hands back must be.
    for (auto& ctx : contexts) release_context(std::move(ctx));
    for (size_t i = 0; i < n; ++i) set_state(slots[i], kEmpty);
    if (trains) untrain_codec();
    throw;
  }
  const size_t relink_below = relink_below_.exchange(0);
  size_t done = 0;
  {
    std::lock_guard<std::mutex> lock(entry_mutex_);
    if (max_level() < 0) {  // the very first node: the graph is just this entry point
      set_entry(slots[order[0]], levels_[slots[order[0]]]);
      set_state(slots[order[0]], kLinked);
      done = 1;
    }
  }
  const bool only_entry = done == order.size();
  try {
    // The add whose automatic M widened the lists chooses them again before it inserts (hnsw_widen.cpp).
    if (relink_below) relink_widened(relink_below, pool, contexts, progress);
    // The last report comes before the rows go live: one that throws still undoes the add.
    while (done < order.size()) {
      const double largest =
          std::min((graph_size + done) * kBatchFraction, std::max(n * kAddBatchFraction, kMinAddBatch));
      const size_t batch = static_cast<size_t>(std::max<double>(1.0, largest));
      const size_t stop = std::min(order.size(), done + batch);
      InsertionSearch search;
      search.walk_codes = walk_codes.get();
      search.expanded = expanded_by_early_insertions(graph_size + done, graph_size + order.size());
      search.rows_in_runs = in_runs;
      insert_batch(x, slots, order.data() + done, stop - done, pool, contexts, search);
      done = stop;
      report(progress, "add", done, n);
    }
    if (only_entry) report(progress, "add", 1, 1);  // an index's first node is set, not inserted
    if (ordered) revisit_older_rows(n, pool, contexts, progress);
  } catch (...) {
    for (auto& ctx : contexts) release_context(std::move(ctx));
    // The next first add trains the codec on its own rows, even where taking the rows back
    // fails too (its repair runs on the same pool).
    try {
      take_back(slots, n, pool);
    } catch (...) {
      if (trains) untrain_codec();
      throw;
    }
    if (trains) untrain_codec();
    throw;
  }
  for (auto& ctx : contexts) release_context(std::move(ctx));
  for (size_t i = 0; i < n; ++i) set_state(slots[i], kLive);
}

void HnswIndex::take_back(const uint32_t* slots, size_t n, ThreadPool& pool) {
  // All of the add's rows go as a remove takes nodes out, the ones not linked yet too: a
  // concurrent remove that took out the entry point may have moved it onto one of them
  // (choose_new_entry takes the linked nodes of a running add), and later batches of this add,
  // or other adds, then linked to it. remove_rows marks them all removed before it moves the
  // entry, repairs every list that names one of them and empties their own.
  std::vector<uint32_t> taken(slots, slots + n);
  for (const uint32_t s : taken) set_state(s, kLive);  // as remove_rows expects; their ids stay hidden (pending)
  remove_rows(taken.data(), n, pool);
}

void HnswIndex::untrain_codec() {
  codec_ = make_codec(options().quant, dim(), metric(), options().seed);
  tails_all_zero_.store(!kept_codec_ && tail_size_ > 0 && codec_->walks_exactly_with_zero_tails());
}

void HnswIndex::forget_rows_from(size_t slot_count) {
  // Only this failed add raised the count past slot_count (the base handed those slots back
  // because no reservation came after them), so no other add can be lowering it.
  size_t seen = count_.load();
  while (seen > slot_count && !count_.compare_exchange_weak(seen, slot_count)) {
  }
}

}  // namespace vidx
