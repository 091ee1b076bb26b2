// Per-thread scratch of HNSW searches and inserts (private to the hnsw sources).
#pragma once
#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "vidx/common/visited_set.hpp"
#include "vidx/graph/candidate_buffer.hpp"
#include "vidx/graph/beam_search.hpp"
#include "vidx/graph/link_words.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

// "Link `target` to `source` on `level`": a reverse edge produced by inserting `source` (or
// by a removal, for a node that lost its in-links).
struct HnswIndex::LinkRequest {
  uint32_t target;
  uint32_t source;
  uint32_t level;
};

struct HnswIndex::SearchContext {
  VisitedSet visited;
  CandidateBuffer beam;
  graph::GatherBuffers gather;             // unvisited neighbours of the node being expanded
  std::vector<Neighbor> candidates;         // build: beam copied out for neighbour selection
  std::vector<Neighbor> sparse;             // build: nearest nodes of level 1 (add_sparse_candidates)
  std::vector<uint32_t> selected;           // build: chosen neighbours
  std::vector<Neighbor> siblings;           // build: the other nodes of a small batch (add_batch_siblings)
  std::vector<uint32_t> from_graph;         // build: neighbours chosen in the graph, beside the siblings
  std::vector<uint32_t> pruned_by;          // build: per candidate, the chosen neighbour that ruled it out
  // build: per candidate, whether it is a copy of the list's node (mark_surplus_copies)
  enum CopyOfOwner : uint8_t { kNotACopy, kKeptCopy, kSurplusCopy };
  std::vector<uint8_t> copy_of_owner;
  std::vector<size_t> copies_below, copies_above;  // build: the node's copies among the candidates
  std::vector<std::pair<uint64_t, uint32_t>> new_sources;  // build: (code sample, slot), chain_copies_among_sources
  // build: chosen neighbours prepared as queries, for codecs that prefer prepared comparisons
  std::vector<std::unique_ptr<QueryDistance>> prepared;
  // build: a short candidate list of such codecs, decoded (select_neighbors)
  struct DecodedCandidates {
    std::vector<float> rows;       // a row of dim floats per candidate
    std::vector<uint8_t> ready;    // ready[i]: row i holds candidate i
    std::vector<uint32_t> chosen;  // the row of each neighbour kept so far
    size_t dim = 0;

    void reset(size_t candidates, size_t d) {
      dim = d;
      if (rows.size() < candidates * d) rows.resize(candidates * d);
      ready.assign(candidates, 0);
      chosen.clear();
    }
    // Candidate i's row, decoded by decode(i, row) on first use.
    template <class Decode>
    const float* row(size_t i, Decode decode) {
      float* r = rows.data() + i * dim;
      if (!ready[i]) {
        decode(i, r);
        ready[i] = 1;
      }
      return r;
    }
    const float* chosen_row(size_t j) const { return rows.data() + chosen[j] * dim; }
  } decoded;
  std::vector<const uint8_t*> compared_codes;  // build: codes of a target's old and new neighbours
  std::vector<float> compared_distances;

  void prepare(size_t graph_capacity, size_t max_degree) {
    visited.resize(graph_capacity);
    gather.reserve(max_degree);
  }
};

template <class CodeOf, class AtLevelEnd>
uint32_t HnswIndex::descend(const QueryDistance& qd, uint32_t entry, float& entry_distance, int from_level,
                            int to_level, CodeOf code_of, VisitedSet& seen, AtLevelEnd at_level_end) const {
  // Each hop scores the unseen part of the list at once: its codes are prefetched together,
  // and a code at or beyond the current distance cannot be the next hop, so the bounded kernel
  // may stop early on it (it would be discarded). A node scored before in this descent is
  // skipped: it lost to an entry then and the entry has only come nearer since (neighbouring
  // lists overlap, so this saves 10-20% of the descent's distances). The first nearest wins
  // ties, as one by one would.
  constexpr size_t kChunk = 64;
  const uint8_t* codes[kChunk];
  uint32_t slots[kChunk];
  float distances[kChunk];
  seen.new_query();
  seen.test_and_set(entry);
  for (int level = from_level; level >= to_level; --level) {
    bool moved = true;
    while (moved) {
      moved = false;
      const uint32_t* lk = links(entry, level);
      const uint32_t n = graph::load_degree(lk, M0_);
      for (uint32_t next = 1; next <= n;) {
        uint32_t count = 0;
        for (; next <= n && count < kChunk; ++next) {
          const uint32_t slot = graph::load_link(lk, next);
          slots[count] = slot;
          count += !seen.test_and_set(slot);
        }
        if (count == 0) break;
        for (uint32_t j = 0; j < count; ++j) {
          codes[j] = code_of(slots[j]);
          __builtin_prefetch(codes[j], 0, 3);
        }
        qd.batch_bounded(codes, count, entry_distance, distances);
        for (uint32_t j = 0; j < count; ++j) {
          if (distances[j] < entry_distance) {
            entry_distance = distances[j];
            entry = slots[j];
            moved = true;
          }
        }
      }
    }
    entry = at_level_end(level, entry);
  }
  return entry;
}

template <class CodeOf>
void HnswIndex::walk_layer(const QueryDistance& qd, uint32_t entry, float entry_distance, int level, size_t ef,
                           SearchContext& ctx, CodeOf code_of, size_t window) const {
  const size_t list_bytes = (capacity_at(level) + 1) * sizeof(uint32_t);  // the count word and the links
  graph::beam_search(
      qd, entry, entry_distance, ef, [this, level](uint32_t node) { return links(node, level); }, list_bytes,
      code_of, ctx.visited, ctx.beam, ctx.gather, window);
}

}  // namespace vidx
