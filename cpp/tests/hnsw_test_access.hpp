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

  // Each slot's top level, for slots below the count.
  static std::vector<int> levels(VectorIndex& index) {
    HnswIndex& h = of(index);
    auto lock = h.lock_shared();
    return std::vector<int>(h.levels_.begin(), h.levels_.begin() + h.count_.load());
  }
  // The entry point's slot (-1: empty graph), whether it is mid-insertion, and how many links
  // its level-0 list holds.
  struct Entry {
    int64_t slot = -1;
    bool inserting = false;
    uint32_t level0_links = 0;
  };
  static Entry entry(VectorIndex& index) {
    HnswIndex& h = of(index);
    uint32_t e = 0;
    Entry out;
    if (h.entry_point(e) < 0) return out;
    out.slot = e;
    out.inserting = h.state(e) == HnswIndex::kInserting;
    out.level0_links = h.links(e, 0)[0];
    return out;
  }

  // What a failed self-search check needs to tell a broken graph from a broken code: the live
  // nodes a level-0 walk from the entry point cannot reach, the level-0 links that name a slot
  // that is not live, and the entry point's state and level against the top level.
  struct Reach {
    size_t live = 0, unreachable = 0, dead_links = 0;
    int entry_state = -1, entry_level = -1, top_level = -1;
  };
  static Reach reachability(VectorIndex& index) {
    HnswIndex& h = of(index);
    auto lock = h.lock_shared();
    Reach r;
    const size_t end = h.count_.load();
    uint32_t entry = 0;
    r.top_level = h.entry_point(entry);
    if (r.top_level < 0 || entry >= end) return r;
    r.entry_state = h.state(entry);
    r.entry_level = h.levels_[entry];
    std::vector<char> seen(end, 0);
    std::vector<uint32_t> stack{entry};
    seen[entry] = 1;
    while (!stack.empty()) {
      const uint32_t u = stack.back();
      stack.pop_back();
      const uint32_t* lk = h.links(u, 0);
      for (uint32_t j = 1; j <= lk[0]; ++j)
        if (lk[j] < end && !seen[lk[j]]) seen[lk[j]] = 1, stack.push_back(lk[j]);
    }
    for (uint32_t u = 0; u < end; ++u) {
      if (h.state(u) != HnswIndex::kLive) continue;
      ++r.live;
      r.unreachable += !seen[u];
      const uint32_t* lk = h.links(u, 0);
      for (uint32_t j = 1; j <= lk[0]; ++j) r.dead_links += lk[j] >= end || h.state(lk[j]) != HnswIndex::kLive;
    }
    return r;
  }
};

}  // namespace vidx
