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
