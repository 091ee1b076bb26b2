// HNSW fed in order: the older nodes look again at what came after them.
//
// A node chooses its neighbours when it is inserted, among the nodes already there; the nodes
// that come later reach its list only through their own choices (reverse links). Fed in random
// order that is enough: every region keeps receiving members, and a node's nearest neighbours
// arrive before and after it alike. Fed in order (a document store document by document, logs
// day by day) it is not: a region's rows all arrive together, and a later region R links back to
// an earlier one E only when R's own search finds E near enough to keep. Nearness is not
// symmetric: 100,000 64-d rows of 5,000 documents of 20 near-copies, fed in adds of 2,000 in
// document order, link each document to 98% of its five nearest documents inserted before it
// but to 62% of those inserted after it (shuffled: 97% both ways), because E ranks 22nd among
// R's nearest documents at the median, beyond what R's ef_construction beam (ten documents'
// copies) reaches. Searches then stop in E, beside the later R they are looking for; recall@10
// at ef 10 is 0.808 against 0.929 for the same adds shuffled (hnswlib 0.794; 0.946 shuffled), and no
// choice made at insertion time changed that (graph.md section 53: wider beams, looser pruning,
// offering new nodes to the older ones their search found).
//
// So an add of rows "in order" has kRevisitsPerRow older rows for each of its rows search the
// graph again, as an insertion does (from the entry point down, a beam of kRevisitBeamPerM * M on
// level 0), and link to what they find that the heuristic keeps next to their lists, up to the
// lists' capacity; each new link also goes back as a reverse link. The older rows are taken in
// slot order from a cursor that goes round the graph (saved with it), so every older row looks
// again once the graph has grown by a quarter in order, and each add pays in proportion to its own
// rows: one document an add does not stall a large index for a pass over all of it. An add is "in
// order" when its rows come in runs (insertion_order's test) or when the add as a whole lies in
// one region of the graph (add_is_one_region: one document, one day, one category).
//
// Recall@10 at ef 10, means of two seeds (graph.md section 53): the documents in adds of 2,000 in
// document order 0.808 -> 0.896 at 100,000 rows (shuffled adds 0.929; hnswlib 0.794); one
// document (20 rows) an add 0.747 -> 0.878; 8,000 rows of 400 tight clusters in sorted adds of
// 400 (M=12, ef_construction 64) 0.959 -> 0.986 (0.984); a Gaussian mixture in sorted adds of
// 4,000, ef 16, 0.960 -> 0.971 (0.963). Those builds take 1.6-2.2x as long (medians of five
// alternating processes); the documents' graph searches as fast at equal ef and 1.74x faster at
// recall 0.95 (single thread, one query a call). A pass over every older row once a quarter of the
// graph had come in order found as much over a build (more at the end of some feeds: one document
// an add 0.905), but made the add that triggered it pay for the whole graph (1.1 s for one 20-row
// add into 30,000 rows, where the others took 2 ms). Adds that are
// neither (the ann-benchmarks sets in any order, shuffled adds) never revisit: their graphs are as
// before.
#include <algorithm>
#include <exception>
#include <mutex>
#include <vector>

#include "hnsw_context.hpp"
#include "hnsw_row_sampling.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

namespace {

constexpr size_t kRevisitsPerRow = 4;
constexpr size_t kRevisitBeamPerM = 4;

// add_is_one_region: an add lies in one region of the graph when pairs of its own rows are
// nearer than kOneRegionRatio of the distance between its rows and the graph's (medians of
// kRegionSamples squared distances each; insertion_order's kLocalRunsRatio, for the same reason;
// hnsw_row_sampling.hpp).
constexpr double kOneRegionRatio = 0.25;
constexpr size_t kRegionSamples = 256;
constexpr size_t kRegionSamplesPerRow = 8;  // tiny adds sample less (a pair of rows has one distance)

}  // namespace

bool HnswIndex::add_is_one_region(const float* x, size_t n, uint32_t first) const {
  if (n < 2) return false;
  Rng rng(splitmix64(options().seed) ^ splitmix64(first + 0x4E61));
  // A stored row stays as it is while we read it: a concurrent remove empties its slot (which an
  // add may then fill) only after the readers that came before it have left.
  graph::GracePeriod::Reader reading(grace_);
  const size_t end = count_.load();
  std::vector<double> within, across;
  std::vector<float> stored(dim());
  const size_t samples = std::min(kRegionSamples, kRegionSamplesPerRow * n);
  for (size_t s = 0; s < 4 * samples && across.size() < samples; ++s) {
    const uint32_t slot = static_cast<uint32_t>(rng.below(end));
    if (state(slot) != kLive) continue;  // this add's own slots, removed and empty ones
    vector_of(slot, stored.data());
    const size_t a = rng.below(n);
    size_t b = rng.below(n - 1);
    if (b >= a) ++b;
    within.push_back(squared_l2_in_double(x + a * dim(), x + b * dim(), dim()));
    across.push_back(squared_l2_in_double(x + a * dim(), stored.data(), dim()));
  }
  if (across.empty()) return false;  // nothing stored yet to be a region of
  const double apart = median_in_place(across);
  return apart > 0 && median_in_place(within) < kOneRegionRatio * apart;
}

void HnswIndex::revisit_older_rows(size_t ordered_rows, ThreadPool& pool,
                                   std::vector<std::unique_ptr<SearchContext>>& contexts, const ProgressFn& progress) {
  // As a removal's refine runs: one at a time, and not beside a removal's repair.
  std::unique_lock<std::mutex> one_remove(remove_mutex_);
  // The older rows: live ones from the cursor on (this add's rows are still being inserted, and
  // chose last), at most once each.
  const size_t end = count_.load();
  const size_t wanted = kRevisitsPerRow * ordered_rows;
  std::vector<uint32_t> older;
  size_t slot = revisit_cursor_ < end ? revisit_cursor_ : 0;
  for (size_t scanned = 0; scanned < end && older.size() < wanted; ++scanned) {
    if (state(static_cast<uint32_t>(slot)) == kLive) older.push_back(static_cast<uint32_t>(slot));
    slot = slot + 1 < end ? slot + 1 : 0;
  }
  revisit_cursor_ = slot;
  if (older.empty()) return;
  std::vector<GrownList> lists;
  for (const uint32_t node : older) lists.push_back({node, 0});
  // A report that stops the add takes effect once this add's older rows have all looked again (as
  // relink_widened's), then the add's rows are taken out as a stopped add's are.
  grow_lists(lists, kRevisitBeamPerM * M_, SearchFrom::kEntryPoint, pool, contexts, "revisit", progress);
}

void HnswIndex::grow_lists(const std::vector<GrownList>& lists, size_t beam, SearchFrom from, ThreadPool& pool,
                           std::vector<std::unique_ptr<SearchContext>>& contexts, const char* phase,
                           const ProgressFn& progress) {
  graph::GracePeriod::Reader reading(grace_);  // nodes a concurrent remove unlinks stay readable
  // In chunks: each list's node searches the graph as the earlier chunks left it (writing
  // nothing), then each list gains what it found under its node's lock, then the new links go
  // back. The outcome depends on the graph and the chunk size, not on the thread count.
  const size_t chunk = std::max<size_t>(1024, lists.size() / 50);
  std::vector<std::vector<Neighbor>> found(std::min(chunk, lists.size()));
  std::vector<std::vector<LinkRequest>> requests(found.size());
  std::exception_ptr stop;
  for (size_t start = 0; start < lists.size(); start += chunk) {
    const size_t m = std::min(chunk, lists.size() - start);
    pool.parallel_for(
        m,
        [&](size_t i, size_t worker) {
          const GrownList& g = lists[start + i];
          found[i].clear();
          if (!linkable(g.node)) return;
          SearchContext& ctx = *contexts[worker];
          const auto qd = codec_->prepare_from_code(code(g.node), tail(g.node));
          if (from == SearchFrom::kNode) {
            search_layer(*qd, g.node, 0.f, g.level, beam, ctx);
          } else {
            uint32_t entry = 0;
            const int max_level = entry_point(entry);
            float entry_distance = qd->one(code(entry));
            if (max_level > g.level)
              entry = greedy_descend(*qd, entry, entry_distance, max_level, g.level + 1, ctx.visited);
            search_layer(*qd, entry, entry_distance, g.level, beam, ctx);
          }
          for (size_t j = 0; j < ctx.beam.size(); ++j) found[i].push_back({ctx.beam.distance(j), ctx.beam.slot(j)});
        },
        16);
    pool.parallel_for(
        m,
        [&](size_t i, size_t worker) {
          requests[i].clear();
          const GrownList& g = lists[start + i];
          graph::NodeLocks::Guard lock(node_locks_, g.node);
          if (linkable(g.node)) add_links_found(g.node, g.level, found[i], *contexts[worker], requests[i]);
        },
        16);
    std::vector<LinkRequest> back;
    for (size_t i = 0; i < m; ++i) back.insert(back.end(), requests[i].begin(), requests[i].end());
    apply_link_requests(back, pool, contexts, false);
    if (!stop) {
      try {
        report(progress, phase, start + m, lists.size());
      } catch (...) {
        stop = std::current_exception();
      }
    }
  }
  if (stop) std::rethrow_exception(stop);
}

void HnswIndex::add_links_found(uint32_t node, int level, const std::vector<Neighbor>& found, SearchContext& ctx,
                                std::vector<LinkRequest>& requests) {
  uint32_t* lk = links(node, level);
  const uint32_t count = graph::load_count(lk);
  const size_t capacity = capacity_at(level);
  if (count >= capacity) return;
  std::vector<uint32_t> list;
  for (uint32_t j = 1; j <= count; ++j) list.push_back(graph::load_link(lk, j));
  const auto listed = [&](uint32_t s) { return std::find(list.begin(), list.end(), s) != list.end(); };
  // The heuristic over the list and what the search found: what it keeps beyond the list joins
  // it, nearest first (the list itself stays: its reverse links are how later nodes reached it).
  std::vector<Neighbor>& candidates = ctx.candidates;
  candidates.clear();
  for (const uint32_t s : list)
    if (linkable(s)) candidates.push_back({0.f, s});
  for (const Neighbor& f : found)
    if (f.slot != node && linkable(f.slot) && !listed(f.slot)) candidates.push_back({0.f, f.slot});
  if (candidates.size() == list.size()) return;  // nothing new found
  score_from(node, candidates, ctx);
  std::sort(candidates.begin(), candidates.end(), closer);
  select_neighbors(candidates, capacity, node, ctx);
  const size_t before = list.size();
  for (const uint32_t s : ctx.selected) {
    if (list.size() >= capacity) break;
    if (!listed(s)) list.push_back(s);
  }
  if (list.size() == before) return;
  write_list(lk, list.data(), list.size());
  for (size_t j = before; j < list.size(); ++j) requests.push_back({list[j], node, static_cast<uint32_t>(level)});
}

}  // namespace vidx
