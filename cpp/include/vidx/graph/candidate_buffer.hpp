// The beam of a graph search: up to `capacity` candidates kept sorted by distance, each
// flagged once expanded. One sorted array replaces HNSW's two heaps: the nearest
// unexpanded candidate is at `cursor_`, and the search ends when none is left among the
// nearest `window` (by default all of them). A window smaller than the capacity (SVS's split
// buffer) walks as a beam of `window` would, while keeping the next nearest it scored for a
// re-rank.
#pragma once
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
    if (items_.size() < capacity + 1) items_.resize(capacity + 1);
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
  std::vector<Neighbor> items_;
  size_t size_ = 0;
  size_t capacity_ = 0;
  size_t window_ = 0;
  size_t cursor_ = 0;
};

}  // namespace vidx
