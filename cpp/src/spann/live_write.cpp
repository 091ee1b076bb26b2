// SPANN adds and removes after the build (SPFresh-style): new rows go to their nearest heads'
// lists by the build's replica rule; a list past the limit splits in two; removed ids turn
// stale at once and leave the lists as they are rewritten (or in a sweep).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <string>

#include "build_phases.hpp"
#include "live_state.hpp"
#include "vidx/codec/float16.hpp"
#include "vidx/common/error.hpp"

namespace vidx::spann {
namespace {

// Stale ids past this share of the stored ones trigger a sweep of every list.
constexpr double kSweepShare = 0.1;
constexpr size_t kSweepMinimum = 256;
// Rounds of the split's 2-means, and the least share of a split list either part keeps.
constexpr int kSplitRounds = 4;
constexpr double kSplitLeast = 0.125;
// Rounds that re-home an add's rows left far from every head of their lists by its splits.
constexpr size_t kOrphanRounds = 3;
// Lists next to a new head whose members may join it (SPFresh's reassignment, bounded), and
// the most that join, as a share of the limit: filling the new list to the limit made it split
// again at once (glove6b-50, posting_limit 260: 18,309 heads against 15,564 without).
constexpr size_t kReassignLists = 8;
constexpr size_t kReassignShare = 8;  // limit / 8

bool too_stale(const SpannIndex::Live& live, size_t stored) {
  return live.liveness.size() > std::max<size_t>(kSweepMinimum, static_cast<size_t>(kSweepShare * stored));
}

}  // namespace

std::vector<int64_t> labels_for_add(const SpannIndex::Live& live, const int64_t* ids, size_t n) {
  std::vector<int64_t> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = ids ? ids[i] : live.next_id + static_cast<int64_t>(i);
  for (int64_t id : labels) {
    if (id < 0) throw InvalidArgument("ids must be >= 0, got " + std::to_string(id));
    SpannIndex::check_id(id);
    if (live.where.contains(id)) throw InvalidArgument("id " + std::to_string(id) + " is already in the index");
  }
  std::vector<int64_t> sorted = labels;
  std::sort(sorted.begin(), sorted.end());
  const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
  if (dup != sorted.end()) throw InvalidArgument("id " + std::to_string(*dup) + " appears more than once");
  return labels;
}

// Up to `replicas` lists per row (kNoList where fewer), nearest first.
void SpannIndex::assign_to_heads(const float* x, size_t n, std::vector<uint32_t>& lists) const {
  const size_t R = options().spann.replicas, H = head_->size();
  const size_t C = std::min(options().spann.candidates, H);
  std::vector<float> cd(n * C), dist(R);
  std::vector<int64_t> ci(n * C);
  SearchParams sp;
  sp.ef = std::max(C, options().ef_search);
  head_->search(x, n, C, sp, cd.data(), ci.data());
  const HeadDistance head_distance{live_->head_vectors.data(), dim(), head_->metric()};
  lists.assign(n * R, kNoList);
  for (size_t i = 0; i < n; ++i)
    accept_replicas(cd.data() + i * C, ci.data() + i * C, C, R, options().spann.rng_factor, head_distance,
                    lists.data() + i * R, dist.data());
}

void SpannIndex::add_labelled(const float* x, size_t n, const int64_t* ids, ThreadPool& pool) {
  Live& live = this->live();
  open_writer(live);  // before anything changes: another index may be writing the file
  ensure_where(live);
  const std::vector<int64_t> labels = labels_for_add(live, ids, n);
  if (count_ + n >= (uint64_t(1) << 31)) throw InvalidArgument("a SPANN index holds at most 2^31 - 1 vectors");
  sweep_before_versions_wrap(live, labels);
  std::vector<uint32_t> lists;
  assign_to_heads(x, n, lists);
  const size_t R = options().spann.replicas;
  const io::PostingLayout& layout = postings_->layout();
  const size_t E = layout.entry_bytes, T = layout.tail_bytes, head_bytes = codec_->head_size();
  codec_->observe(x, n);  // before the postings it scans can hold these rows
  // Each row's entry [raw id | head code | zeros] and its tail, encoded once.
  std::vector<uint8_t> entries(n * E, 0), tails(n * T);
  std::vector<uint8_t> code_scratch(pool.size() * codec_->code_size());
  pool.parallel_for(n, [&](size_t i, size_t w) {
    uint8_t* code = code_scratch.data() + w * codec_->code_size();
    codec_->encode(x + i * dim(), code);
    std::memcpy(entries.data() + i * E + 8, code, head_bytes);
    if (T) std::memcpy(tails.data() + i * T, code + head_bytes, T);
  });
  std::vector<std::pair<uint32_t, uint32_t>> by_list;  // (list, row)
  try {
    for (size_t i = 0; i < n; ++i) {
      const int64_t raw = labels[i] | (int64_t(live.liveness.next_version(labels[i])) << kVersionShift);
      std::memcpy(entries.data() + i * E, &raw, 8);
      live.where.set(labels[i], lists[i * R]);  // before any split moves it
      for (size_t r = 0; r < R && lists[i * R + r] != kNoList; ++r)
        by_list.emplace_back(lists[i * R + r], static_cast<uint32_t>(i));
    }
    std::sort(by_list.begin(), by_list.end());
    live.split_into.clear();
    append_to_lists(live, by_list, entries.data(), tails.data(), false);
    // Rows were assigned before this add's splits made new heads. One far outside the build's
    // region (all of them went to a few lists at its edge) may now have a head near it while
    // every list holding it is far enough for the eps pruning to skip: it joins its nearest
    // list too, or searching the row itself would not find it (58% of 1,500 rows 5 sigma off a
    // 16-d build were found before).
    // Joining a list may split it again and make new orphans: a few rounds, each only while the
    // previous one split.
    for (size_t round = 0, seen = 0; round < kOrphanRounds && live.split_into.size() > seen; ++round) {
      by_list = orphans_of_add(live, x, n, lists);
      seen = live.split_into.size();
      for (const auto& [list, row] : by_list) {  // where the row is now for sure
        uint32_t* slots = lists.data() + size_t(row) * R;
        *std::find_if(slots, slots + R - 1, [](uint32_t l) { return l == kNoList; }) = list;
      }
      append_to_lists(live, by_list, entries.data(), tails.data(), true);
    }
  } catch (...) {
    forget_failed_add(live, labels);
    throw;
  }
  note_strays(live, x, n, labels.data(), lists);
  count_ += n;
  for (int64_t id : labels) {
    live.next_id = std::max(live.next_id, id + 1);
    live.highest_added = std::max(live.highest_added, id);
  }
  if (journal_) journal_->writes.push_back({true, labels, std::vector<float>(x, x + n * dim())});
  sweep_if_stale(live);
}

void SpannIndex::sweep_before_versions_wrap(Live& live, const std::vector<int64_t>& ids) {
  // A version about to wrap could meet its own old entries: sweep them first.
  for (int64_t id : ids) {
    const uint32_t* v = live.liveness.table().find(id);
    if (v && (*v & kVersionMask) == kVersionMask) {
      sweep_stale(live);
      return;
    }
  }
}

void SpannIndex::sweep_if_stale(Live& live) {
  if (live.upsert_running || !too_stale(live, count_)) return;
  try {
    sweep_stale(live);
  } catch (const IoError&) {  // all or nothing: the index is as before the sweep, the write done
  }
}

void SpannIndex::forget_failed_add(Live& live, const std::vector<int64_t>& labels) {
  // Every list write is copy-on-write (write_list), so the lists hold what they held or what
  // they hold now plus entries of this add; a split writes its new list before the old one
  // lets go of the moved rows. What remains to undo is this add's own ids.
  for (int64_t id : labels) {
    live.where.erase(id);
    live.liveness.mark_removed(id);
  }
}

// Appends rows (entries and tails of one add, indexed by row) to lists, (list, row) pairs sorted
// by list; a list past the limit splits. skip_present: leave out rows the list already holds
// (a split of this add may have moved them there).
void SpannIndex::append_to_lists(Live& live, const std::vector<std::pair<uint32_t, uint32_t>>& by_list,
                                 const uint8_t* entries, const uint8_t* tails, bool skip_present) {
  const io::PostingLayout& layout = postings_->layout();
  const size_t E = layout.entry_bytes, T = layout.tail_bytes;
  ListBuffer b;
  IdTable present;
  for (size_t a = 0; a < by_list.size();) {
    const uint32_t h = by_list[a].first;
    read_list(h, b);
    // An upsert's old entries stay until its add is done: a refused add puts them back.
    b.keep_if([&](int64_t raw) { return live.liveness.live(raw) || upsert_keeps(live, raw); });
    if (skip_present) {
      present = IdTable();
      for (size_t i = 0; i < b.count; ++i) present.set(entry_id(b.raw_id(i)), 0);
    }
    for (; a < by_list.size() && by_list[a].first == h; ++a) {
      const size_t row = by_list[a].second;
      int64_t raw;
      std::memcpy(&raw, entries + row * E, 8);
      if (skip_present && present.contains(entry_id(raw))) continue;
      b.push(entries + row * E, T ? tails + row * T : nullptr);
    }
    if (b.count > live.limit)
      split_list(live, h, b);
    else
      write_list(live, h, b);
  }
}

// The rows of an add (x, with R lists each in `lists`) whose every list the eps pruning would
// skip when searching the row itself, as (nearest head, row) pairs sorted by head: the row
// joins its nearest head's list too.
std::vector<std::pair<uint32_t, uint32_t>> SpannIndex::orphans_of_add(const Live& live, const float* x, size_t n,
                                                                       const std::vector<uint32_t>& lists) const {
  std::vector<std::pair<uint32_t, uint32_t>> orphans;
  const double eps = options().spann.eps;
  if (head_->metric() != Metric::L2 || !std::isfinite(eps)) return orphans;  // no ratio bound to break
  const size_t R = options().spann.replicas;
  std::vector<float> nearest_d(n);
  std::vector<int64_t> nearest(n);
  SearchParams sp;
  sp.ef = options().ef_search;
  head_->search(x, n, 1, sp, nearest_d.data(), nearest.data());
  for (size_t i = 0; i < n; ++i) {
    if (nearest[i] < 0) continue;
    const uint32_t j = static_cast<uint32_t>(nearest[i]);
    const bool reachable = row_reach(live, x + i * dim(), lists.data() + i * R) <= (1.0 + eps) * nearest_d[i];
    if (!reachable) orphans.emplace_back(j, static_cast<uint32_t>(i));
  }
  std::sort(orphans.begin(), orphans.end());
  return orphans;
}

// Splits list h in two: h keeps the rows nearer its head, a new head (the mean of the other
// part, after a few rounds of 2-means with h's head fixed) takes the rows nearer it. Each part
// keeps at least kSplitLeast of the rows (a lopsided list is cut there). Cutting at the median
// instead, as this did before, left rows in the part whose head was the farther one: glove6b-50
// grown from 10% of its rows found less (recall@10 0.9367 -> 0.9444 at nprobe 32, with 4% fewer
// entries scanned; graph.md section 38).
void SpannIndex::split_list(Live& live, uint32_t h, ListBuffer& b) {
  const size_t m = b.count, d = dim();
  std::vector<float> v(m * d);
  for (size_t i = 0; i < m; ++i)
    codec_->decode_split(b.entries.data() + i * b.E + 8, b.T ? b.tails.data() + i * b.T : nullptr, v.data() + i * d);
  const bool l2 = head_->metric() == Metric::L2;
  const auto& kt = simd::kernels();
  auto dist = [&](const float* p, const float* q) { return l2 ? kt.l2sq(p, q, d) : -kt.dot(p, q, d); };
  // A copy: the new head appended to live.head_vectors below may move them.
  const std::vector<float> head0(live.head_vectors.begin() + size_t(h) * d, live.head_vectors.begin() + size_t(h + 1) * d);
  const float* c0 = head0.data();
  // Each row's distance to the old head (fixed) and to the new one (as of the last round).
  std::vector<float> to_old(m), to_new_head(m), margin(m);
  for (size_t i = 0; i < m; ++i) to_old[i] = dist(v.data() + i * d, c0);
  const size_t far = static_cast<size_t>(std::max_element(to_old.begin(), to_old.end()) - to_old.begin());
  std::vector<float> c1(v.begin() + far * d, v.begin() + (far + 1) * d);
  std::vector<uint32_t> order(m);
  size_t half = m / 2;  // rows that go to the new head: order[0, half)
  const size_t least = std::max<size_t>(1, static_cast<size_t>(kSplitLeast * static_cast<double>(m)));
  for (int round = 0; round <= kSplitRounds; ++round) {
    for (size_t i = 0; i < m; ++i) {
      to_new_head[i] = dist(v.data() + i * d, c1.data());
      margin[i] = to_old[i] - to_new_head[i];
    }
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t c) { return margin[a] > margin[c]; });
    const size_t nearer_new = static_cast<size_t>(
        std::find_if(order.begin(), order.end(), [&](uint32_t i) { return !(margin[i] > 0); }) - order.begin());
    half = std::min(std::max(nearer_new, least), m - least);
    if (round == kSplitRounds) break;
    std::fill(c1.begin(), c1.end(), 0.0f);
    for (size_t j = 0; j < half; ++j)
      for (size_t k = 0; k < d; ++k) c1[k] += v[size_t(order[j]) * d + k] / static_cast<float>(half);
    if (metric() == Metric::Cosine) normalize_in_place(c1.data(), d);
  }
  const uint32_t g = static_cast<uint32_t>(postings_->lists().size());
  const int64_t new_head = g;
  head_->add(c1.data(), 1, &new_head);
  live.head_vectors.insert(live.head_vectors.end(), c1.begin(), c1.end());
  for (float v : c1) head_halves_.push_back(f16::from_float(v));
  postings_->set_list(g, io::PostingList{});
  std::vector<uint8_t> to_new(m, 0);
  for (size_t j = 0; j < half; ++j) to_new[order[j]] = 1;
  ListBuffer kept, moved;
  kept.clear(b.E, b.T);
  moved.clear(b.E, b.T);
  // A row the least share put with the farther head, far enough that the eps pruning would skip
  // that head when the row itself is the query, goes with the nearer one too.
  const double eps = options().spann.eps;
  const auto pruned = [&](float own, float other) { return std::isfinite(eps) && (1.0 + eps) * other < own; };
  for (size_t i = 0; i < m; ++i) {
    const uint8_t* tail = b.T ? b.tails.data() + i * b.T : nullptr;
    ListBuffer& to = to_new[i] ? moved : kept;
    to.push(b.entries.data() + i * b.E, tail);
    const float d0 = to_old[i], d1 = to_new_head[i];  // c1 is the last round's
    if (l2 && (to_new[i] ? pruned(d1, d0) : pruned(d0, d1))) (to_new[i] ? kept : moved).push(b.entries.data() + i * b.E, tail);
  }
  live.split_into.emplace_back(h, g);
  take_nearer_members(live, g, moved, h, kept);
  rehome_strays(live, g, moved);
  // The new list is written before h lets go of the moved rows: a write refused in between
  // (a full disk) leaves them in h, or in both, never in neither.
  write_list(live, g, moved);
  for (size_t i = 0; i < m; ++i) {
    if (!to_new[i]) continue;
    const int64_t id = entry_id(b.raw_id(i));
    const uint32_t* at = live.where.find(id);
    if (at && *at == h && live.liveness.live(b.raw_id(i))) live.where.set(id, g);  // not an upsert's old entry
    const uint32_t* held_at = live.upsert_running ? live.upsert_where.find(id) : nullptr;
    if (held_at && *held_at == h && upsert_keeps(live, b.raw_id(i))) live.upsert_where.set(id, g);
  }
  write_list(live, h, kept);
  ++live.splits;
}

// After a split: members of the lists next to new head g that are nearer to g than to their
// own head join g as replicas (they stay where they are too), a bounded number of them.
void SpannIndex::take_nearer_members(Live& live, uint32_t g, ListBuffer& b, uint32_t split,
                                     const ListBuffer& split_kept) {
  const size_t d = dim(), K = std::min(kReassignLists + 2, head_->size());
  const float* cg = live.head_vectors.data() + size_t(g) * d;
  std::vector<float> nd(K);
  std::vector<int64_t> ni(K);
  SearchParams sp;
  sp.ef = std::max(K, options().ef_search);
  head_->search(cg, 1, K, sp, nd.data(), ni.data());
  const bool l2 = head_->metric() == Metric::L2;
  const auto& kt = simd::kernels();
  auto dist = [&](const float* p, const float* q) { return l2 ? kt.l2sq(p, q, d) : -kt.dot(p, q, d); };
  IdTable held;
  for (size_t i = 0; i < b.count; ++i) held.set(entry_id(b.raw_id(i)), 0);
  ListBuffer near;
  std::vector<float> v(d);
  const size_t room = std::min(live.limit, b.count + live.limit / kReassignShare);
  for (size_t j = 0; j < K && b.count < room; ++j) {
    if (ni[j] < 0 || static_cast<uint32_t>(ni[j]) == g) continue;
    const uint32_t n = static_cast<uint32_t>(ni[j]);
    const bool pending = n == split;  // its new content is not written yet
    if (!pending && postings_->lists()[n].count == 0) continue;
    if (!pending) read_list(n, near);
    const ListBuffer& members = pending ? split_kept : near;
    if (members.count == 0) continue;
    const float* cn = live.head_vectors.data() + size_t(n) * d;
    for (size_t e = 0; e < members.count && b.count < room; ++e) {
      const int64_t raw = members.raw_id(e);
      if (!live.liveness.live(raw) || held.contains(entry_id(raw))) continue;
      const uint8_t* tail = members.T ? members.tails.data() + e * members.T : nullptr;
      codec_->decode_split(members.entries.data() + e * members.E + 8, tail, v.data());
      if (dist(v.data(), cg) >= dist(v.data(), cn)) continue;
      b.push(members.entries.data() + e * members.E, tail);
      held.set(entry_id(raw), 0);
      ++live.reassigned;
    }
  }
}

size_t SpannIndex::remove_labels(const int64_t* ids, size_t n, ThreadPool&) {
  Live& live = this->live();
  open_writer(live);
  ensure_where(live);
  std::vector<int64_t> removed;
  for (size_t i = 0; i < n; ++i)
    if (live.where.erase(ids[i])) {
      live.liveness.mark_removed(ids[i]);
      removed.push_back(ids[i]);
    }
  count_ -= removed.size();
  const size_t count = removed.size();
  if (journal_ && count) journal_->writes.push_back({false, std::move(removed), {}});
  sweep_if_stale(live);
  return count;
}

void SpannIndex::upsert_labelled(const float* x, size_t n, const int64_t* ids, const std::vector<int64_t>& unique,
                                 ThreadPool& pool) {
  Live& live = this->live();
  open_writer(live);
  ensure_where(live);
  // What the remove changes, to put back if the add is refused (a full disk): the old rows'
  // entries stay in their lists meanwhile (no sweep runs, and a list the add rewrites keeps
  // them: upsert_keeps), so the rows come back whole.
  struct Held {
    int64_t id;
    uint32_t list;
    bool versioned;
    uint32_t entry;
  };
  sweep_before_versions_wrap(live, unique);  // before the remove: it would drop the old entries
  std::vector<Held> held;
  for (int64_t id : unique)
    if (const uint32_t* list = live.where.find(id)) {
      const uint32_t* entry = live.liveness.entry(id);
      held.push_back({id, *list, entry != nullptr, entry ? *entry : 0});
    }
  const size_t journal_mark = journal_ ? journal_->writes.size() : 0;
  live.upsert_held = IdTable();
  live.upsert_where = IdTable();
  for (const Held& h : held) {
    live.upsert_held.set(h.id, h.versioned ? h.entry & kVersionMask : 0);
    live.upsert_where.set(h.id, h.list);
  }
  live.upsert_running = true;
  try {
    remove_labels(unique.data(), unique.size(), pool);
    add_labelled(x, n, ids, pool);
  } catch (...) {
    live.upsert_running = false;
    for (const Held& h : held) {
      live.where.set(h.id, *live.upsert_where.find(h.id));
      live.liveness.restore(h.id, h.versioned ? &h.entry : nullptr);
    }
    live.upsert_held = IdTable();
    live.upsert_where = IdTable();
    count_ += held.size();
    if (journal_) journal_->writes.resize(journal_mark);
    throw;
  }
  live.upsert_running = false;
  live.upsert_held = IdTable();
  live.upsert_where = IdTable();
  sweep_if_stale(live);
}

bool SpannIndex::upsert_keeps(const Live& live, int64_t raw) const {
  if (!live.upsert_running) return false;
  const uint32_t* version = live.upsert_held.find(entry_id(raw));
  return version && *version == entry_version(raw);
}

std::vector<uint32_t> SpannIndex::compact_rows(ThreadPool&) {
  if (head_ && !live().liveness.empty()) {
    open_writer(live());
    sweep_stale(live());
  }
  return {};
}

}  // namespace vidx::spann
