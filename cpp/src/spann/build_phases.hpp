// The phases of a SPANN build (spann_index.hpp), each in its own file, and what they share.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/index.hpp"
#include "vidx/io/positional_io.hpp"
#include "vidx/io/posting_store.hpp"
#include "vidx/io/vector_source.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::spann {

constexpr uint32_t kNoList = std::numeric_limits<uint32_t>::max();

// The build's own large allocations, to size its buffers and report its peak.
struct MemoryTracker {
  uint64_t now = 0, peak = 0;
  void add(uint64_t b) {
    now += b;
    peak = std::max(peak, now);
  }
  void sub(uint64_t b) { now -= std::min(now, b); }
};

// Everything the phases need to know about the build.
struct BuildContext {
  io::VectorSource& source;
  const int64_t* ids;  // one per row, or nullptr for 0..n-1
  const ProgressFn& progress;
  size_t n = 0;
  size_t dim = 0;
  Metric metric = Metric::L2;
  const IndexOptions& options;
  ThreadPool& pool;
  uint64_t budget = 0;       // bytes the build may hold
  size_t heads_target = 0;
  size_t chunk = 0;          // rows read at a time
  uint64_t chunk_bytes = 0;  // what one chunk's buffers cost
  MemoryTracker mem{};
  // A rebuild that keeps the index's codec: the codes of rows [0, stored_rows) are read from this
  // file (code_size bytes each, in row order) instead of encoded again from their decoded rows,
  // which would round them a second time.
  const io::File* stored_codes = nullptr;
  size_t stored_rows = 0;

  void report(const char* phase, size_t done, size_t total) const {
    if (progress) progress(phase, done, total);
  }
  // Rows [begin, begin + count) as float32: NaN/inf refused naming the row, cosine normalised.
  void read_rows(size_t begin, size_t count, float* out) const;
};

// Distance between two heads as the head graph measures it (L2, or 1 - dot for IP).
struct HeadDistance {
  const float* vectors;
  size_t dim;
  Metric head_metric;
  float operator()(uint32_t x, uint32_t y) const {
    const float* p = vectors + size_t(x) * dim;
    const float* q = vectors + size_t(y) * dim;
    return simd::kernels().distance(head_metric == Metric::L2, p, q, dim);
  }
};

// The replica rule of the build and of later adds: walk a row's candidate heads nearest
// first, accept head h unless rng_factor * d(h, an accepted head) < d(row, h), stop at R.
// acc/acc_d receive the accepted lists and distances; returns how many.
inline size_t accept_replicas(const float* cand_d, const int64_t* cand_i, size_t C, size_t R, double rng_factor,
                              const HeadDistance& head_distance, uint32_t* acc, float* acc_d) {
  size_t cnt = 0;
  for (size_t j = 0; j < C && cnt < R; ++j) {
    if (cand_i[j] < 0) break;
    const uint32_t h = static_cast<uint32_t>(cand_i[j]);
    bool ok = true;
    for (size_t r = 0; r < cnt && ok; ++r)
      if (rng_factor * head_distance(h, acc[r]) < cand_d[j]) ok = false;
    if (!ok) continue;
    acc[cnt] = h;
    acc_d[cnt++] = cand_d[j];
  }
  return cnt;
}

// Checks the budget and sizes the chunks; InvalidArgument when the budget is too small.
void plan_build(BuildContext& b, double head_ratio);

// Phases 1-3: the sample (also trains the codec), the heads, their graph.
struct Heads {
  std::vector<float> vectors;  // H x dim, freed after the assignment
  std::unique_ptr<VectorIndex> index;
  size_t sample = 0;
};
Heads choose_heads(BuildContext& b, Codec& codec);

// Phases 4-5: per row, up to `replicas` lists (kNoList where fewer) and the row's position in
// each list; per list, its length.
struct Assignment {
  size_t replicas = 0;
  std::vector<uint32_t> list;      // n x replicas
  std::vector<uint32_t> position;  // n x replicas
  std::vector<uint32_t> counts;    // per list
  uint64_t entries = 0;
  uint64_t dropped = 0;
  size_t limit = 0;
};
Assignment assign_rows(BuildContext& b, Heads& heads);

// Phase 6: lays the lists out and writes the posting file at `path`.
struct WriteResult {
  uint64_t passes = 0;
  uint64_t file_bytes = 0;
  uint64_t build_id = 0;
};
WriteResult write_postings(BuildContext& b, const Assignment& a, const Codec& codec, const std::string& path);

}  // namespace vidx::spann
