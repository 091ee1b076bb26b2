// HNSW storage and search. Construction is in hnsw_build.cpp, files in hnsw_file.cpp.
#include "vidx/hnsw/hnsw_index.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "hnsw_context.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/common/thread_scratch.hpp"
#include "vidx/common/topk.hpp"
#include "vidx/graph/link_words.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }

}  // namespace

HnswIndex::HnswIndex(size_t dim, Metric metric, const IndexOptions& options)
    : VectorIndex(dim, metric, with_default_quant(options, kDefaultCodec)),
      codec_(make_codec(this->options().quant, dim, metric, options.seed)),
      degree_pending_(options.M == 0) {
  if (options.M != 0 && (options.M < 2 || options.M > 2048))
    throw InvalidArgument("M must be between 2 and 2048 (or 0: automatic), got " + std::to_string(options.M));
  if (options.ef_construction < 1) throw InvalidArgument("ef_construction must be at least 1");
  if (options.ef_search < 1) throw InvalidArgument("ef_search must be at least 1");
  // An automatic M is laid out as the default until an add chooses (hnsw_widen.cpp).
  set_degree(degree_pending_ ? kDefaultDegree : options.M);
  if (options.keep_vectors) kept_codec_ = make_codec("f32", dim, metric);
  set_head_layout();
  learning_.learns = codec_->needs_training();
  learning_.keeps_learning = true;  // sign codes settle later (codec/relearning.hpp)
  // Only a walk that is exact on zero tails (and whose candidates are re-scored from those tails,
  // not from kept vectors) has anything to gain from knowing they are all zero.
  tails_all_zero_.store(!kept_codec_ && tail_size_ > 0 && codec_->walks_exactly_with_zero_tails());
}

void HnswIndex::set_degree(size_t M) {
  M_ = M;
  M0_ = 2 * M;
  ef_construction_ = std::max(options().ef_construction, M);
  level_multiplier_ = 1.0 / std::log(static_cast<double>(M));
}

// Average cache lines a head of `bytes` touches when heads lie `stride` apart from a
// line-aligned start (the 64 offsets stride·i mod 64 repeat with every slot's).
static double lines_per_head(size_t bytes, size_t stride) {
  size_t lines = 0;
  for (size_t i = 0; i < 64; ++i) lines += ((i * stride) % 64 + bytes + 63) / 64;
  return static_cast<double>(lines) / 64.0;
}

void HnswIndex::set_head_layout() {
  // Heads are 16-byte aligned, except:
  // - long ones are aligned to their codec's widest load (a cache line for float32), so SIMD
  //   loads never split a line;
  // - a shorter head is kept within as few lines as its size allows (up to a line: aligned to
  //   its size rounded up to a power of two; up to 256 bytes: to whole lines) where that
  //   touches fewer lines on average and adds at most a quarter to the node's level-0 bytes
  //   (head and list): a walk waits on every line it loads. glove's 64-byte LVQ-8 heads read
  //   from one line instead of two were walked 1.16-1.18x faster (graph.md section 14), and
  //   its 100-byte f32_split heads from two lines instead of 2.5 on average (section 17).
  head_size_ = codec_->head_size();
  tail_size_ = codec_->code_size() - head_size_;
  const size_t list_bytes = level0_list_words() * sizeof(uint32_t);
  head_stride_ = round_up(head_size_, 16);
  if (head_size_ >= 256) {
    head_stride_ = round_up(head_size_, std::max<size_t>(16, codec_->load_alignment()));
    return;
  }
  size_t line_share = 16;
  while (line_share < head_size_ && line_share < 64) line_share *= 2;
  const size_t aligned = round_up(head_size_, line_share);
  if (lines_per_head(head_size_, aligned) < lines_per_head(head_size_, head_stride_) &&
      4 * (aligned + list_bytes) <= 5 * (head_stride_ + list_bytes))
    head_stride_ = aligned;
}

HnswIndex::~HnswIndex() = default;

void HnswIndex::reserve_records(size_t n) {
  if (n <= capacity_) return;
  const size_t list_bytes = level0_list_words() * sizeof(uint32_t);
  // The new records come zeroed (empty lists) and, in a large buffer, untouched: the
  // capacity a growth adds ahead of the rows is not resident until rows are written there.
  heads_.reallocate(n * head_stride_);
  links0_.reallocate(n * list_bytes);
  if (tail_size_) tails_.reallocate(n * tail_size_);
  if (kept_codec_) kept_.reallocate(n * kept_codec_->code_size());
  std::unique_ptr<std::atomic<uint8_t>[]> states(new std::atomic<uint8_t>[n]());
  for (size_t s = 0; s < capacity_; ++s) states[s].store(states_[s].load(std::memory_order_relaxed));
  states_ = std::move(states);
  capacity_ = n;
}

void HnswIndex::reserve_rows(size_t slot_count) {
  if (slot_count <= capacity_) return;
  const size_t grown = std::max(slot_count, capacity_ + capacity_ / 2);
  const size_t old = capacity_;
  reserve_records(grown);
  // Every slot gets its level and upper lists now: add_rows never moves upper_ under searches.
  levels_.resize(grown);
  upper_offset_.resize(grown);
  size_t words = upper_.size();
  for (size_t s = old; s < grown; ++s) {
    levels_[s] = static_cast<uint8_t>(sample_level(static_cast<uint32_t>(s)));
    upper_offset_[s] = words;
    words += static_cast<size_t>(levels_[s]) * (M_ + 1);
  }
  upper_.resize(words, 0);
}

int HnswIndex::sample_level(uint32_t slot) const {
  // A hash of (seed, slot) instead of a shared generator: the level of a node does not
  // depend on which thread inserts it or when.
  const double u = hash_to_unit(options().seed, slot);
  const double level = std::floor(-std::log(u) * level_multiplier_);
  return static_cast<int>(std::min(level, 31.0));
}

void HnswIndex::write_list(uint32_t* lk, const uint32_t* slots, size_t count) {
  for (size_t j = 0; j < count; ++j) graph::store_link(lk, static_cast<uint32_t>(j + 1), slots[j]);
  graph::publish_count(lk, static_cast<uint32_t>(count));
}

void HnswIndex::score_with(const QueryDistance& qd, std::vector<Neighbor>& candidates, SearchContext& ctx) const {
  ctx.compared_codes.resize(candidates.size());
  ctx.compared_distances.resize(candidates.size());
  for (size_t j = 0; j < candidates.size(); ++j) ctx.compared_codes[j] = code(candidates[j].slot);
  qd.batch(ctx.compared_codes.data(), candidates.size(), ctx.compared_distances.data());
  for (size_t j = 0; j < candidates.size(); ++j) candidates[j].distance = ctx.compared_distances[j];
}

void HnswIndex::score_from(uint32_t base, std::vector<Neighbor>& candidates, SearchContext& ctx) const {
  const uint8_t* base_code = code(base);
  if (codec_->prefers_prepared_comparisons()) {
    // The base decoded once, then one batch of asymmetric distances.
    score_with(*codec_->prepare_from_code(base_code, tail(base)), candidates, ctx);
  } else {
    for (Neighbor& nb : candidates) nb.distance = codec_->distance_between(base_code, code(nb.slot));
  }
}

std::map<std::string, size_t> HnswIndex::structure_memory_parts() const {
  std::map<std::string, size_t> parts;
  const size_t code_bytes = capacity_ * head_size_;  // the code heads (their padding counts as graph)
  parts["codes"] = code_bytes;
  parts["graph"] = heads_.size() - code_bytes + links0_.size() + upper_.capacity() * sizeof(uint32_t) +
                   upper_offset_.capacity() * sizeof(uint64_t) + levels_.capacity() + capacity_ /* states */;
  parts["rerank_codes"] = tails_.size();
  parts["kept_vectors"] = kept_.size();
  parts["codec"] = codec_->parameter_bytes();
  parts["scratch"] = contexts_.memory([](const SearchContext& ctx) { return ctx.visited.memory_usage(); });
  return parts;
}

size_t HnswIndex::structure_memory() const {
  size_t bytes = 0;
  for (const auto& part : structure_memory_parts()) bytes += part.second;
  return bytes;
}

std::unique_ptr<HnswIndex::SearchContext> HnswIndex::acquire_context() const {
  std::unique_ptr<SearchContext> ctx = contexts_.take();
  ctx->prepare(capacity_, M0_);
  return ctx;
}

void HnswIndex::release_context(std::unique_ptr<SearchContext> ctx) const {
  contexts_.give_back(std::move(ctx));
}

uint32_t HnswIndex::greedy_descend(const QueryDistance& qd, uint32_t entry, float& entry_distance, int from_level,
                                   int to_level, VisitedSet& seen) const {
  return descend(
      qd, entry, entry_distance, from_level, to_level, [this](uint32_t s) { return code(s); }, seen,
      [](int, uint32_t e) { return e; });
}

void HnswIndex::search_layer(const QueryDistance& qd, uint32_t entry, float entry_distance, int level, size_t ef,
                             SearchContext& ctx, size_t window) const {
  walk_layer(qd, entry, entry_distance, level, ef, ctx, [this](uint32_t s) { return code(s); }, window);
}

void HnswIndex::prefetch_precise(uint32_t slot) const {
  const size_t bytes = kept_codec_ ? kept_codec_->code_size() : tail_size_;
  simd::prefetch_bytes_to_l2(kept_codec_ ? kept_.data() + static_cast<size_t>(slot) * bytes : tail(slot), bytes);
}

void HnswIndex::rescore(const float* q, std::vector<Neighbor>& found) const {
  if (walk_is_precise()) return std::sort(found.begin(), found.end(), closer);
  for (const Neighbor& n : found) prefetch_precise(n.slot);
  const auto precise = kept_codec_ ? kept_codec_->prepare(q) : codec_->prepare_precise(q);
  const size_t kept_bytes = kept_codec_ ? kept_codec_->code_size() : 0;
  for (Neighbor& n : found) {
    const uint32_t s = n.slot;
    n.distance = kept_codec_ ? precise->one(kept_.data() + s * kept_bytes) : precise->one_split(code(s), tail(s));
  }
  std::sort(found.begin(), found.end(), closer);
}

size_t HnswIndex::rerank(const float* q, const std::vector<Neighbor>& walked, size_t k, bool adaptive,
                         float* distances, int64_t* slots) const {
  // Adaptive: the walk's order is nearly the precise one, so past the first few the re-rank
  // stops at the first candidate whose walk distance, less kWalkErrorMargin times the largest
  // walk error seen so far in this query, could no longer beat the k-th precise distance. The
  // walk distances are sorted, so no later candidate could either. Fine codes (LVQ-8) stop a
  // few past k; coarse ones (LVQ-4) see large errors and go on through the beam.
  constexpr size_t kRerankSample = 8;      // re-scored always, to learn the walk's error
  constexpr float kWalkErrorMargin = 2.f;  // the error the next candidate may have, in multiples of the worst seen
  constexpr size_t kPrefetchAhead = 4;     // candidates whose bytes are requested before they are scored
  constexpr size_t kReturnableAhead = 32;  // candidates whose node state and label are requested before
  const size_t n = walked.size();
  const size_t sure = adaptive ? std::min(n, std::max(k, kRerankSample)) : n;
  // Walk distances that are already the precise ones (zero tails) are taken as they are: the
  // same distances, chosen by the same loop, without reading each candidate's code again. On
  // fashion-mnist (pixels, exact in bfloat16) the reads were about 12% of a query at ef 12.
  // An explicit rerank= still re-scores.
  const bool walk_precise = adaptive && walk_is_precise();
  for (size_t j = 0; j < std::min(n, sure + kPrefetchAhead); ++j)
    if (!walk_precise) prefetch_precise(walked[j].slot);
  for (size_t j = 0; j < std::min(n, kReturnableAhead); ++j) prefetch_returnable(walked[j].slot);
  const auto precise = walk_precise ? nullptr : kept_codec_ ? kept_codec_->prepare(q) : codec_->prepare_precise(q);
  const size_t kept_bytes = kept_codec_ ? kept_codec_->code_size() : 0;
  TopK best(k);
  float worst_error = 0.f;
  for (size_t j = 0; j < n; ++j) {
    const float walk_distance = walked[j].distance;
    if (j >= sure) {
      if (walk_distance - kWalkErrorMargin * worst_error >= best.threshold()) break;
      if (!walk_precise && j + kPrefetchAhead < n) prefetch_precise(walked[j + kPrefetchAhead].slot);
      if (j + kReturnableAhead < n) prefetch_returnable(walked[j + kReturnableAhead].slot);
    }
    const uint32_t s = walked[j].slot;
    const float d = walk_precise  ? walk_distance
                    : kept_codec_ ? precise->one(kept_.data() + s * kept_bytes)
                                  : precise->one_split(code(s), tail(s));
    worst_error = std::max(worst_error, std::abs(d - walk_distance));
    if (returnable(s)) best.push(d, s);  // else removed (or still being inserted) while we walked
  }
  const std::vector<Neighbor>& found = best.sorted();
  for (size_t j = 0; j < found.size(); ++j) {
    distances[j] = found[j].distance;
    slots[j] = found[j].slot;
  }
  return found.size();
}

size_t HnswIndex::search_one(const float* q, size_t k, const SearchParams& params, float* distances,
                             int64_t* slots) const {
  // Registered for the whole walk: a node removed meanwhile keeps its memory until we leave.
  graph::GracePeriod::Reader reading(grace_);
  auto ctx = acquire_context();
  const size_t found = search_one(q, k, params, *ctx, distances, slots);
  release_context(std::move(ctx));
  return found;
}

size_t HnswIndex::search_one(const float* q, size_t k, const SearchParams& params, SearchContext& ctx,
                             float* distances, int64_t* slots) const {
  size_t found = 0;
  uint32_t entry = 0;
  const int max_level = entry_point(entry);
  if (max_level >= 0) {
    // With precise distances at hand the beam is at least the re-rank buffer, and the
    // compact distances only choose which candidates reach it.
    const size_t ef = std::max(params.ef, k);
    const size_t rerank_count = has_precise_distances() ? std::max(params.rerank ? params.rerank : ef, k) : 0;
    const auto qd = prepare_walk(q);
    float d = qd->one(code(entry));
    const uint32_t start = greedy_descend(*qd, entry, d, max_level, 1, ctx.visited);
    // A re-scored walk expands the nearest `window` candidates as an exact one would, but its
    // beam keeps at least k + ceil(k/2): when ef is about k, the true neighbours it reached are
    // otherwise cut at the k-th walk distance, where a coarse code's rounding has swapped some
    // of them with worse ones (the re-rank puts them back in order).
    const size_t window = std::max(ef, rerank_count);
    const size_t capacity = rerank_count ? std::max(window, k + (k + 1) / 2) : window;
    search_layer(*qd, start, d, 0, capacity, ctx, window);
    if (rerank_count) {
      thread_local std::vector<Neighbor> walked;
      const ShrinkWhenDone<Neighbor> keep_walked_small(walked);
      // rerank= given: exactly that many are re-scored (the slack only serves the adaptive re-rank).
      walked.resize(std::min(params.rerank ? rerank_count : capacity, ctx.beam.size()));
      for (size_t j = 0; j < walked.size(); ++j) walked[j] = Neighbor{ctx.beam.distance(j), ctx.beam.slot(j)};
      found = rerank(q, walked, k, params.rerank == 0, distances, slots);
    } else {
      for (size_t j = 0; j < std::min(ctx.beam.size(), k); ++j) prefetch_returnable(ctx.beam.slot(j));
      for (size_t j = 0; j < ctx.beam.size() && found < k; ++j) {
        if (!returnable(ctx.beam.slot(j))) continue;  // removed (or being inserted) meanwhile
        distances[found] = ctx.beam.distance(j);
        slots[found++] = ctx.beam.slot(j);
      }
    }
  }
  for (size_t j = found; j < k; ++j) {
    distances[j] = std::numeric_limits<float>::infinity();
    slots[j] = -1;
  }
  return found;
}

void HnswIndex::search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                            int64_t* slots, ThreadPool& pool) const {
  auto one = [&](size_t i, SearchContext& ctx) {
    const RowFilter* filter = params.row_filters ? params.row_filters->of(i) : nullptr;
    const float* query = q + i * dim();
    size_t found = 0;
    if (filter && !filter->hides_removed_only()) {
      found = search_filtered(query, k, params, filter, distances + i * k, slots + i * k);
    } else {
      // Removed rows are unlinked from the graph and rows in flight are skipped by their node
      // state when results are collected, so hiding them needs no filtered walk (which costs a
      // check per visited node: 20-40% of a search). Only a query left short of k by such
      // skips walks again with the filter, which keeps walking until k live rows are found.
      found = search_one(query, k, params, ctx, distances + i * k, slots + i * k);
      if (filter && found < k && found < filter->allowed_count())
        found = search_filtered(query, k, params, filter, distances + i * k, slots + i * k);
    }
    // Still short of rows that exist: the walk reached every row it could, and some it cannot
    // (a row may have no way in: under "ip", rows of small norm are rarely anyone's neighbour;
    // 34 of 1,500 clustered 16-d rows). Only a k near the reachable rows' count meets them: a
    // walk as wide as the index, a scan, gives them.
    if (found == k) return;
    const size_t known = filter ? filter->allowed_count() : live_slots();
    if (known != RowFilter::kUnknownCount && found < std::min(known, live_slots())) {
      SearchParams every_row = params;
      every_row.ef = live_slots();
      search_filtered(query, k, every_row, filter, distances + i * k, slots + i * k);
    }
  };
  // A worker takes the batch's queries a run at a time, registers with grace_ once a run and
  // keeps one scratch context for all its runs. Taken for each query, the context pool's lock,
  // the registration's counter and the pool's next index are cache lines every worker writes,
  // moved between cores several times a query. Intel Xeon, 2 threads, 2000 queries a call,
  // alternating processes (graph.md section 33): saved wordnet-minilm lvq4x4 graph at ef 24
  // +4% (median of eight), fashion-mnist lvq4x4 at ef 10 +7-13%, glove6b-50 f32_split at ef 96
  // +3-7%.
  if (nq == 1) {
    graph::GracePeriod::Reader reading(grace_);
    auto ctx = acquire_context();
    one(0, *ctx);
    return release_context(std::move(ctx));
  }
  // (The visited marks of a context fit the whole batch: slots are only added under the
  // exclusive lock, and the caller holds the shared one for the call.)
  constexpr size_t kQueriesPerRun = 4;
  const size_t runs = (nq + kQueriesPerRun - 1) / kQueriesPerRun;
  std::vector<std::unique_ptr<SearchContext>> contexts(pool.size());
  pool.parallel_for(runs, [&](size_t run, size_t worker) {
    std::unique_ptr<SearchContext>& ctx = contexts[worker];
    if (!ctx) ctx = acquire_context();
    graph::GracePeriod::Reader reading(grace_);
    for (size_t i = run * kQueriesPerRun; i < std::min(nq, (run + 1) * kQueriesPerRun); ++i) one(i, *ctx);
  });
  for (auto& ctx : contexts)
    if (ctx) release_context(std::move(ctx));
}

}  // namespace vidx
