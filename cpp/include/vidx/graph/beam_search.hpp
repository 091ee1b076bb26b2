// The beam search of a proximity graph (HNSW's search_layer, Vamana's greedy search): expand
// the nearest unexpanded candidate, score its unvisited neighbours in one batch, keep the best
// `ef`. Independent of how a graph stores its links and codes, so every graph index shares it.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/common/visited_set.hpp"
#include "vidx/graph/candidate_buffer.hpp"
#include "vidx/graph/link_words.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace graph {

// Per-thread buffers of one expansion: the unvisited neighbours gathered, their codes and
// distances. Sized for the largest degree of the graph.
struct GatherBuffers {
  std::vector<uint32_t> slots;
  std::vector<const uint8_t*> codes;
  std::vector<float> distances;
  std::vector<uint32_t> order, entered;  // CandidateBuffer::insert_many's scratch and result

  void reserve(size_t max_degree) {
    if (slots.size() < max_degree) {
      slots.resize(max_degree);
      codes.resize(max_degree);
      distances.resize(max_degree);
      order.resize(max_degree);
      entered.resize(max_degree);
    }
  }
};

// A walk requests the whole of each gathered code (up to kGatherPrefetchBytes) into L2 the
// moment it gathers it, so a node's ~20 unvisited neighbours all load at once and the kernel
// then reads them from L2 (the kernels still request the next code or block into L1 as they
// go). Into L1 (prefetcht0) a request holds one of L1's few miss buffers until its line
// arrives; an expansion's hundreds of lines then stalled the prefetch instructions themselves
// (perf of glove's float32 walk: 40% of the walk loop's samples), which is why requesting more than
// four lines into L1 had gained nothing. Into L2 (prefetcht1) they do not, on AMD's cores; Intel's
// hold an L1 buffer for those too, which bounded walks avoid (walk_prefetch.cpp). Alternating
// processes, ratio to hnswlib in each: the first four lines into L2 instead of L1, glove
// float32 (200 bytes, so that step is all that changes for it) 1.38-1.54x -> 1.62-1.78x; then
// whole codes instead of four lines, wordnet float32 (1536-byte vectors) 1.12-1.21x ->
// 1.77-1.88x, lvq8 + f32 2.35-2.44x -> 2.97-3.28x, lvq4 + f32 2.97-3.41x -> 3.42-3.67x;
// fashion-mnist float32 (3136 bytes, walked with early exits) 1.50-1.69x -> 1.77-1.79x, lvq4 +
// f32 2.88-3.01x -> 3.16-3.38x. Builds too: wordnet float32, 2 threads, six alternating
// pairs, median 7.69 -> 7.13 s (graph.md section 16).
// The cap keeps an expansion of 32 neighbours within 256 KB, a quarter of a 1 MB L2 (codes up
// to 3136 bytes measured; none past the cap).
constexpr size_t kGatherPrefetchBytes = 8192;
// Bounded L2 walks ask for less (QueryDistance::walk_prefetch_bytes).
inline size_t gather_prefetch_bytes(const QueryDistance& qd) {
  return std::min(qd.walk_prefetch_bytes(), kGatherPrefetchBytes);
}

// Marks the unvisited neighbours of a node visited and gathers them, with their codes (whose
// first `prefetch_bytes` start loading into L2 now, so the distance kernel finds them in
// cache). Returns how many. lk: the node's link list, read through link_words.hpp.
// Two passes, the first without a branch on the visited marks (each slot is written, and the
// count advances past the unseen ones), the second requesting the codes: a branch per neighbour
// on marks that are as good as random mispredicted about half the time. Intel Xeon, saved
// wordnet-minilm lvq4x4 graph at ef 24, ratio to hnswlib in alternating processes (graph.md
// section 32): 3.27x -> 3.39x; with the beam's filter of newcomers also chosen by arithmetic
// (CandidateBuffer::insert_many) 3.18-3.27x -> 3.39-3.59x.
template <class CodeOf>
size_t gather_unvisited(const uint32_t* lk, CodeOf code_of, size_t prefetch_bytes, VisitedSet& visited,
                        GatherBuffers& gather) {
  const uint32_t degree = load_degree(lk, gather.slots.size());
  if (visited.worth_prefetching())
    for (uint32_t j = 1; j <= degree; ++j) visited.prefetch(load_link(lk, j));
  const size_t n = visited.mark_list(degree, [lk](uint32_t j) { return load_link(lk, j); }, gather.slots.data());
  for (size_t i = 0; i < n; ++i) {
    gather.codes[i] = code_of(gather.slots[i]);
    simd::prefetch_bytes_to_l2(gather.codes[i], prefetch_bytes);
  }
  return n;
}

// Starts loading a whole link list of `bytes`: every line it touches (a level-0 list of 33 words
// starts mid-line and spans three).
inline void prefetch_list(const uint32_t* lk, size_t bytes) { simd::prefetch_bytes(lk, bytes); }

// Starts loading a link list's count and first slots only (two lines: at least 15 slots).
inline void prefetch_list_start(const uint32_t* lk) {
  __builtin_prefetch(lk, 0, 3);
  __builtin_prefetch(reinterpret_cast<const char*>(lk) + 64, 0, 3);
}

// links_of(node) -> const uint32_t* [count, slot, slot, ...], read through link_words.hpp
// (writers may change it meanwhile), lists of `list_bytes` at most; code_of(slot) -> const uint8_t*.
// Both are inlined (templates, not callbacks): the walk costs what a hand-written one does.
// Leaves the best `ef` candidates, nearest first, in `beam`; with a `window` (< ef) it
// expands only candidates among the nearest `window` (CandidateBuffer's split beam).
template <class LinksOf, class CodeOf>
void beam_search(const QueryDistance& qd, uint32_t entry, float entry_distance, size_t ef, LinksOf links_of,
                 size_t list_bytes, CodeOf code_of, VisitedSet& visited, CandidateBuffer& beam,
                 GatherBuffers& gather, size_t window = 0) {
  visited.new_query();
  beam.reset(ef, window);
  beam.insert(entry_distance, entry);
  visited.test_and_set(entry);
  uint32_t* gathered = gather.slots.data();
  const uint8_t** codes = gather.codes.data();
  float* dist = gather.distances.data();
  const size_t prefetch_bytes = gather_prefetch_bytes(qd);

  while (beam.has_unexpanded()) {
    const uint32_t node = beam.pop_nearest_unexpanded();
    const size_t n = gather_unvisited(links_of(node), code_of, prefetch_bytes, visited, gather);
    // The list expanded next is most often the next unexpanded candidate now (unless this
    // batch brings a nearer one): its first lines load while the distances are computed,
    // instead of stalling the next gather.
    if (beam.has_unexpanded()) prefetch_list(links_of(beam.nearest_unexpanded()), list_bytes);
    if (n == 0) continue;
    // Once the beam is full, a neighbour at or beyond its worst distance is dropped anyway:
    // the codec may stop computing such a distance early.
    if (beam.full()) qd.batch_bounded(codes, n, beam.bound(), dist);
    else qd.batch(codes, n, dist);
    // A candidate that enters the beam is likely to be expanded later in the walk: its whole list
    // starts loading now, so that gather does not wait on it (perf of a glove6b-50 build: 16% of
    // the insertion walk's samples on loading a list's count and links). Intel Xeon, alternating
    // processes: the first two lines of each list, builds glove (150,000 rows) 9.73-9.86 ->
    // 9.08-9.14 s, wordnet-minilm 5.56-5.57 -> 5.31-5.51 s, fashion-mnist level; searches, ratio
    // to hnswlib on saved graphs, glove ef 96 1.93-1.98x -> 2.05-2.08x, wordnet ef 24 1.99-2.00x ->
    // 2.11x, fashion ef 10 2.17-2.18x -> 2.17-2.26x (graph.md section 26). The whole list
    // instead (a level-0 list of 33 words starts mid-line and spans three): glove 150,000 rows
    // 9.06 -> 8.81-8.84 s (section 27).
    const size_t entered = beam.insert_many(dist, gathered, n, gather.order.data(), gather.entered.data());
    for (size_t j = 0; j < entered; ++j) prefetch_list(links_of(gather.entered[j]), list_bytes);
  }
}

}  // namespace graph
}  // namespace vidx
