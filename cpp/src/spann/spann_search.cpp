// SPANN search: the nearest heads, their posting lists streamed through a fixed read buffer
// (slots: some being read while one is scored), then, for codecs with a second level, the
// best candidates re-scored from their tails.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>

#include "live_state.hpp"
#include "search_context.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::spann {
namespace {

constexpr size_t kPage = io::kPageSize;

// The lists of one query to read, nearest head first, handed out in rounds. The eps rule (skip
// a head more than (1 + eps) times as far as the nearest) is a heuristic for the nearest few
// rows: a query beside one head would read that head's list alone and report fewer than k
// rows where the next lists hold many more (500 rows, k 100: 81-88 found at eps 10). So a
// round also takes lists past the bound, nearest first, until the lists chosen so far hold
// `wanted` entries; the search asks for another round while it holds fewer results than it
// keeps and heads remain.
class ListChooser {
 public:
  ListChooser(const std::vector<float>& head_d, const std::vector<int64_t>& head_i, double eps,
              const std::vector<io::PostingList>& lists)
      : head_d_(head_d), head_i_(head_i), lists_(lists) {
    const double d1 = head_d.empty() ? 0 : head_d[0];
    bound_ = (d1 > 0 && std::isfinite(eps)) ? (1.0 + eps) * d1 : std::numeric_limits<double>::infinity();
  }

  // The next lists into `out` (cleared); false when no head is left.
  bool next_round(size_t wanted, std::vector<uint32_t>& out) {
    out.clear();
    for (; at_ < head_i_.size() && head_i_[at_] >= 0; ++at_) {
      if (head_d_[at_] > bound_ && chosen_ >= wanted) break;  // ascending: the rest is farther
      const uint32_t list = static_cast<uint32_t>(head_i_[at_]);
      if (!lists_[list].count) continue;
      out.push_back(list);
      chosen_ += lists_[list].count;
    }
    return !out.empty();
  }

  size_t entries_chosen() const { return chosen_; }

  // Entries in every list of the heads searched: what any round can reach.
  size_t entries_reachable() const {
    size_t n = 0;
    for (size_t j = 0; j < head_i_.size() && head_i_[j] >= 0; ++j) n += lists_[static_cast<size_t>(head_i_[j])].count;
    return n;
  }

 private:
  const std::vector<float>& head_d_;
  const std::vector<int64_t>& head_i_;
  const std::vector<io::PostingList>& lists_;
  double bound_;
  size_t at_ = 0, chosen_ = 0;
};

}  // namespace

// Reads lists from probe[first] on into one slot of the buffer, as many as fit; returns the next.
size_t SearchStream::submit_wave(size_t first, uint8_t* slot, size_t slot_bytes, ReadBatch& batch) {
  const auto& lists = postings.lists();
  std::vector<ReadRequest> reqs;
  wave_lists.clear();
  wave_at.clear();
  size_t used = 0, i = first;
  for (; i < probe.size(); ++i) {
    const io::PostingList& l = lists[probe[i]];
    const size_t bytes = size_t(l.pages) * kPage;
    if (used + bytes > slot_bytes && used > 0) break;
    reqs.push_back(ReadRequest{&postings.file(), slot + used, bytes, l.first_page_offset()});
    wave_lists.push_back(probe[i]);
    wave_at.push_back(used);
    used += bytes;
  }
  bytes_read += used;
  io.submit(batch, std::move(reqs), postings.path());
  return i;
}

void SpannIndex::scan_query(const float* q, size_t keep, size_t needed, const SearchParams& params,
                            const RowFilter* filter, Context& ctx) const {
  const size_t np = std::min(params.nprobe, head_->size());
  ctx.head_d.resize(np);
  ctx.head_i.resize(np);
  SearchParams hp;
  hp.ef = std::max(np, params.ef);
  head_->search(q, 1, np, hp, ctx.head_d.data(), ctx.head_i.data());
  SearchStream s{*postings_, *io_, ctx};
  s.filter = filter;
  {
    std::lock_guard<std::mutex> guard(live_mutex_);  // a lookup may be creating the living state
    if (live_ && !live_->liveness.empty()) s.liveness = &live_->liveness;
  }
  ListChooser chooser(ctx.head_d, ctx.head_i, params.eps, postings_->lists());
  const bool two_level = postings_->layout().tail_bytes > 0;
  const size_t reachable = chooser.entries_reachable();
  const size_t held = std::max<size_t>(1, std::min(keep, reachable));
  ctx.results.reset(held, two_level ? codec_->head_size() : 0);
  const std::unique_ptr<QueryDistance> qd = codec_->prepare(q);
  size_t lists_read = 0;
  // Rounds until the results hold `needed` (k: not the re-rank pool, which the lists within the
  // bound fill as they did before rounds) or no head is left: entries of stale rows, replicas
  // and rows a filter refuses count toward `wanted` but give no result, so a round can fall short.
  const size_t enough = std::min(needed, held);
  for (size_t wanted = needed; chooser.next_round(wanted, s.probe); wanted = 2 * chooser.entries_chosen()) {
    if (lists_read == 0) ctx.seen.reset(chooser.entries_chosen(), ctx.capacity / 32);  // past it: checked in results
    lists_read += s.probe.size();
    s.scan(*qd, postings_->layout().entry_bytes, two_level);
    if (ctx.results.size() >= enough) break;
  }
  if (two_level) s.rerank_tails(*codec_->prepare_precise(q));
  stat_queries_.fetch_add(1, std::memory_order_relaxed);
  stat_lists_.fetch_add(lists_read, std::memory_order_relaxed);
  stat_bytes_.fetch_add(s.bytes_read + s.tail_bytes_read, std::memory_order_relaxed);
  stat_tail_bytes_.fetch_add(s.tail_bytes_read, std::memory_order_relaxed);
  stat_entries_.fetch_add(chooser.entries_chosen(), std::memory_order_relaxed);
}

void SpannIndex::search_one(const float* q, size_t k, const SearchParams& params, const RowFilter* filter,
                            float* distances, int64_t* ids, Context& ctx) const {
  const bool two_level = postings_->layout().tail_bytes > 0;
  // Automatic re-rank: 1-bit head codes order candidates too roughly for 16 k (see
  // kRoughRerankPerResult); finer ones (LVQ-4 and up) keep it.
  const size_t per_result = codec_->walk_bits() <= 1 ? kRoughRerankPerResult : kRerankPerResult;
  scan_query(q, two_level ? std::max(k, params.rerank ? params.rerank : per_result * k) : k, k, params, filter, ctx);
  ctx.results.write_sorted(k, distances, ids);
}

// Streams the probed lists through the buffer's slots: while one slot is scored, the reads
// of the others are in flight; a scored slot takes the next wave at once.
void SearchStream::scan(const QueryDistance& qd, size_t entry_bytes, bool keep_tails) {
  const size_t slots = ctx.slots, slot_bytes = ctx.capacity / slots;
  ReadBatch batches[kMaxReadSlots];
  std::vector<uint32_t> lists_of[kMaxReadSlots];
  std::vector<size_t> at_of[kMaxReadSlots];
  size_t fifo[kMaxReadSlots], first = 0, in_flight = 0, next = 0;
  auto fill = [&](size_t slot) {
    next = submit_wave(next, ctx.pages.data() + slot * slot_bytes, slot_bytes, batches[slot]);
    lists_of[slot].swap(wave_lists);
    at_of[slot].swap(wave_at);
    fifo[(first + in_flight++) % slots] = slot;
  };
  for (size_t slot = 0; slot < slots && next < probe.size(); ++slot) fill(slot);
  // A screened scan keeps what passes the bound the lists scored before left it: scored in probe
  // order, its answer does not depend on which read finished first (a query with a small rerank
  // gave two or three different answers over ten calls). Exact scans keep the same candidates in
  // any order and take lists as they arrive.
  const bool in_order = qd.screens();
  while (in_flight) {
    const size_t slot = fifo[first];
    first = (first + 1) % slots;
    --in_flight;
    for (long r; (r = batches[slot].wait_next(in_order)) >= 0;) {
      const size_t i = static_cast<size_t>(r);
      score_list(lists_of[slot][i], ctx.pages.data() + slot * slot_bytes + at_of[slot][i], qd, entry_bytes, keep_tails);
    }
    if (next < probe.size()) fill(slot);
  }
}

void SearchStream::score_list(uint32_t list, const uint8_t* pages, const QueryDistance& qd, size_t entry_bytes,
                              bool keep_tails) {
  const io::PostingList& l = postings.lists()[list];
  postings.verify_pages(l.first_page_offset(), pages, l.pages, "posting list", list);
  const uint8_t* base = pages + l.offset_in_page();
  ctx.codes.clear();
  ctx.code_pos.clear();
  ctx.code_ids.clear();
  for (uint32_t e = 0; e < l.count; ++e) {
    int64_t raw;
    std::memcpy(&raw, base + size_t(e) * entry_bytes, 8);
    if (liveness && !liveness->live(raw)) continue;  // removed, or an old version
    const int64_t id = entry_id(raw);
    if (filter && !filter->allows_label(id)) continue;
    if (ctx.seen.insert(id) == SeenSet::kSeen) continue;
    ctx.codes.push_back(base + size_t(e) * entry_bytes + 8);
    ctx.code_pos.push_back(e);
    ctx.code_ids.push_back(id);
  }
  const size_t m = ctx.codes.size();
  if (m == 0) return;
  ctx.code_d.resize(m);
  // Once the result set is full, entries farther than its worst need no exact distance.
  const bool full = ctx.results.full();
  if (!full)
    qd.batch(ctx.codes.data(), m, ctx.code_d.data());
  else
    qd.batch_bounded(ctx.codes.data(), m, std::nextafter(ctx.results.worst(), std::numeric_limits<float>::infinity()),
                     ctx.code_d.data());
  const io::PostingLayout& layout = postings.layout();
  for (size_t e = 0; e < m; ++e) {
    // Adds refuse NaN and infinity, so a code scoring NaN (or infinity, where nothing is
    // abandoned) was forged with its page checksum recomputed: refused, not ranked.
    if (std::isnan(ctx.code_d[e]) || (!full && std::isinf(ctx.code_d[e]))) refuse_non_finite(list, ctx.code_pos[e]);
    const int64_t id = ctx.code_ids[e];
    const uint64_t tail_at = keep_tails ? layout.tail_at(l, ctx.code_pos[e]) : 0;
    ctx.results.offer(ctx.code_d[e], id, tail_at, ctx.codes[e], ctx.seen.saturated());
  }
}

void SearchStream::refuse_non_finite(uint32_t list, uint32_t entry) const {
  throw FileFormatError("posting list " + std::to_string(list) + " of " + postings.path() + ": entry " +
                        std::to_string(entry) + " holds NaN or infinite values; the posting file is corrupted");
}

void SearchStream::refuse_non_finite_tail(uint64_t at) const {
  throw FileFormatError("the re-rank code at byte " + std::to_string(at) + " of " + postings.path() +
                        " holds NaN or infinite values; the posting file is corrupted");
}

// Re-scores the kept candidates from their tails, read page by page through the buffer.
void SearchStream::rerank_tails(const QueryDistance& precise) {
  const io::PostingLayout& layout = postings.layout();
  const size_t T = layout.tail_bytes;
  Results& res = ctx.results;
  std::vector<uint32_t>& order = ctx.order;
  res.slots_by_tail(order);
  size_t i = 0;
  while (i < order.size()) {
    // One window: the pages of as many candidates (in file order) as fit in the buffer.
    ctx.window_pages.clear();
    const size_t first = i;
    for (; i < order.size(); ++i) {
      const uint64_t at = res.tail_at(order[i]);
      const uint64_t p0 = at / kPage, p1 = (at + T - 1) / kPage;
      const size_t add = (ctx.window_pages.empty() || ctx.window_pages.back() < p0) ? p1 - p0 + 1 : p1 - ctx.window_pages.back();
      if ((ctx.window_pages.size() + add) * kPage > ctx.capacity && !ctx.window_pages.empty()) break;
      for (uint64_t p = p0; p <= p1; ++p)
        if (ctx.window_pages.empty() || ctx.window_pages.back() < p) ctx.window_pages.push_back(p);
    }
    read_pages(ctx.window_pages);
    for (size_t j = first; j < i; ++j) {
      const uint32_t slot = order[j];
      const uint64_t at = res.tail_at(slot);
      const size_t page_index = static_cast<size_t>(
          std::lower_bound(ctx.window_pages.begin(), ctx.window_pages.end(), at / kPage) - ctx.window_pages.begin());
      const uint8_t* tail = ctx.pages.data() + page_index * kPage + at % kPage;
      const float d = precise.one_split(res.head_code(slot), tail);
      if (!std::isfinite(d)) refuse_non_finite_tail(at);
      res.set_distance(slot, d);
    }
  }
}

// Reads the given file pages (ascending) into the buffer, back to back, and verifies them.
void SearchStream::read_pages(const std::vector<uint64_t>& pages) {
  std::vector<ReadRequest> reqs;
  for (size_t a = 0; a < pages.size();) {
    size_t b = a + 1;
    while (b < pages.size() && pages[b] == pages[b - 1] + 1) ++b;
    reqs.push_back(ReadRequest{&postings.file(), ctx.pages.data() + a * kPage, (b - a) * kPage, pages[a] * kPage});
    a = b;
  }
  tail_bytes_read += pages.size() * kPage;
  ReadBatch batch;
  io.submit(batch, std::move(reqs), postings.path());
  while (batch.wait_next() >= 0) {
  }
  for (size_t a = 0; a < pages.size(); ++a)
    postings.verify_pages(pages[a] * kPage, ctx.pages.data() + a * kPage, 1, "posting tail page",
                          static_cast<size_t>(pages[a]));
}

void SpannIndex::search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                             int64_t* ids, ThreadPool& pool) const {
  if (!head_) {
    std::fill(distances, distances + nq * k, std::numeric_limits<float>::infinity());
    std::fill(ids, ids + nq * k, int64_t{-1});
    return;
  }
  run_queries(nq, pool, [&](size_t i, Context& ctx) {
    search_one(q + i * dim(), k, params, params.row_filters ? params.row_filters->of(i) : nullptr, distances + i * k,
               ids + i * k, ctx);
  });
}

void SpannIndex::range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params,
                                   RangeResult& out, ThreadPool& pool) const {
  out.lims.assign(nq + 1, 0);
  out.distances.clear();
  out.ids.clear();
  if (!head_ || nq == 0) return;
  // Every entry of the probed lists is a candidate (no top-k cut); those within the radius stay.
  std::vector<std::vector<float>> found_d(nq);
  std::vector<std::vector<int64_t>> found_i(nq);
  run_queries(nq, pool, [&](size_t i, Context& ctx) {
    scan_query(q + i * dim(), SIZE_MAX, SIZE_MAX, params, params.row_filters ? params.row_filters->of(i) : nullptr,
               ctx);
    const size_t held = ctx.results.size();
    std::vector<float> d(held);
    std::vector<int64_t> ids(held);
    ctx.results.write_sorted(held, d.data(), ids.data());
    size_t within = 0;
    while (within < held && d[within] < radius) ++within;
    d.resize(within);
    ids.resize(within);
    found_d[i].swap(d);
    found_i[i].swap(ids);
  });
  for (size_t i = 0; i < nq; ++i) {
    out.lims[i + 1] = out.lims[i] + found_d[i].size();
    out.distances.insert(out.distances.end(), found_d[i].begin(), found_d[i].end());
    out.ids.insert(out.ids.end(), found_i[i].begin(), found_i[i].end());
  }
}

// Runs f(query, context) for every query, on the pool when there are several. A page that fails
// its checksum in a state older than its posting file is said to be what it is
// (rethrow_read_failure), not damage.
void SpannIndex::run_queries(size_t nq, ThreadPool& pool, const std::function<void(size_t, Context&)>& f) const {
  try {
    if (nq == 1) {
      auto ctx = acquire_context();
      struct Release {
        const SpannIndex* self;
        std::unique_ptr<Context>& ctx;
        ~Release() { self->release_context(std::move(ctx)); }
      } release{this, ctx};
      f(0, *ctx);
      return;
    }
    std::vector<std::unique_ptr<Context>> ctxs(pool.size());
    for (auto& c : ctxs) c = acquire_context();
    struct Release {
      const SpannIndex* self;
      std::vector<std::unique_ptr<Context>>& ctxs;
      ~Release() {
        for (auto& c : ctxs) self->release_context(std::move(c));
      }
    } release{this, ctxs};
    pool.parallel_for(nq, [&](size_t i, size_t w) { f(i, *ctxs[w]); });
  } catch (const FileFormatError&) {
    rethrow_read_failure();
  }
}

std::unique_ptr<SpannIndex::Context> SpannIndex::acquire_context() const {
  std::unique_ptr<Context> c = contexts_.take();
  // The buffer is fixed: read_buffer bytes in 2 to 4 slots, each at least the longest list, and
  // no more than every list could fill (read_buffer=1e12, which the options allow, raised
  // MemoryError on a 36 KB posting file).
  const size_t largest = std::max<size_t>(1, postings_->largest_list_pages()) * kPage;
  const size_t every_list = largest * std::max<size_t>(1, postings_->lists().size());
  const size_t wanted = std::min(io::round_up_page(options().spann.read_buffer), every_list);
  const size_t slots = std::clamp<size_t>(wanted / largest, 2, kMaxReadSlots);
  const size_t capacity = slots * std::max(largest, wanted / slots / kPage * kPage);
  if (c->capacity != capacity) {
    c->pages.reserve(capacity);
    c->capacity = capacity;
  }
  c->slots = slots;
  return c;
}

void SpannIndex::release_context(std::unique_ptr<Context> ctx) const {
  contexts_.give_back(std::move(ctx));
}

size_t SpannIndex::contexts_memory() const {
  return contexts_.memory([](const Context& c) { return c.memory_usage(); });
}

}  // namespace vidx::spann
