// Copies in an HNSW graph: the same vector stored under several ids (to the walk, one head).
//
// Real corpora hold many (boilerplate chunks, empty documents, re-ingested rows). The copies of
// a vector lie at one distance from each other and from everything else, and the neighbour
// heuristic drops a candidate only when a kept neighbour is strictly nearer to it. So a list
// keeps every copy of its own node (a group larger than a list fills its members' lists with
// each other), while every other node keeps one copy of the group. The copies that lose the ties
// of a full list then have no way in, and a batch's new copies, which do not see each other,
// all link to the same few old ones. Measured before this file (100 vectors stored 100 times each
// among 20,000 rows, 32 dimensions, M=16): searches at ef 400 found 58-91% of each vector's 100
// copies on average (f32, lvq8, f32_split; file order or shuffled), hnswlib all 100.
//
// So a list keeps only a few copies of its node (mark_surplus_copies), chosen by slot number,
// nearest below and nearest above in turn: the copies of a vector form a chain in slot order on
// every level, which each member reaches both ways, and the rest of each list is left to distinct
// neighbours. A new copy links in beside its own place in that chain: its descent, once on a copy,
// moves along the chain to the copy nearest in slot number on each level (a skip list: copies on
// one level lie a few steps apart on the level below; nearest_copy_by_slot), and its candidates
// on its own levels get the copies beside that place (add_copies_beside), which a search that met
// only part of a large group may have missed. A batch's new copies, which do not see each other,
// link to each other as a chain too (chain_copies_among_sources), wherever they ask for the same
// reverse link. Groups of 40, 100, 1,000 and 20,000 copies are found whole in file order and
// shuffled, with every codec measured (benchmarks/results/graph.md section 20).
//
// Copies are nodes whose heads are equal (same_head): what a search's walk reads, so to every
// walk they are one point, whatever their re-rank tails hold. Comparing whole codes split such a
// group: a codec that learns again as the index grows (binary, lvq4x8) re-encodes the older rows
// from their codes, so copies added in different generations differ in their tails and mostly
// keep one head (at 384-d, a few heads a bit apart). 750 copies of a boilerplate chunk, fed three
// an add with documents to a binary index, held one head and 5-6 whole codes, and 0.21-0.93 of
// the group stayed reachable (by seed). Compared by heads, 750 of 750 on every seed (binary,
// binary_rot, lvq4x8; rabitq's head holds per-row factors that each generation changes, so its
// groups still split by generation). Distinct rows whose heads collide (1-bit codes of
// low-dimensional rows, 4-bit codes of tight clusters) are chained too, which the walk cannot
// tell apart either: recall on such data rose or held (graph.md section 56).
#include <algorithm>
#include <cstring>
#include <vector>

#include "hnsw_context.hpp"
#include "vidx/graph/link_words.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

namespace {

// A list holds at most this share of its capacity in copies of its own node (at least 2: the
// nearest below and above), so a level-0 list of 32 keeps 8 copies and 24 other neighbours.
// A quarter rather than an eighth was chosen before new copies found their place in the chain
// (then groups of 1,000 and 20,000 copies in file order kept 97% and 45-69% of their copies
// reachable instead of 88-91% and 27-51%).
constexpr size_t kCopyShareDivisor = 4;
constexpr size_t kMinCopiesKept = 2;

// Four words spread over a code's head. Codes of distinct vectors almost always differ in one of
// them (also where the first dimensions are constant, as the zero borders of images are), so
// comparing samples first spares a full comparison, and sorting by them brings copies together.
uint64_t code_sample(const uint8_t* code, size_t size) {
  uint64_t sample = 0;
  if (size < sizeof(uint32_t)) {
    std::memcpy(&sample, code, size);
    return sample;
  }
  for (size_t k = 0; k < 4; ++k) {
    uint32_t word;
    std::memcpy(&word, code + k * (size - sizeof(word)) / 3, sizeof(word));
    sample = sample * 0x9E3779B97F4A7C15ull + word;
  }
  return sample;
}

uint32_t slot_gap(uint32_t a, uint32_t b) { return a > b ? a - b : b - a; }

// Steps along a chain of copies on one level are few (copies on one level lie ~M apart in slot
// order on the level below). Each step comes strictly nearer, so a walk cannot loop; the bound
// caps the cost where a chain was reached far from the node's place (a group met on no upper level).
constexpr size_t kMaxChainSteps = 4096;

}  // namespace

bool HnswIndex::same_head(uint32_t a, uint32_t b) const {
  return code_sample(code(a), head_size_) == code_sample(code(b), head_size_) &&
         std::memcmp(code(a), code(b), head_size_) == 0;
}

void HnswIndex::mark_surplus_copies(const std::vector<Neighbor>& candidates, uint32_t owner, size_t max_count,
                                    SearchContext& ctx) const {
  ctx.copy_of_owner.assign(candidates.size(), SearchContext::kNotACopy);
  std::vector<size_t>& below = ctx.copies_below;  // candidate indices, slots below the owner
  std::vector<size_t>& above = ctx.copies_above;
  below.clear();
  above.clear();
  for (size_t i = 0; i < candidates.size(); ++i) {
    const uint32_t s = candidates[i].slot;
    if (s == owner || !same_head(s, owner)) continue;
    (s < owner ? below : above).push_back(i);
    ctx.copy_of_owner[i] = SearchContext::kKeptCopy;
  }
  const size_t keep = std::max(kMinCopiesKept, max_count / kCopyShareDivisor);
  if (below.size() + above.size() <= keep) return;
  // Nearest slot first on each side.
  std::sort(below.begin(), below.end(), [&](size_t a, size_t b) { return candidates[a].slot > candidates[b].slot; });
  std::sort(above.begin(), above.end(), [&](size_t a, size_t b) { return candidates[a].slot < candidates[b].slot; });
  for (size_t i : below) ctx.copy_of_owner[i] = SearchContext::kSurplusCopy;
  for (size_t i : above) ctx.copy_of_owner[i] = SearchContext::kSurplusCopy;
  size_t from_below = 0, from_above = 0;
  for (size_t kept = 0; kept < keep; ++kept) {
    // In turn, nearest below first; one side left alone once the other has run out.
    const bool take_below = from_below < below.size() && (from_above >= above.size() || from_below <= from_above);
    if (take_below) ctx.copy_of_owner[below[from_below++]] = SearchContext::kKeptCopy;
    else ctx.copy_of_owner[above[from_above++]] = SearchContext::kKeptCopy;
  }
}

void HnswIndex::chain_copies_among_sources(const LinkRequest* group, size_t n, int level, SearchContext& ctx,
                                           std::vector<LinkRequest>& links) const {
  if (n < 2) return;
  std::vector<std::pair<uint64_t, uint32_t>>& keyed = ctx.new_sources;
  // Copies sort next to each other (by their codes' samples, then slot); each run of copies
  // links up as a chain in slot order.
  keyed.clear();
  for (size_t i = 0; i < n; ++i) keyed.push_back({code_sample(code(group[i].source), head_size_), group[i].source});
  std::sort(keyed.begin(), keyed.end());
  for (size_t i = 0; i < keyed.size();) {
    size_t end = i + 1;
    while (end < keyed.size() && keyed[end].first == keyed[i].first) ++end;
    // Within a run of equal samples, each node chains to the next one holding its code.
    for (size_t a = i; a < end; ++a) {
      for (size_t b = a + 1; b < end; ++b) {
        if (!same_head(keyed[a].second, keyed[b].second)) continue;
        links.push_back({keyed[a].second, keyed[b].second, static_cast<uint32_t>(level)});
        links.push_back({keyed[b].second, keyed[a].second, static_cast<uint32_t>(level)});
        break;
      }
    }
    i = end;
  }
}

uint32_t HnswIndex::nearest_copy_by_slot(uint32_t entry, uint32_t node, int level) const {
  if (entry == node || !same_head(entry, node)) return entry;
  for (size_t step = 0; step < kMaxChainSteps; ++step) {
    // Old lists only: an insertion's first phase writes no list but its own node's.
    const uint32_t* lk = links(entry, level);
    const uint32_t count = graph::load_count(lk);
    uint32_t best = entry;
    for (uint32_t j = 1; j <= count; ++j) {
      const uint32_t v = graph::load_link(lk, j);
      if (v != node && slot_gap(v, node) < slot_gap(best, node) && linkable(v) && same_head(v, node)) best = v;
    }
    if (best == entry) break;
    entry = best;
  }
  return entry;
}

void HnswIndex::add_copies_beside(uint32_t node, int level, std::vector<Neighbor>& candidates) const {
  uint32_t nearest = node;
  float distance = 0.f;
  for (const Neighbor& c : candidates)
    if (c.slot != node && (nearest == node || slot_gap(c.slot, node) < slot_gap(nearest, node)) &&
        same_head(c.slot, node)) {
      nearest = c.slot;
      distance = c.distance;  // every copy's: the same head scored by the same query
    }
  if (nearest == node) return;  // no copies: the common case
  const uint32_t beside = nearest_copy_by_slot(nearest, node, level);
  const size_t before = candidates.size();
  const auto add = [&](uint32_t s) {
    if (s == node || !linkable(s)) return;
    for (const Neighbor& c : candidates)
      if (c.slot == s) return;
    candidates.push_back({distance, s});
  };
  add(beside);
  const uint32_t* lk = links(beside, level);
  const uint32_t count = graph::load_count(lk);
  for (uint32_t j = 1; j <= count; ++j) {
    const uint32_t v = graph::load_link(lk, j);
    if (same_head(v, node)) add(v);
  }
  if (candidates.size() != before) std::sort(candidates.begin(), candidates.end(), closer);
}

uint32_t HnswIndex::nearest_copy_among(const std::vector<Neighbor>& candidates, uint32_t node,
                                       const SearchContext& ctx, uint32_t otherwise) const {
  uint32_t best = otherwise;
  for (size_t i = 0; i < candidates.size(); ++i)
    if (ctx.copy_of_owner[i] != SearchContext::kNotACopy && slot_gap(candidates[i].slot, node) < slot_gap(best, node))
      best = candidates[i].slot;
  return best;
}

}  // namespace vidx
