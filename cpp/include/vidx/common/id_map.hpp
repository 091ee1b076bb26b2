// User ids (64-bit, any value) <-> internal slots (32-bit, dense). While every id equals
// its slot (ids assigned by the index), no hash map is kept at all.
#pragma once
#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace vidx {

class IdMap {
 public:
  size_t size() const { return labels_.size(); }
  int64_t label(uint32_t slot) const { return labels_[slot]; }
  const std::vector<int64_t>& labels() const { return labels_; }
  bool contains(int64_t id) const;

  // Throws InvalidArgument if `ids` repeats a value or names one already present.
  // ids == nullptr means "assign": nothing to check.
  void check_new(const int64_t* ids, size_t n) const;
  // Appends n ids (or assigned ones: one past the largest id so far). Call after check_new.
  void append(const int64_t* ids, size_t n);
  // Replaces everything (loading a file); throws InvalidArgument on duplicates.
  void assign(std::vector<int64_t> labels);

  size_t memory_usage() const;

 private:
  void build_map_if_needed();

  std::vector<int64_t> labels_;
  std::unordered_map<int64_t, uint32_t> slot_of_;  // empty while labels_[i] == i for all i
  bool identity_ = true;
  int64_t next_auto_ = 0;
};

}  // namespace vidx
