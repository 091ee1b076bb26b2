// Per-thread scratch of HNSW searches and inserts (private to the hnsw sources).
#pragma once
#include <memory>
#include <vector>

#include "vidx/common/visited_set.hpp"
#include "vidx/graph/candidate_buffer.hpp"
#include "vidx/graph/beam_search.hpp"
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
  std::vector<uint32_t> selected;           // build: chosen neighbours
  std::vector<uint32_t> pruned_by;          // build: per candidate, the chosen neighbour that ruled it out
  // build: chosen neighbours prepared as queries, for codecs that prefer prepared comparisons
  std::vector<std::unique_ptr<QueryDistance>> prepared;
  std::vector<const uint8_t*> compared_codes;  // build: codes of a target's old and new neighbours
  std::vector<float> compared_distances;

  void prepare(size_t graph_capacity, size_t max_degree) {
    visited.resize(graph_capacity);
    gather.reserve(max_degree);
  }
};

}  // namespace vidx
