// Test-only access to HnswIndex's internals: graph figures the public API does not give.
#pragma once
#include <memory>
#include <vector>

#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

struct HnswTestAccess {
  static HnswIndex& of(VectorIndex& index) { return dynamic_cast<HnswIndex&>(index); }

  // Slots the structure holds, free ones included.
  static size_t slot_count(VectorIndex& index) { return of(index).count_.load(); }
  // Mean level-0 out-degree of live nodes, and how many live nodes no list links to.
  static std::pair<double, size_t> degree_stats(VectorIndex& index) {
    HnswIndex& h = of(index);
    auto lock = h.lock_shared();
    const size_t end = h.count_.load();
    std::vector<uint32_t> in(end, 0);
    size_t live = 0, edges = 0;
    for (uint32_t u = 0; u < end; ++u) {
      if (h.state(u) != HnswIndex::kLive) continue;
      ++live;
      const uint32_t* lk = h.links(u, 0);
      edges += lk[0];
      for (uint32_t j = 1; j <= lk[0]; ++j) ++in[lk[j]];
    }
    size_t orphans = 0;
    for (uint32_t u = 0; u < end; ++u) orphans += h.state(u) == HnswIndex::kLive && in[u] == 0;
    return {live ? static_cast<double>(edges) / live : 0.0, orphans};
  }
};

}  // namespace vidx
