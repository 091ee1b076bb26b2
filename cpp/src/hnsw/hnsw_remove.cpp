// HNSW as a living index: remove with neighbourhood repair, decode, compaction.
//
// remove_rows (FreshDiskANN-style consolidation, batched): the removed nodes are marked (they
// leave results at once), the entry point moves off them, then one pass over the graph finds
// every list that links to a removed node and chooses it again among its live neighbours and
// the live neighbours of its removed ones (the build's pruning heuristic); hnsw_refine.cpp then
// widens each repaired list's pool with a beam search around its node. After a grace period
// no search still stands on a removed node: its lists are emptied and its slot is free, for
// add_rows to reuse like a new one.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>

#include "hnsw_context.hpp"
#include "vidx/common/error.hpp"
#include "vidx/graph/link_words.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

void HnswIndex::repair_list(uint32_t node, int level, SearchContext& ctx, const std::vector<Neighbor>* extra) {
  // The caller holds the node's lock, so the list is stable; its words are still read
  // atomically, as a slot being reset writes them.
  uint32_t* lk = links(node, level);
  const uint32_t count = graph::load_count(lk);
  std::vector<Neighbor>& candidates = ctx.candidates;
  candidates.clear();
  for (uint32_t j = 1; j <= count; ++j) {
    const uint32_t v = graph::load_link(lk, j);
    if (linkable(v)) {
      candidates.push_back({0.f, v});
      continue;
    }
    if (state(v) != kRemoved) continue;
    // What `node` reached through v it may now reach directly. v's lists stay as they were
    // until the grace period ends (no writer links to a removed node).
    const uint32_t* via = links(v, level);
    const uint32_t via_count = graph::load_count(via);
    for (uint32_t i = 1; i <= via_count; ++i) {
      const uint32_t w = graph::load_link(via, i);
      if (w != node && linkable(w)) candidates.push_back({0.f, w});
    }
  }
  if (extra)
    for (const Neighbor& c : *extra)
      if (c.slot != node && linkable(c.slot)) candidates.push_back({0.f, c.slot});
  std::sort(candidates.begin(), candidates.end(), [](const Neighbor& a, const Neighbor& b) { return a.slot < b.slot; });
  candidates.erase(std::unique(candidates.begin(), candidates.end(),
                               [](const Neighbor& a, const Neighbor& b) { return a.slot == b.slot; }),
                   candidates.end());
  score_from(node, candidates, ctx);
  std::sort(candidates.begin(), candidates.end(), closer);
  // The nearest ef_construction are enough for the heuristic (as at build time), and bound its cost.
  if (candidates.size() > ef_construction_) candidates.resize(ef_construction_);
  select_neighbors(candidates, capacity_at(level), node, ctx);
  // The heuristic alone keeps few links (a built list also holds the reverse links others
  // added): refill to the list's old length with the nearest candidates left, the surviving
  // neighbours first, so a repaired node keeps the degree it had.
  std::vector<uint32_t>& chosen = ctx.selected;
  const size_t wanted = std::min<size_t>(count, capacity_at(level));
  auto taken = [&](uint32_t v) { return std::find(chosen.begin(), chosen.end(), v) != chosen.end(); };
  for (uint32_t j = 1; j <= count && chosen.size() < wanted; ++j) {
    const uint32_t v = graph::load_link(lk, j);
    if (linkable(v) && !taken(v)) chosen.push_back(v);
  }
  for (size_t i = 0; i < candidates.size() && chosen.size() < wanted; ++i)
    if (ctx.copy_of_owner[i] != SearchContext::kSurplusCopy && !taken(candidates[i].slot))
      chosen.push_back(candidates[i].slot);
  write_list(lk, chosen.data(), chosen.size());
}

void HnswIndex::relink_orphans(ThreadPool& pool, std::vector<std::unique_ptr<SearchContext>>& contexts) {
  const size_t end = count_.load();
  uint32_t entry = 0;
  entry_point(entry);
  std::vector<LinkRequest> requests;
  std::vector<uint32_t> in_degree(end);
  for (int level = 0; level < 32; ++level) {
    std::fill(in_degree.begin(), in_degree.end(), 0);
    bool any = false;
    for (uint32_t u = 0; u < end; ++u) {
      if (levels_[u] < level || !linkable(u)) continue;
      any = true;
      const uint32_t* lk = links(u, level);
      const uint32_t count = graph::load_count(lk);
      for (uint32_t j = 1; j <= count; ++j) {
        const uint32_t v = graph::load_link(lk, j);
        if (v < end) ++in_degree[v];
      }
    }
    if (!any) break;
    // An orphan asks each of its neighbours for a link back, as a new node does.
    for (uint32_t u = 0; u < end; ++u) {
      if (levels_[u] < level || !linkable(u) || in_degree[u] != 0 || u == entry) continue;
      const uint32_t* lk = links(u, level);
      const uint32_t count = graph::load_count(lk);
      for (uint32_t j = 1; j <= count; ++j)
        requests.push_back({graph::load_link(lk, j), u, static_cast<uint32_t>(level)});
    }
  }
  if (!requests.empty()) apply_link_requests(requests, pool, contexts, false);
}

namespace {

// Which live nodes level 0 reaches from a start: a depth-first walk over the lists.
class Level0Reach {
 public:
  explicit Level0Reach(size_t end) : reached_(end, 0) {}
  bool reached(uint32_t u) const { return reached_[u] != 0; }
  template <class ListOf, class Linkable>
  void mark_from(uint32_t start, ListOf list_of, Linkable linkable) {
    reached_[start] = 1;
    frontier_.assign(1, start);
    while (!frontier_.empty()) {
      const uint32_t* lk = list_of(frontier_.back());
      frontier_.pop_back();
      const uint32_t count = graph::load_count(lk);
      for (uint32_t j = 1; j <= count; ++j) {
        const uint32_t v = graph::load_link(lk, j);
        if (v < reached_.size() && !reached_[v] && linkable(v)) {
          reached_[v] = 1;
          frontier_.push_back(v);
        }
      }
    }
  }

 private:
  std::vector<uint8_t> reached_;
  std::vector<uint32_t> frontier_;
};

}  // namespace

void HnswIndex::reconnect_unreachable(SearchContext& ctx) {
  uint32_t entry = 0;
  if (entry_point(entry) < 0 || !linkable(entry)) return;
  const size_t end = count_.load();
  Level0Reach reach(end);
  const auto list_of = [this](uint32_t u) { return links(u, 0); };
  const auto is_linkable = [this](uint32_t v) { return linkable(v); };
  reach.mark_from(entry, list_of, is_linkable);
  for (uint32_t u = 0; u < end; ++u) {
    // Nodes of an add still going on count once linked: later batches walk from the entry and
    // would not reach them again.
    if (reach.reached(u) || !walkable(u)) continue;
    // Its neighbours: the reachable nodes a search from the entry point finds for its vector.
    const auto qd = codec_->prepare_from_code(code(u), tail(u));
    search_layer(*qd, entry, qd->one(code(entry)), 0, ef_construction_, ctx);
    ctx.candidates.clear();
    for (size_t i = 0; i < ctx.beam.size(); ++i) {
      const uint32_t c = ctx.beam.slot(i);
      if (c != u && c < end && reach.reached(c) && linkable(c)) ctx.candidates.push_back({ctx.beam.distance(i), c});
    }
    if (ctx.candidates.empty()) ctx.candidates.push_back({qd->one(code(entry)), entry});
    std::sort(ctx.candidates.begin(), ctx.candidates.end(), closer);
    const uint32_t nearest = ctx.candidates.front().slot;
    select_neighbors(ctx.candidates, capacity_at(0), u, ctx);
    relink_level0(u, ctx.selected);
    link_in_at_level0(nearest, u);
    reach.mark_from(u, list_of, is_linkable);
  }
}

void HnswIndex::relink_level0(uint32_t node, std::vector<uint32_t>& chosen) {
  // The chosen links first, then the node's own live ones, up to the list's capacity.
  graph::NodeLocks::Guard lock(node_locks_, node);
  uint32_t* lk = links(node, 0);
  const uint32_t count = graph::load_count(lk);
  for (uint32_t j = 1; j <= count && chosen.size() < capacity_at(0); ++j) {
    const uint32_t v = graph::load_link(lk, j);
    if (linkable(v) && std::find(chosen.begin(), chosen.end(), v) == chosen.end()) chosen.push_back(v);
  }
  write_list(lk, chosen.data(), chosen.size());
}

void HnswIndex::link_in_at_level0(uint32_t from, uint32_t to) {
  // Appended while the list has room; otherwise in place of its farthest (or a dead) link. The
  // node that link named keeps its other in-links: a full list belongs to a well-linked region.
  graph::NodeLocks::Guard lock(node_locks_, from);
  uint32_t* lk = links(from, 0);
  const uint32_t count = graph::load_count(lk);
  std::vector<uint32_t> list;
  for (uint32_t j = 1; j <= count; ++j) list.push_back(graph::load_link(lk, j));
  if (std::find(list.begin(), list.end(), to) != list.end()) return;
  if (list.size() < capacity_at(0)) {
    list.push_back(to);
  } else {
    size_t farthest = 0;
    float worst = -1.f;
    for (size_t j = 0; j < list.size(); ++j) {
      const float d = linkable(list[j]) ? codec_->distance_between(code(from), code(list[j]))
                                        : std::numeric_limits<float>::infinity();
      if (d > worst) worst = d, farthest = j;
    }
    list[farthest] = to;
  }
  write_list(lk, list.data(), list.size());
}

void HnswIndex::choose_new_entry() {
  // The caller holds entry_mutex_. The highest node a walk can leave: one whose lists are written
  // (live, or linked by an add still going on) and hold a link that is not being removed. A node
  // an add has not linked yet has empty lists: a walk from it finds nothing, so the add's later
  // nodes would link only among themselves and every row before them would drop out of reach (a
  // remove between two batches of an add cut off half an index). Failing those, a node with its
  // lists but no link left (remove_rows chooses again once its repair has relinked them), then an
  // unlinked one (nothing else is left to reach). On equal rank and level a live node goes first.
  enum Rank { kNone, kUnlinked, kIsolated, kReaching };
  int best_level = -1;
  Rank best_rank = kNone;
  bool best_live = false;
  uint32_t best = 0;
  const size_t end = count_.load();
  for (uint32_t s = 0; s < end; ++s) {
    if (!linkable(s)) continue;
    Rank rank = kUnlinked;
    if (walkable(s)) {
      rank = kIsolated;
      const uint32_t* lk = links(s, 0);
      const uint32_t count = graph::load_count(lk);
      for (uint32_t j = 1; j <= count && rank != kReaching; ++j)
        if (linkable(graph::load_link(lk, j))) rank = kReaching;
    }
    const bool live = state(s) == kLive;
    const bool better = rank != best_rank ? rank > best_rank
                        : levels_[s] != best_level ? levels_[s] > best_level
                                                   : live && !best_live;
    if (better) {
      best_level = levels_[s];
      best_rank = rank;
      best_live = live;
      best = s;
    }
  }
  if (best_level < 0) entry_state_.store(0, std::memory_order_release);  // nothing left
  else set_entry(best, best_level);
}

void HnswIndex::remove_rows(const uint32_t* slots, size_t n, ThreadPool& pool) {
  if (n == 0) return;
  std::lock_guard<std::mutex> one_remove(remove_mutex_);
  const size_t end = count_.load();
  for (size_t i = 0; i < n; ++i)
    if (slots[i] >= end || state(slots[i]) != kLive)
      throw InvalidArgument("remove: slot " + std::to_string(slots[i]) + " holds no vector");
  for (size_t i = 0; i < n; ++i) set_state(slots[i], kRemoved);
  bool entry_moved = false;
  {
    std::lock_guard<std::mutex> lock(entry_mutex_);
    uint32_t entry = 0;
    if (entry_point(entry) >= 0 && state(entry) == kRemoved) {
      choose_new_entry();
      entry_moved = true;
    }
  }

  // Every list of every slot, each under its node's lock, taken after the marks above: a
  // writer that takes the lock later sees them and links no removed node; one that took it
  // before is repaired. All slots of the storage, not only those in use when we started: an
  // add beside us may be filling one.
  std::vector<std::unique_ptr<SearchContext>> contexts;
  try {
    repair_around_removed(n, entry_moved, pool, contexts);
  } catch (...) {
    // The base gives the rows their ids back: they are live again, and the entry point is chosen
    // among them too. (A repair that failed partway, for memory, leaves lists that no longer link
    // to them, valid all the same.)
    for (auto& ctx : contexts) release_context(std::move(ctx));
    for (size_t i = 0; i < n; ++i) set_state(slots[i], kLive);
    if (entry_moved) {
      std::lock_guard<std::mutex> lock(entry_mutex_);
      choose_new_entry();
    }
    throw;
  }
  for (auto& ctx : contexts) release_context(std::move(ctx));

  // No list links to them now; once the searches that started before have left, nothing can.
  grace_.wait_for_readers();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t s = slots[i];
    graph::NodeLocks::Guard lock(node_locks_, s);
    for (int level = 0; level <= levels_[s]; ++level) graph::publish_count(links(s, level), 0);
    links_lost_[s] = 0;  // a node that reuses the slot starts afresh
    set_state(s, kEmpty);
  }
}

void HnswIndex::repair_around_removed(size_t n, bool entry_moved, ThreadPool& pool,
                                      std::vector<std::unique_ptr<SearchContext>>& contexts) {
  for (size_t w = 0; w < pool.size(); ++w) contexts.push_back(acquire_context());
  if (links_lost_.size() < capacity_) links_lost_.resize(capacity_, 0);
  std::vector<uint32_t> due(capacity_, 0);  // by slot: bit l = its list on level l is due a refine
  std::atomic<bool> thinned{false};          // a repaired level-0 list kept fewer than 2 links
  pool.parallel_for(
      capacity_,
      [&](size_t u, size_t worker) {
        const uint32_t node = static_cast<uint32_t>(u);
        if (state(node) == kRemoved) return;  // its own lists go with it
        for (int level = 0; level <= levels_[node]; ++level) {
          graph::NodeLocks::Guard lock(node_locks_, node);
          const uint32_t* lk = links(node, level);
          const uint32_t count = graph::load_count(lk);
          uint32_t lost = 0;
          for (uint32_t j = 1; j <= count; ++j) lost += state(graph::load_link(lk, j)) == kRemoved;
          if (lost == 0) continue;
          repair_list(node, level, *contexts[worker]);
          if (level == 0 && graph::load_count(lk) < 2) thinned.store(true, std::memory_order_relaxed);
          if (due_for_refine(node, level, lost, count)) due[node] |= 1u << level;
        }
      },
      64);
  refine_repaired(due, pool, contexts);
  relink_orphans(pool, contexts);
  if (entry_moved) {
    // Chosen before the repair, the entry may have lost every link to it: choose again on the
    // repaired lists.
    std::lock_guard<std::mutex> lock(entry_mutex_);
    choose_new_entry();
  }
  // Checking that every node is still reachable is a walk over the whole graph: done where a
  // removal could have cut some off (a large share of the graph gone at once, a list left with
  // fewer than two links, or the entry point moved, maybe into a concurrent add's new nodes),
  // not for every small removal.
  if (thinned.load() || entry_moved || n * 8 >= count_.load() - n) reconnect_unreachable(*contexts[0]);
}

bool HnswIndex::decode_rows(const uint32_t* slots, size_t n, float* out) const {
  const size_t end = count_.load();
  for (size_t i = 0; i < n; ++i) {
    const uint32_t s = slots[i];
    if (s >= end || state(s) != kLive) throw InvalidArgument("get: slot " + std::to_string(s) + " holds no vector");
    vector_of(s, out + i * dim());
  }
  return kept_codec_ != nullptr || codec_->decodes_exactly();
}

void HnswIndex::vector_of(uint32_t slot, float* out) const {
  if (kept_codec_)
    std::memcpy(out, kept_.data() + static_cast<size_t>(slot) * dim() * sizeof(float), dim() * sizeof(float));
  else
    codec_->decode_split(code(slot), tail(slot), out);
}

std::vector<uint32_t> HnswIndex::compact_rows(ThreadPool& pool) {
  // The caller holds the exclusive lock: nothing else reads or writes the graph.
  constexpr uint32_t kGone = std::numeric_limits<uint32_t>::max();
  const size_t end = count_.load();
  std::vector<uint32_t> new_slot(end, kGone);
  std::vector<uint32_t> kept_slots;
  for (uint32_t s = 0; s < end; ++s) {
    if (linkable(s)) {
      new_slot[s] = static_cast<uint32_t>(kept_slots.size());
      kept_slots.push_back(s);
    }
  }
  const size_t live = kept_slots.size();

  // Per-slot records are compacted in place (the old and the new copy would peak at about
  // 1.5x the index): first each kept list is renumbered where it is, then the kept records
  // move down. Everything allocated is allocated first, so nothing below can fail halfway.
  std::vector<uint8_t> levels(live);
  std::vector<uint64_t> upper_offset(live);
  size_t words = 0;
  for (size_t t = 0; t < live; ++t) {
    levels[t] = levels_[kept_slots[t]];
    upper_offset[t] = words;
    words += static_cast<size_t>(levels[t]) * (M_ + 1);
  }
  std::vector<uint32_t> upper(words, 0);
  std::vector<uint8_t> links_lost(live, 0);
  std::unique_ptr<std::atomic<uint8_t>[]> states(new std::atomic<uint8_t>[live]());
  // Renumbers one list (links to slots that are gone are dropped: repair left none) into `to`,
  // which may be `from` itself (an entry moves only towards the front), zeroing what is left.
  const auto renumber = [&](const uint32_t* from, uint32_t* to, size_t words_in_list) {
    const uint32_t old_count = from[0];
    uint32_t n = 0;
    for (uint32_t j = 1; j <= old_count; ++j)
      if (new_slot[from[j]] != kGone) to[++n] = new_slot[from[j]];
    to[0] = n;
    std::fill(to + n + 1, to + words_in_list, 0u);
  };
  const size_t list_words = level0_list_words();
  pool.parallel_for(
      live,
      [&](size_t t, size_t) {
        const uint32_t s = kept_slots[t];
        renumber(links(s, 0), links(s, 0), list_words);
        for (int level = 1; level <= levels[t]; ++level)
          renumber(links(s, level), upper.data() + upper_offset[t] + static_cast<size_t>(level - 1) * (M_ + 1),
                   M_ + 1);
      },
      256);
  // In slot order, each record to a slot at or below its own: every source is read before a
  // later record could land on it.
  const size_t list_bytes = list_words * sizeof(uint32_t);
  const size_t kept_bytes = kept_codec_ ? kept_codec_->code_size() : 0;
  for (size_t t = 0; t < live; ++t) {
    const uint32_t s = kept_slots[t];
    if (s == t) continue;
    const auto to = static_cast<uint32_t>(t);
    std::memcpy(head(to), head(s), head_stride_);
    std::memcpy(links(to, 0), links(s, 0), list_bytes);
    if (tail_size_) std::memcpy(tail(to), tail(s), tail_size_);
    if (kept_bytes) std::memcpy(kept_.data() + t * kept_bytes, kept_.data() + s * kept_bytes, kept_bytes);
  }
  for (size_t t = 0; t < live && kept_slots[t] < links_lost_.size(); ++t) links_lost[t] = links_lost_[kept_slots[t]];
  // The next revisit starts at the first row kept from the cursor on (hnsw_revisit.cpp).
  revisit_cursor_ = static_cast<size_t>(std::lower_bound(kept_slots.begin(), kept_slots.end(), revisit_cursor_) -
                                        kept_slots.begin());

  uint32_t entry = 0;
  const int top = entry_point(entry);
  // Shrinking a large buffer gives its tail back in place (aligned_buffer.hpp); a shrink never
  // throws.
  heads_.reallocate(live * head_stride_);
  links0_.reallocate(live * list_bytes);
  tails_.reallocate(live * tail_size_);
  kept_.reallocate(live * kept_bytes);
  levels_ = std::move(levels);
  upper_offset_ = std::move(upper_offset);
  upper_ = std::move(upper);
  links_lost_ = std::move(links_lost);
  states_ = std::move(states);
  for (size_t t = 0; t < live; ++t) states_[t].store(kLive, std::memory_order_relaxed);
  capacity_ = live;
  count_.store(live);
  if (top >= 0 && live > 0) set_entry(new_slot[entry], top);
  else entry_state_.store(0);
  contexts_.clear();  // their visited sets were sized for the old slot count
  return new_slot;
}

}  // namespace vidx
