// The beam search of a proximity graph under a filter: the walk goes through every node
// (disallowed ones too: they steer it towards the query), but only allowed nodes enter the
// results. It keeps expanding, nearest first, until it holds `width` allowed results and the
// nearest unexpanded node is farther than the worst of them, so a restrictive filter widens
// the walk instead of cutting it short. Links are read through link_words.hpp (writers may
// change them concurrently).
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/common/topk.hpp"
#include "vidx/common/visited_set.hpp"
#include "vidx/graph/beam_search.hpp"
#include "vidx/graph/link_words.hpp"

namespace vidx {
namespace graph {

// Per-thread buffers of a filtered walk.
struct FilteredBuffers {
  std::vector<Neighbor> frontier;  // nodes to expand, allowed or not: a min-heap by distance
  std::vector<Neighbor> results;   // the best allowed nodes: a max-heap, then sorted nearest first
};

inline bool farther(const Neighbor& a, const Neighbor& b) { return closer(b, a); }

// links_of(node) -> const uint32_t* [count, slot, ...]; code_of(slot) -> const uint8_t*;
// allowed(slot) -> bool. Leaves the best `width` allowed nodes, nearest first, in
// buffers.results. Returns false, with the results incomplete, once it has computed more
// than `budget` distances: the caller then finds the allowed rows another way (an exact scan).
template <class LinksOf, class CodeOf, class Allowed>
bool filtered_beam_search(const QueryDistance& qd, uint32_t entry, float entry_distance, size_t width,
                          size_t budget, LinksOf links_of, CodeOf code_of, Allowed allowed, VisitedSet& visited,
                          FilteredBuffers& buffers, GatherBuffers& gather) {
  std::vector<Neighbor>& frontier = buffers.frontier;
  std::vector<Neighbor>& results = buffers.results;
  frontier.clear();
  results.clear();
  visited.new_query();
  auto worst = [&] {
    return results.size() < width ? std::numeric_limits<float>::infinity() : results.front().distance;
  };
  // A node enters the frontier only while it could still lead to a better result.
  auto offer = [&](float d, uint32_t slot) {
    if (d >= worst()) return;
    frontier.push_back(Neighbor{d, slot});
    std::push_heap(frontier.begin(), frontier.end(), farther);
    if (!allowed(slot)) return;
    results.push_back(Neighbor{d, slot});
    std::push_heap(results.begin(), results.end(), closer);
    if (results.size() > width) {
      std::pop_heap(results.begin(), results.end(), closer);
      results.pop_back();
    }
  };
  visited.test_and_set(entry);
  offer(entry_distance, entry);
  uint32_t* gathered = gather.slots.data();
  const uint8_t** codes = gather.codes.data();
  float* dist = gather.distances.data();
  size_t computed = 0;
  while (!frontier.empty() && frontier.front().distance <= worst()) {
    const uint32_t node = frontier.front().slot;
    std::pop_heap(frontier.begin(), frontier.end(), farther);
    frontier.pop_back();
    const size_t n = gather_unvisited(links_of(node), code_of, visited, gather);
    if (n == 0) continue;
    computed += n;
    if (computed > budget) return false;
    const float bound = worst();
    if (bound < std::numeric_limits<float>::infinity()) qd.batch_bounded(codes, n, bound, dist);
    else qd.batch(codes, n, dist);
    for (size_t j = 0; j < n; ++j) offer(dist[j], gathered[j]);
  }
  std::sort_heap(results.begin(), results.end(), closer);
  return true;
}

}  // namespace graph
}  // namespace vidx
