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
#include "vidx/graph/candidate_buffer.hpp"
#include "vidx/graph/link_words.hpp"

namespace vidx {
namespace graph {

// Per-thread buffers of a filtered walk.
struct FilteredBuffers {
  std::vector<Neighbor> frontier;  // nodes to expand, allowed or not: a min-heap by distance
  std::vector<Neighbor> results;   // the best allowed nodes: a max-heap, then sorted nearest first
};

// Heap orders as function objects, not function pointers, so the heap algorithms inline them.
struct Closer {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return closer(a, b); }
};
struct Farther {
  bool operator()(const Neighbor& a, const Neighbor& b) const { return closer(b, a); }
};

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
    std::push_heap(frontier.begin(), frontier.end(), Farther{});
    if (!allowed(slot)) return;
    results.push_back(Neighbor{d, slot});
    std::push_heap(results.begin(), results.end(), Closer{});
    if (results.size() > width) {
      std::pop_heap(results.begin(), results.end(), Closer{});
      results.pop_back();
    }
  };
  visited.test_and_set(entry);
  offer(entry_distance, entry);
  uint32_t* gathered = gather.slots.data();
  const uint8_t** codes = gather.codes.data();
  float* dist = gather.distances.data();
  const size_t prefetch_bytes = gather_prefetch_bytes(qd);
  size_t computed = 0;
  while (!frontier.empty() && frontier.front().distance <= worst()) {
    const uint32_t node = frontier.front().slot;
    std::pop_heap(frontier.begin(), frontier.end(), Farther{});
    frontier.pop_back();
    const size_t n = gather_unvisited(links_of(node), code_of, prefetch_bytes, visited, gather);
    if (!frontier.empty()) prefetch_list_start(links_of(frontier.front().slot));  // as beam_search did
    if (n == 0) continue;
    computed += n;
    if (computed > budget) return false;
    const float bound = worst();
    if (bound < std::numeric_limits<float>::infinity()) qd.batch_bounded(codes, n, bound, dist);
    else qd.batch(codes, n, dist);
    for (size_t j = 0; j < n; ++j) offer(dist[j], gathered[j]);
  }
  std::sort_heap(results.begin(), results.end(), Closer{});
  return true;
}

// The allowed nodes near `node`, for a walk that scores allowed nodes only (ACORN-1's
// expansion): its allowed unvisited neighbours, then those of its disallowed neighbours (two
// hops: a disallowed node is passed through, never scored), up to the gather buffers' size
// (the graph's largest degree). Marks what it gathers visited; a disallowed neighbour is marked
// too, so its list is read once per query. Returns how many it gathered.
template <class LinksOf, class CodeOf, class Allowed>
size_t gather_allowed_two_hop(const uint32_t* lk, LinksOf links_of, CodeOf code_of, size_t prefetch_bytes,
                              Allowed allowed, VisitedSet& visited, GatherBuffers& gather) {
  const size_t cap = gather.slots.size();
  uint32_t passed[256];  // disallowed neighbours, whose own lists are read second
  size_t n_passed = 0;
  size_t n = 0;
  auto take = [&](uint32_t v) {
    gather.slots[n] = v;
    gather.codes[n] = code_of(v);
    simd::prefetch_bytes_to_l2(gather.codes[n], prefetch_bytes);  // as gather_unvisited
    ++n;
  };
  const uint32_t degree = load_degree(lk, gather.slots.size());
  for (uint32_t j = 1; j <= degree; ++j) visited.prefetch(load_link(lk, j));
  for (uint32_t j = 1; j <= degree && n < cap; ++j) {
    const uint32_t v = load_link(lk, j);
    if (visited.test_and_set(v)) continue;
    if (allowed(v)) take(v);
    else if (n_passed < 256) passed[n_passed++] = v;
  }
  for (size_t p = 0; p < n_passed && n < cap; ++p) {
    const uint32_t* lk2 = links_of(passed[p]);
    const uint32_t degree2 = load_degree(lk2, gather.slots.size());
    for (uint32_t j = 1; j <= degree2 && n < cap; ++j) {
      const uint32_t v = load_link(lk2, j);
      if (!visited.holds(v) || !allowed(v) || visited.test_and_set(v)) continue;
      take(v);
    }
  }
  return n;
}

// A beam search over the allowed nodes only, reached directly or through one disallowed node
// (gather_allowed_two_hop): it scores no disallowed node, so at 10-50% selectivity it computes
// far fewer distances than filtered_beam_search, at the price of a sparser graph. Leaves the
// best `width` allowed nodes, nearest first, in `out` (a beam of that width, like an unfiltered
// search of ef = width). Returns false, with `out` incomplete, once it has computed more than
// `budget` distances, or when it found fewer than `width` allowed nodes (the allowed nodes
// within its reach may be fewer than the filter allows). It refuses at once (false) when the
// entry's neighbours hold fewer than half the allowed nodes the filter's share of allowed rows
// (`share`) implies: the filter is
// then correlated with place (the allowed rows lie in another region than the query's), where
// walking the allowed nodes alone can stay stuck on the edge of their region; the full walk
// crosses the disallowed region instead.
template <class LinksOf, class CodeOf, class Allowed>
bool two_hop_beam_search(const QueryDistance& qd, uint32_t entry, float entry_distance, size_t width,
                         size_t budget, double share, LinksOf links_of, CodeOf code_of,
                         Allowed allowed, VisitedSet& visited, CandidateBuffer& beam, GatherBuffers& gather,
                         std::vector<Neighbor>& out) {
  const uint32_t* entry_links = links_of(entry);
  const uint32_t entry_degree = load_degree(entry_links, gather.slots.size());
  size_t near_entry = 0;
  for (uint32_t j = 1; j <= entry_degree; ++j) {
    const uint32_t v = load_link(entry_links, j);
    near_entry += visited.holds(v) && allowed(v);
  }
  if (2.0 * static_cast<double>(near_entry) < share * entry_degree) return false;
  visited.new_query();
  beam.reset(width);
  visited.test_and_set(entry);
  uint32_t* gathered = gather.slots.data();
  const uint8_t** codes = gather.codes.data();
  float* dist = gather.distances.data();
  const size_t prefetch_bytes = gather_prefetch_bytes(qd);
  size_t computed = 0;
  auto expand = [&](uint32_t node) {
    const size_t n = gather_allowed_two_hop(links_of(node), links_of, code_of, prefetch_bytes, allowed, visited, gather);
    if (n == 0) return;
    computed += n;
    if (beam.full()) qd.batch_bounded(codes, n, beam.bound(), dist);
    else qd.batch(codes, n, dist);
    for (size_t j = 0; j < n; ++j) beam.insert(dist[j], gathered[j]);
  };
  if (allowed(entry)) beam.insert(entry_distance, entry);
  else expand(entry);
  while (beam.has_unexpanded() && computed <= budget) expand(beam.pop_nearest_unexpanded());
  if (computed > budget || beam.size() < width) return false;
  out.resize(beam.size());
  for (size_t i = 0; i < beam.size(); ++i) out[i] = Neighbor{beam.distance(i), beam.slot(i)};
  return true;
}

}  // namespace graph
}  // namespace vidx
