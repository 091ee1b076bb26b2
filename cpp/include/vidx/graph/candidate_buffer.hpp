// The beam of a graph search: up to `capacity` candidates kept sorted by distance, each
// flagged once expanded. One sorted array replaces HNSW's two heaps: the nearest
// unexpanded candidate is at `cursor_`, and the search ends when none is left among the
// nearest `window` (by default all of them). A window smaller than the capacity (SVS's split
// buffer) walks as a beam of `window` would, while keeping the next nearest it scored for a
// re-rank.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "vidx/common/topk.hpp"

namespace vidx {

class CandidateBuffer {
 public:
  static constexpr uint32_t kExpanded = 0x80000000u;  // slots are < 2^31, the top bit is free

  void reset(size_t capacity, size_t window = 0) {
    capacity_ = capacity;
    window_ = window ? window : capacity;
    // Room for a beam of up to kFirstRoom now, more as candidates come: a beam is never more
    // than the nodes its walk saw, and a capacity taken at its word (ef_construction=1e9, which
    // the options allow, on 300 rows) allocated 8 GB.
    const size_t room = std::min(capacity, kFirstRoom) + 1;
    if (items_.size() < room) items_.resize(room);
    size_ = 0;
    cursor_ = 0;
  }

  size_t size() const { return size_; }
  bool full() const { return size_ == capacity_; }
  // A candidate at this distance or beyond cannot enter a full beam.
  float bound() const { return items_[size_ - 1].distance; }

  // Inserts in sorted position (after equal distances); returns false if it did not fit.
  bool insert(float distance, uint32_t slot) {
    if (size_ == capacity_ && distance >= items_[size_ - 1].distance) return false;
    make_room(size_ + 1);
    size_t lo = 0, hi = size_;
    while (lo < hi) {
      const size_t mid = (lo + hi) / 2;
      if (items_[mid].distance <= distance) lo = mid + 1;
      else hi = mid;
    }
    const size_t moved = (size_ == capacity_ ? size_ - 1 : size_) - lo;
    std::memmove(&items_[lo + 1], &items_[lo], moved * sizeof(Neighbor));
    items_[lo] = Neighbor{distance, slot};
    if (size_ < capacity_) ++size_;
    if (lo < cursor_) cursor_ = lo;
    return true;
  }

  // Inserts the n candidates (distances[j], slots[j]) as n insert() calls in this order would,
  // but moves the beam's entries once for all of them rather than once for each: those that
  // can enter are sorted (n is one expansion's gather, a few dozen at most) and merged in from
  // the back. Writes the slots that entered to `entered` and returns how many; `order` is
  // scratch. Both need room for n. One insert at a time, moving entries took 4-5% of a
  // glove6b-50 build at ef_construction 200 (graph.md section 27).
  size_t insert_many(const float* distances, const uint32_t* slots, size_t n, uint32_t* order, uint32_t* entered) {
    // Candidates at or beyond a full beam's worst cannot enter (the worst only comes nearer).
    // Chosen by arithmetic: most of a gather does not enter, in no predictable order (graph.md
    // section 32).
    size_t k = 0;
    const bool room = size_ < capacity_;
    const float worst = room ? 0.f : items_[size_ - 1].distance;
    for (size_t j = 0; j < n; ++j) {
      order[k] = static_cast<uint32_t>(j);
      k += room | (distances[j] < worst);
    }
    if (k == 0) return 0;
    // Stable: equal distances keep their arrival order, as successive insert() calls leave them.
    for (size_t a = 1; a < k; ++a) {
      const uint32_t j = order[a];
      size_t b = a;
      for (; b > 0 && distances[order[b - 1]] > distances[j]; --b) order[b] = order[b - 1];
      order[b] = j;
    }
    // Unmerged: items_[0, old_end) and order[0, new_end). On equal distances a newcomer goes
    // after the entries already there (as insert() puts it), and the farthest of old and new
    // together fall off a full beam.
    const size_t kept = size_ + k < capacity_ ? size_ + k : capacity_;
    make_room(kept);
    size_t old_end = size_, new_end = k;
    // Branches here, unlike the filter above: old and new entries come in runs, more so in wide
    // beams, and a merge chosen by arithmetic was 3.5% slower on glove6b-50 at ef 96 while level
    // on wordnet-minilm (graph.md section 32).
    const auto newcomer_is_last = [&] {
      return old_end == 0 || distances[order[new_end - 1]] >= items_[old_end - 1].distance;
    };
    size_t drop = size_ + k - kept;
    for (; drop > 0 && new_end > 0; --drop) {
      if (newcomer_is_last()) --new_end;
      else --old_end;
    }
    old_end -= drop;  // what is left to drop is old: every newcomer was nearer
    const size_t entered_count = new_end;
    size_t out = kept;  // out == old_end + new_end throughout: old entries below stay where they are
    while (new_end > 0) {
      --out;
      if (newcomer_is_last()) {
        const uint32_t j = order[--new_end];
        items_[out] = Neighbor{distances[j], slots[j]};
        entered[new_end] = slots[j];
      } else {
        items_[out] = items_[--old_end];
      }
    }
    size_ = kept;
    if (out < cursor_) cursor_ = out;  // out: where the nearest newcomer went
    return entered_count;
  }

  bool has_unexpanded() const { return cursor_ < size_ && cursor_ < window_; }
  // The candidate pop_nearest_unexpanded would return now (has_unexpanded() must hold).
  uint32_t nearest_unexpanded() const { return items_[cursor_].slot; }

  // Marks the nearest unexpanded candidate expanded and returns its slot.
  uint32_t pop_nearest_unexpanded() {
    Neighbor& n = items_[cursor_];
    const uint32_t slot = n.slot;
    n.slot |= kExpanded;
    do ++cursor_;
    while (cursor_ < size_ && (items_[cursor_].slot & kExpanded));
    return slot;
  }

  // i-th nearest (expanded or not).
  uint32_t slot(size_t i) const { return items_[i].slot & ~kExpanded; }
  float distance(size_t i) const { return items_[i].distance; }

 private:
  static constexpr size_t kFirstRoom = 1024;

  // items_ holds `entries` and one more (insert's move reads one past the last).
  void make_room(size_t entries) {
    if (entries < items_.size()) return;
    items_.resize(std::min(capacity_, std::max(entries, 2 * items_.size())) + 1);
  }

  std::vector<Neighbor> items_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t window_ = 0;
  size_t cursor_ = 0;
};

}  // namespace vidx
