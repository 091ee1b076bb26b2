// Exact copies in an HNSW graph: the same vector stored under several ids.
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
// nearest below and nearest above in turn, and a batch's new copies of one vector link to each
// other in slot order (chain_copies): the copies of a vector form a chain in slot order that
// every member reaches both ways, and the rest of each list is left to distinct neighbours.
// A new copy links into the chain among the copies its insertion search found (ef_construction
// of them at most): groups up to about that size are chained whole (every copy found, in any row
// order); in larger ones a new copy may miss its true slot neighbours and stay unreachable
// (groups of 1,000 copies: 97% reachable in file order, 75-78% shuffled, 19-27% before; hnswlib,
// whose builds vary from run to run, 74-78% and 78-94% over three runs; 20,000 copies of one
// vector: 45-69% / 22-29%, before 0.2-2.5%; benchmarks/results/graph.md section 20).
#include <algorithm>
#include <cstring>
#include <vector>

#include "hnsw_context.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

namespace {

// A list holds at most this share of its capacity in copies of its own node (at least 2: the
// nearest below and above), so a level-0 list of 32 keeps 8 copies and 24 other neighbours.
// A quarter rather than an eighth: groups of 1,000 and 20,000 copies built in file order kept
// 97% and 45-69% of their copies reachable instead of 88-91% and 27-51% (groups up to ~ef_construction
// keep all of them either way).
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

}  // namespace

bool HnswIndex::same_code(uint32_t a, uint32_t b) const {
  if (code_sample(code(a), head_size_) != code_sample(code(b), head_size_)) return false;
  if (std::memcmp(code(a), code(b), head_size_) != 0) return false;
  return tail_size_ == 0 || std::memcmp(tail(a), tail(b), tail_size_) == 0;
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
    if (s == owner || !same_code(s, owner)) continue;
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

void HnswIndex::chain_copies(std::vector<std::pair<uint64_t, uint32_t>>& keyed, uint32_t level,
                             std::vector<LinkRequest>& links) const {
  if (keyed.size() < 2) return;
  // Copies sort next to each other (by their codes' samples, then slot); each run of copies
  // links up as a chain in slot order.
  for (auto& k : keyed) k.first = code_sample(code(k.second), head_size_);
  std::sort(keyed.begin(), keyed.end());
  for (size_t i = 0; i < keyed.size();) {
    size_t end = i + 1;
    while (end < keyed.size() && keyed[end].first == keyed[i].first) ++end;
    // Within a run of equal samples, each node chains to the next one holding its code.
    for (size_t a = i; a < end; ++a) {
      for (size_t b = a + 1; b < end; ++b) {
        if (!same_code(keyed[a].second, keyed[b].second)) continue;
        links.push_back({keyed[a].second, keyed[b].second, level});
        links.push_back({keyed[b].second, keyed[a].second, level});
        break;
      }
    }
    i = end;
  }
}

}  // namespace vidx
