// Sizing a SPANN build to its memory budget, and reading its rows.

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "build_phases.hpp"
#include "vidx/codec/registry.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/memory_limit.hpp"

namespace vidx::spann {
namespace {

std::string bytes_text(uint64_t b) {
  char buf[64];
  if (b >= (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / 1073741824.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", b / 1048576.0);
  return std::to_string(b) + " bytes (" + buf + ")";
}

}  // namespace

void BuildContext::read_rows(size_t begin, size_t count, float* out) const {
  source.read(begin, count, out);
  // The checks add() makes of in-memory rows, chunk by chunk (rows named by their place in the source).
  check_vectors_for(options.quant, metric, out, count, dim, begin);
  if (metric == Metric::Cosine)
    for (size_t r = 0; r < count; ++r) normalize_in_place(out + r * dim, dim);
}

void plan_build(BuildContext& b, double head_ratio) {
  const SpannOptions& o = b.options.spann;
  const uint64_t usable = o.memory_budget ? 0 : usable_memory();
  b.budget = o.memory_budget ? o.memory_budget : usable / 2;
  b.heads_target = std::clamp<size_t>(static_cast<size_t>(std::llround(head_ratio * b.n)), 1, b.n);
  const size_t R = o.replicas;
  const size_t row_bytes = b.dim * sizeof(float);
  const size_t cand = std::min(o.candidates, b.heads_target);
  const size_t chunk_rows = std::clamp<size_t>(
      std::min<uint64_t>(uint64_t(64) << 20, b.budget / 16) / (row_bytes + cand * 12 + R * 8), 256, 65536);
  b.chunk = std::min(b.n, chunk_rows);
  b.chunk_bytes = uint64_t(b.chunk) * (2 * row_bytes + cand * 12);
  // What the build holds besides the sample and the write region: the head vectors and their
  // graph (estimated), the per-replica assignment (list + distance/position) and, while the
  // lists are cut, their member table.
  const uint64_t head_bytes = b.heads_target * (row_bytes + 8 * b.options.M + 64) * 2;
  const uint64_t assign_bytes = uint64_t(b.n) * R * 16 + b.n;
  const uint64_t need = head_bytes + assign_bytes + b.chunk_bytes + (uint64_t(1) << 20);
  // A default budget stretches to what the build needs, within what the process may use, rather
  // than refuse a build that fits (in a small container half its memory may not hold the heads).
  if (need > b.budget && !o.memory_budget && need <= usable) b.budget = need;
  if (need > b.budget)
    throw InvalidArgument("memory_budget of " + bytes_text(b.budget) + " is too small for " + std::to_string(b.n) +
                          " vectors of dimension " + std::to_string(b.dim) + ": the build needs at least " +
                          bytes_text(need) +
                          (o.memory_budget ? std::string()
                                           : " (memory_budget was not given: the process may use " + bytes_text(usable) +
                                                 ", the machine's memory or a container's limit)"));
}

}  // namespace vidx::spann
