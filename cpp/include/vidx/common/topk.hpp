// Keeps the k smallest (distance, slot) pairs seen so far (a bounded max-heap).
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace vidx {

struct Neighbor {
  float distance;
  uint32_t slot;
};

inline bool closer(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.slot < b.slot);
}

class TopK {
 public:
  explicit TopK(size_t k) : k_(k) { heap_.reserve(k); }

  // Distance a candidate must beat to enter.
  float threshold() const {
    return heap_.size() < k_ ? std::numeric_limits<float>::infinity() : heap_.front().distance;
  }

  void push(float distance, uint32_t slot) {
    const Neighbor n{distance, slot};
    if (heap_.size() < k_) {
      heap_.push_back(n);
      std::push_heap(heap_.begin(), heap_.end(), closer);
    } else if (closer(n, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), closer);
      heap_.back() = n;
      std::push_heap(heap_.begin(), heap_.end(), closer);
    }
  }

  // Results nearest first; the heap is consumed.
  std::vector<Neighbor>& sorted() {
    std::sort_heap(heap_.begin(), heap_.end(), closer);
    return heap_;
  }

 private:
  size_t k_;
  std::vector<Neighbor> heap_;
};

}  // namespace vidx
