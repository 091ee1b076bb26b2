// "Seen in this query" marks for graph walks: one bit per slot, and the words a query set are
// remembered so the next query clears only those.
//
// Bits rather than a 16-bit epoch per slot (hnswlib's way, and ours until the ninth session):
// 1/16 of the memory per search thread (glove6b-50's 390,000 slots: 49 KB against 780 KB; a
// billion-slot graph would need 2 GB of epochs per thread), and a table the L2 cache holds. On
// a glove walk at ef 128 the epoch loads had ~13% of the perf samples; with bits that stall is
// gone, but the walk then waits as long on the code prefetches that follow it (it is bound by
// misses in flight), so no speed change could be told from the noise either way (glove ef 128:
// median of 23 alternating process pairs +3%; wordnet ef 24, 50,000 slots: 12 pairs, 0.96). The
// epoch table's clearing memset every 65,535 queries is gone too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vidx {

class VisitedSet {
 public:
  // Slots 0..n-1 exist. A slot beyond them, which only a damaged file maps into a list (mapped
  // files loaded without verify are not checked whole), reads as visited, so a walk skips it
  // rather than reading past the index's memory.
  void resize(size_t n) {
    const size_t words = (n + 63) / 64;
    if (bits_.size() < words) {
      bits_.resize(words + words / 4 + 1, 0);
      touched_.resize(bits_.size() + 1);  // a write past the last word listed is never counted
    }
    slots_ = n;
  }
  size_t capacity() const { return bits_.size() * 64; }

  // Clears what the previous query marked: as many words as it touched, not the whole table.
  void new_query() {
    for (size_t i = 0; i < touched_count_; ++i) bits_[touched_[i]] = 0;
    touched_count_ = 0;
  }

  // True if `slot` was already visited in this query; marks it visited either way. Without a
  // branch on the mark: whether a walk's neighbour was seen is as good as random, and callers
  // count the unseen with arithmetic too (graph::gather_unvisited). The word's index is written
  // every time and kept (counted) only when the word was clear.
  bool test_and_set(uint32_t slot) {
    if (slot >= slots_) return true;
    uint64_t& word = bits_[slot >> 6];
    const uint64_t was = word, bit = uint64_t{1} << (slot & 63);
    touched_[touched_count_] = slot >> 6;
    touched_count_ += was == 0;
    word = was | bit;
    return (was & bit) != 0;
  }

  // Marks slots load_slot(1..count) visited (a link list's) and writes those not visited
  // before to `unseen`, in list order; returns how many. test_and_set's work with the table's
  // pointers, size and count held in locals: through the members, the compiler reloads all four for
  // every slot, since each mark's stores might change them.
  template <class LoadSlot>
  size_t mark_list(uint32_t count, LoadSlot load_slot, uint32_t* unseen) {
    uint64_t* const bits = bits_.data();
    uint32_t* const touched = touched_.data();
    const size_t slots = slots_;
    size_t touched_count = touched_count_;
    size_t n = 0;
    for (uint32_t j = 1; j <= count; ++j) {
      const uint32_t slot = load_slot(j);
      unseen[n] = slot;
      if (slot >= slots) continue;  // only in damaged files: read as visited
      uint64_t& word = bits[slot >> 6];
      const uint64_t was = word, bit = uint64_t{1} << (slot & 63);
      touched[touched_count] = slot >> 6;
      touched_count += was == 0;
      word = was | bit;
      n += (was & bit) == 0;
    }
    touched_count_ = touched_count;
    return n;
  }

  bool holds(uint32_t slot) const { return slot < slots_; }
  void prefetch(uint32_t slot) const { __builtin_prefetch(bits_.data() + (slot >> 6), 1, 3); }
  // Whether a walk should request a list's marks before testing them: only for a table too
  // large to stay in a core's caches. A smaller one is there already, and on Intel cores every
  // request, even one that hits L2, holds one of L1's few fill buffers, which the walk's code
  // requests need: glove6b-50 (390,000 slots, a 49 KB table), 2-thread build 28.3-28.4 ->
  // 27.5-27.9 s without the requests (benchmarks/results/graph.md section 27). Tables past the
  // threshold (graphs of about 840,000 slots and more) keep them, unmeasured.
  bool worth_prefetching() const { return bits_.size() * sizeof(uint64_t) > kPrefetchAboveBytes; }

  size_t memory_usage() const { return bits_.capacity() * sizeof(uint64_t) + touched_.capacity() * sizeof(uint32_t); }

 private:
  static constexpr size_t kPrefetchAboveBytes = size_t{128} << 10;
  std::vector<uint64_t> bits_;
  std::vector<uint32_t> touched_;
  size_t touched_count_ = 0;
  size_t slots_ = 0;  // words set since the last new_query, each listed once
};

}  // namespace vidx
