// "Seen in this query" marks for graph walks. Each query bumps an epoch instead of clearing
// the table, so starting a query costs nothing until the 16-bit epoch wraps (every 65535).
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

namespace vidx {

class VisitedSet {
 public:
  void resize(size_t n) {
    if (marks_.size() < n) marks_.resize(n + n / 4 + 64, 0);
  }
  size_t capacity() const { return marks_.size(); }

  void new_query() {
    if (++epoch_ == 0) {
      std::memset(marks_.data(), 0, marks_.size() * sizeof(uint16_t));
      epoch_ = 1;
    }
  }

  // True if `slot` was already visited in this query; marks it visited either way.
  bool test_and_set(uint32_t slot) {
    uint16_t& m = marks_[slot];
    if (m == epoch_) return true;
    m = epoch_;
    return false;
  }

  void prefetch(uint32_t slot) const { __builtin_prefetch(marks_.data() + slot, 1, 3); }

  size_t memory_usage() const { return marks_.capacity() * sizeof(uint16_t); }

 private:
  std::vector<uint16_t> marks_;
  uint16_t epoch_ = 0;
};

}  // namespace vidx
