// Test-only access to HnswIndex's structure hooks, driven as the base's concurrent-write
// protocol does: storage grows under the exclusive lock (reserve_rows), add_rows / remove_rows
// / search_rows run under the shared one. Results are slots (the base's id map is not used).
#pragma once
#include <memory>
#include <vector>

#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

struct HnswTestAccess {
  static HnswIndex& of(VectorIndex& index) { return dynamic_cast<HnswIndex&>(index); }

  static void add(VectorIndex& index, const float* x, size_t n, const uint32_t* slots) {
    HnswIndex& h = of(index);
    uint32_t top = 0;
    for (size_t i = 0; i < n; ++i) top = std::max(top, slots[i]);
    {
      auto lock = h.lock_exclusive();
      h.reserve_rows(static_cast<size_t>(top) + 1);
    }
    auto lock = h.lock_shared();
    h.add_rows(x, n, slots, pool(h));
  }
  static void remove(VectorIndex& index, const uint32_t* slots, size_t n) {
    HnswIndex& h = of(index);
    auto lock = h.lock_shared();
    h.remove_rows(slots, n, pool(h));
  }
  static std::vector<uint32_t> compact(VectorIndex& index) {
    HnswIndex& h = of(index);
    auto lock = h.lock_exclusive();
    return h.compact_rows(pool(h));
  }
  static bool decode(VectorIndex& index, const uint32_t* slots, size_t n, float* out) {
    HnswIndex& h = of(index);
    auto lock = h.lock_shared();
    return h.decode_rows(slots, n, out);
  }
  static void search(VectorIndex& index, const float* q, size_t nq, size_t k, size_t ef, float* d, int64_t* slots) {
    HnswIndex& h = of(index);
    SearchParams params;
    params.ef = ef;
    auto lock = h.lock_shared();
    h.search_rows(q, nq, k, params, d, slots, pool(h));
  }
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
  static size_t memory(VectorIndex& index) {
    HnswIndex& h = of(index);
    auto lock = h.lock_shared();
    return h.structure_memory();
  }

 private:
  // One pool per writer thread: the tests run several writers at once, as the base will.
  static ThreadPool& pool(const HnswIndex& h) {
    thread_local std::unique_ptr<ThreadPool> p;
    if (!p) p = std::make_unique<ThreadPool>(h.threads());
    return *p;
  }
};

}  // namespace vidx
