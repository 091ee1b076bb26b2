// HNSW search under a filter, and range search.
//
// Which way a filtered query goes. A filtered walk of width w must pass disallowed nodes to
// collect w allowed ones: at selectivity s = m/n it computes about c * w / s distances; an exact
// scan of the m allowed rows computes m. So it scans exactly when
//     m <= w, or m * m <= kWalkCostFactor * w * n,
// else it walks, with a budget of kBudgetFactor * m distances: a walk that runs past it (an
// unlucky region of the graph) stops and the allowed rows are scanned instead, so a query
// never costs much more than the cheaper of the two. m is the filter's count when it knows it
// (allow-lists), else an estimate from a fixed sample of slots. n counts live rows only: taken
// over every slot, removed rows not yet reused (under churn, more than the live ones) made a
// 50% filter look far narrower and chose a two-hop walk that took twice as long.
// kWalkCostFactor was measured on fashion-mnist (60k x 784, M=16, single thread, random
// allow-lists): the walk and the scan cost the same near s = 3.5% for w = 16 (m ~ 2000) and
// near s = 7% for w = 64 (m ~ 4000); both give m^2 / (w n) ~ 4.
// A walk at 8-25% selectivity scores allowed nodes only (ACORN-1's two-hop expansion; see
// kTwoHopMin), above and below it scores every node it passes.
#include <algorithm>
#include <limits>
#include <vector>

#include "hnsw_context.hpp"
#include "vidx/common/filtered_scan.hpp"
#include "vidx/common/thread_scratch.hpp"
#include "vidx/graph/filtered_beam_search.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {
namespace {

constexpr size_t kWalkCostFactor = 4;
constexpr size_t kBudgetFactor = 2;
constexpr size_t kSampleSize = 512;

// Allowed rows among n: the filter's own count, else the share of a fixed pseudo-random
// sample of slots (a hash, so regular id patterns do not line up with the sample).
size_t estimate_allowed(const RowFilter& filter, size_t n) {
  const size_t known = filter.allowed_count();
  if (known != RowFilter::kUnknownCount) return known;
  if (n <= kSampleSize) {
    size_t hits = 0;
    for (size_t s = 0; s < n; ++s) hits += filter.allows_slot(static_cast<uint32_t>(s));
    return hits;
  }
  size_t hits = 0;
  for (uint64_t i = 0; i < kSampleSize; ++i)
    hits += filter.allows_slot(static_cast<uint32_t>((i * 0x9E3779B97F4A7C15ull >> 11) % n));
  return hits * n / kSampleSize;
}

bool exact_scan_is_cheaper(size_t allowed, size_t width, size_t n) {
  return allowed <= width || static_cast<double>(allowed) * allowed <=
                                 static_cast<double>(kWalkCostFactor) * width * n;
}

// Between these shares of allowed rows the walk scores allowed nodes only, reaching them
// directly or through one disallowed node (graph::two_hop_beam_search, ACORN-1's expansion);
// outside, it scores every node it passes (graph::filtered_beam_search). Measured on
// fashion-mnist (M=16, ef 10, single thread, microseconds per query and recall@10, full walk
// vs two-hop): 40% 473 (0.973) vs 782 (0.969); 30% 514 vs 728; 20% 695 (0.989) vs 555 (0.982);
// 10% 745 (0.994) vs 284 (0.972); 5% 1876 (0.998) vs 585 (0.927); 3%: two-hop recall 0.82.
// Below ~8% the allowed nodes within two hops grow too few for the walk's recall to hold at a
// small ef (and from ~3% an exact scan is cheaper anyway).
constexpr double kTwoHopMin = 0.08;
constexpr double kTwoHopMax = 0.25;

bool two_hop_walk_is_cheaper(double share) {
  return share >= kTwoHopMin && share <= kTwoHopMax;
}

}  // namespace

std::vector<Neighbor> HnswIndex::nearest_allowed_precise(const float* query, size_t count, const RowFilter* filter,
                                                         size_t width) const {
  const auto precise = codec_->prepare_precise(query);
  thread_local std::vector<uint32_t> rows;
  const ShrinkWhenDone<uint32_t> keep_rows_small(rows);
  rows.clear();
  for_each_allowed_slot(filter, count, [&](uint32_t s) { rows.push_back(s); });
  // Allowed rows lie far apart: both parts of a few rows ahead are requested before scoring.
  // (A bounded batch over the joined halves, abandoning rows as float32's scan does, was slower
  // at 1% allowed and level at 3% on fashion-mnist: graph.md section 18.)
  constexpr size_t kAhead = 4;
  const auto request = [&](uint32_t s) {
    simd::prefetch_bytes_to_l2(code(s), head_size_);
    prefetch_precise(s);
  };
  for (size_t j = 0; j < std::min(rows.size(), kAhead); ++j) request(rows[j]);
  TopK top(width);
  for (size_t j = 0; j < rows.size(); ++j) {
    if (j + kAhead < rows.size()) request(rows[j + kAhead]);
    const float d = precise->one_split(code(rows[j]), tail(rows[j]));
    if (d <= top.threshold()) top.push(d, rows[j]);
  }
  return std::move(top.sorted());
}

bool HnswIndex::nearest_allowed(const QueryDistance& qd, size_t width, const RowFilter* filter,
                                std::vector<Neighbor>& out, const float* query) const {
  out.clear();
  // Registered for the whole walk: a node removed meanwhile keeps its memory until we leave.
  graph::GracePeriod::Reader reading(grace_);
  uint32_t entry = 0;
  const int max_level = entry_point(entry);
  if (max_level < 0) return false;
  const size_t n = structure_size();
  const size_t allowed = filter ? estimate_allowed(*filter, n) : n;
  // The exact scan of the allowed rows: chosen up front when cheaper, else the fallback of a
  // walk that ran past its budget. Kept float32 vectors make it exact in float32 too, where a
  // scan of the walk's codes could rank a true neighbour past `width` (the bounded float32
  // kernel stops early on rows beyond the best so far, so it reads little more). So do codes
  // whose precise level is the stored vector itself (f32_split's joined halves): scanned by it,
  // they give a float32 index's answer, where their walk distances (upper halves: within 2^-8)
  // missed a true neighbour in 2-4 of 60 queries at 1-5% of 4000 clustered rows.
  const bool scans_kept = kept_codec_ && query;
  const bool scans_precise = !scans_kept && query && codec_->reranks() && codec_->decodes_exactly();
  const auto scan = [&] {
    if (scans_kept) {
      out = nearest_allowed_rows(*kept_codec_->prepare(query), kept_.data(), kept_codec_->code_size(), n, filter,
                                 width);
    } else if (scans_precise) {
      out = nearest_allowed_precise(query, n, filter, width);
    } else {
      out = nearest_allowed_rows(qd, heads_.data(), head_stride_, n, filter, width);
    }
    return scans_kept || scans_precise;
  };
  // A walk as wide as the index reads every row it can reach, and costs more than a scan: the
  // scan reads those it cannot reach too (a search of every row, or a range search widened to them).
  const size_t live = std::max<size_t>(live_slots(), 1);
  if (width >= live || (filter && exact_scan_is_cheaper(allowed, width, live))) return scan();
  // The walk asks the filter only: returnable() reads two arrays of the index's size (a cache
  // miss each, for every allowed node scored), and the rows it refuses (being inserted, or
  // removed while we walk) are rare. They are dropped from the results afterwards; only a
  // walk left short of `width` by that walks again, checking every node.
  const auto allowed_by_filter = [filter](uint32_t slot) { return !filter || filter->allows_slot(slot); };
  if (!walk_allowed(qd, entry, max_level, width, allowed, filter, allowed_by_filter, out)) return scan();
  const size_t walked = out.size();
  out.erase(std::remove_if(out.begin(), out.end(), [this](const Neighbor& nb) { return !returnable(nb.slot); }),
            out.end());
  if (out.size() == walked) return false;
  const auto returnable_allowed = [this, filter](uint32_t slot) {
    return (!filter || filter->allows_slot(slot)) && returnable(slot);
  };
  if (!walk_allowed(qd, entry, max_level, width, allowed, filter, returnable_allowed, out)) return scan();
  return false;
}

template <class Allowed>
bool HnswIndex::walk_allowed(const QueryDistance& qd, uint32_t entry, int max_level, size_t width, size_t allowed,
                             const RowFilter* filter, Allowed allowed_slot, std::vector<Neighbor>& out) const {
  thread_local graph::FilteredBuffers buffers;
  const ShrinkWhenDone<Neighbor> keep_frontier_small(buffers.frontier);
  const ShrinkWhenDone<Neighbor> keep_results_small(buffers.results);
  auto ctx = acquire_context();
  float d = qd.one(code(entry));
  const uint32_t start = greedy_descend(qd, entry, d, max_level, 1, ctx->visited);
  const size_t budget = filter ? std::max(kBudgetFactor * allowed, width) : std::numeric_limits<size_t>::max();
  const auto links_of = [this](uint32_t node) { return links(node, 0); };
  const auto code_of = [this](uint32_t slot) { return code(slot); };
  // A two-hop walk that falls short (too few allowed nodes within its reach, or past its
  // budget) is followed by the full filtered walk, which reaches every allowed node.
  const double share = static_cast<double>(allowed) / static_cast<double>(std::max<size_t>(live_slots(), 1));
  if (filter && two_hop_walk_is_cheaper(share) &&
      graph::two_hop_beam_search(qd, start, d, width, budget, share, links_of, code_of, allowed_slot, ctx->visited,
                                 ctx->beam, ctx->gather, out)) {
    release_context(std::move(ctx));
    return true;
  }
  const bool finished = graph::filtered_beam_search(qd, start, d, width, budget, links_of, code_of, allowed_slot,
                                                    ctx->visited, buffers, ctx->gather);
  release_context(std::move(ctx));
  if (finished) out.assign(buffers.results.begin(), buffers.results.end());
  return finished;
}

size_t HnswIndex::search_filtered(const float* q, size_t k, const SearchParams& params, const RowFilter* filter,
                                  float* distances, int64_t* slots) const {
  // As search_one: with precise distances at hand the walk keeps the re-rank count of allowed
  // candidates, and at most those are re-scored.
  const size_t ef = std::max(params.ef, k);
  const size_t rerank_count = has_precise_distances() ? std::max(params.rerank ? params.rerank : ef, k) : 0;
  thread_local std::vector<Neighbor> found;
  const ShrinkWhenDone<Neighbor> keep_found_small(found);
  const bool exact = nearest_allowed(*prepare_walk(q), std::max(ef, rerank_count), filter, found, q);
  size_t n = 0;
  if (rerank_count && !exact) {
    found.resize(std::min(found.size(), rerank_count));
    n = rerank(q, found, k, params.rerank == 0, distances, slots);
  } else {
    for (size_t j = 0; j < found.size() && n < k; ++j) {
      if (!returnable(found[j].slot)) continue;  // removed (or being inserted) meanwhile
      distances[n] = found[j].distance;
      slots[n++] = found[j].slot;
    }
  }
  for (size_t j = n; j < k; ++j) {
    distances[j] = std::numeric_limits<float>::infinity();
    slots[j] = -1;
  }
  return n;
}

void HnswIndex::range_one(const float* q, float radius, size_t ef, const RowFilter* filter,
                          std::vector<Neighbor>& out) const {
  // Approximate: a walk of width ef; while all of its results lie inside the radius there may
  // be more beyond them, so it is repeated with ef doubled, up to the whole index (which
  // nearest_allowed scans). A walk short of its width has found every row it can reach: all
  // the filter allows, or not (a row may have no way in: under "ip", rows of small norm are
  // rarely anyone's neighbour), when it is widened too.
  const auto qd = prepare_walk(q);
  const size_t live = std::max<size_t>(live_slots(), 1);
  const size_t returnable_rows = filter ? std::min(estimate_allowed(*filter, structure_size()), live) : live;
  for (size_t width = std::max<size_t>(ef, 1);; width *= 2) {
    const bool exact = nearest_allowed(*qd, width, filter, out, q);
    if (has_precise_distances() && !exact) rescore(q, out);
    const bool every_row_read = width >= live || (out.size() < width && out.size() >= returnable_rows);
    if (every_row_read || (!out.empty() && out.back().distance >= radius)) break;
  }
  const auto outside = std::lower_bound(out.begin(), out.end(), radius,
                                        [](const Neighbor& n, float r) { return n.distance < r; });
  out.erase(outside, out.end());
}

void HnswIndex::range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params,
                                  RangeResult& out, ThreadPool& pool) const {
  std::vector<std::vector<Neighbor>> found(nq);
  pool.parallel_for(nq, [&](size_t i, size_t) {
    const RowFilter* filter = params.row_filters ? params.row_filters->of(i) : nullptr;
    range_one(q + i * dim(), radius, params.ef, filter, found[i]);
  });
  append_range_results(found, out);
}

}  // namespace vidx
