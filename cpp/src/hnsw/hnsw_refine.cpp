// HNSW after a removal: refine the repaired lists.
//
// repair_list (hnsw_remove.cpp) chooses a list again among its live neighbours and the live
// neighbours of its removed ones: a pool drawn from the graph's old, denser neighbourhood. After
// a large removal on clustered data that pool is too local (glove6b-50, 200k rows, half removed:
// recall@10 0.007-0.012 below a fresh build of the survivors). Here every repaired list is
// chosen once more from a wider pool: a beam search around its node (the node's own vector as
// the query, starting at the node) finds neighbours at the distances the thinned graph now has,
// and repair_list picks among them and the list's current neighbours.
//
// Measured choices (benchmarks/results/living.md, section "Refine after a mass removal"): a beam
// of 4M (64 at M=16) brings the repaired graph level with a fresh build of the survivors (a
// beam of 2M left glove 0.005 short, one of ef_construction costs more than the rebuild); it
// makes removing half the rows cost 0.4-0.8x of rebuilding the survivors, against 0.1-0.2x for
// the 2-hop repair alone. No reverse links: linking the chosen neighbours back, as an insert
// does, overflows their refilled lists, and the overflow pruning leaves them shorter and the
// graph worse.
//
// Which lists: those that lost a quarter of their links since their last refine, and every
// repaired upper-level list (few, and they carry the routing). A large removal refines nearly
// every list it repaired; a small one refines few at once and the rest when their losses add up
// (a removed node costs about in-degree / 8 searches instead of in-degree).
//
// In chunks, two phases each: the chunk's nodes search the graph as it stands (in parallel,
// writing nothing), then each rewrites its own list under its lock. Later chunks search the
// graph the earlier ones refined. The outcome depends only on the graph and the removed set,
// not on the number of threads.
#include <algorithm>

#include "hnsw_context.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

namespace {

// A list to refine: `node`'s on `level`.
struct RepairedList {
  uint32_t node;
  uint32_t level;
};

}  // namespace

bool HnswIndex::due_for_refine(uint32_t node, int level, uint32_t lost, uint32_t degree) {
  if (level > 0) return true;
  const uint32_t since_refine = links_lost_[node] + lost;
  if (4 * since_refine >= degree || since_refine >= 255) {  // 255: the counter saturates (M > 500)
    links_lost_[node] = 0;
    return true;
  }
  links_lost_[node] = static_cast<uint8_t>(since_refine);
  return false;
}

void HnswIndex::refine_repaired(const std::vector<uint32_t>& due, ThreadPool& pool,
                                std::vector<std::unique_ptr<SearchContext>>& contexts) {
  const size_t ef = std::min(ef_construction_, 4 * M_);
  std::vector<RepairedList> lists;
  for (uint32_t s = 0; s < due.size(); ++s)
    for (uint32_t level = 0; due[s] >> level; ++level)
      if (due[s] >> level & 1u) lists.push_back({s, level});
  if (lists.empty()) return;

  // Big enough to keep the threads busy, small enough that later chunks profit from earlier ones.
  const size_t chunk = std::max<size_t>(1024, lists.size() / 50);
  std::vector<std::vector<Neighbor>> found(std::min(chunk, lists.size()));
  for (size_t start = 0; start < lists.size(); start += chunk) {
    const size_t n = std::min(chunk, lists.size() - start);
    pool.parallel_for(
        n,
        [&](size_t i, size_t worker) {
          const RepairedList& r = lists[start + i];
          std::vector<Neighbor>& out = found[i];
          out.clear();
          if (!linkable(r.node)) return;
          SearchContext& ctx = *contexts[worker];
          const auto qd = codec_->prepare_from_code(code(r.node), tail(r.node));
          search_layer(*qd, r.node, 0.f, static_cast<int>(r.level), ef, ctx);
          for (size_t j = 0; j < ctx.beam.size(); ++j) out.push_back({ctx.beam.distance(j), ctx.beam.slot(j)});
        },
        16);
    pool.parallel_for(
        n,
        [&](size_t i, size_t worker) {
          const RepairedList& r = lists[start + i];
          graph::NodeLocks::Guard lock(node_locks_, r.node);
          if (linkable(r.node))
            repair_list(r.node, static_cast<int>(r.level), *contexts[worker], &found[i]);
        },
        16);
  }
}

}  // namespace vidx
