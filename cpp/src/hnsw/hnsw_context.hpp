// Per-thread scratch of HNSW searches and inserts (private to the hnsw sources).
#pragma once
#include <memory>
#include <vector>

#include "vidx/common/visited_set.hpp"
#include "vidx/hnsw/candidate_buffer.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

struct HnswIndex::SearchContext {
  VisitedSet visited;
  CandidateBuffer beam;
  std::vector<uint32_t> gathered;           // unvisited neighbours of the node being expanded
  std::vector<const uint8_t*> gathered_codes;
  std::vector<float> gathered_distances;
  std::vector<Neighbor> candidates;         // build: beam copied out for neighbour selection
  std::vector<uint32_t> selected;           // build: chosen neighbours
  std::vector<uint32_t> pruned_by;          // build: per candidate, the chosen neighbour that ruled it out
  // build: chosen neighbours prepared as queries, for codecs that prefer prepared comparisons
  std::vector<std::unique_ptr<QueryDistance>> prepared;
  std::vector<const uint8_t*> compared_codes;  // build: codes of a target's old and new neighbours
  std::vector<float> compared_distances;

  void prepare(size_t graph_capacity, size_t max_degree) {
    visited.resize(graph_capacity);
    if (gathered.size() < max_degree) {
      gathered.resize(max_degree);
      gathered_codes.resize(max_degree);
      gathered_distances.resize(max_degree);
    }
  }
};

}  // namespace vidx
