// User ids (64-bit, 0 .. 2^63 - 1; -1 means "no result" in search outputs) <-> internal slots (32-bit, dense). While every id equals
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
  // The slot holding `id`, or -1 when it is not stored (search filters map allow-lists by it).
  int64_t slot_of(int64_t id) const;
  // True while every stored id equals its slot (no hash map is kept).
  bool identity() const { return identity_; }

  // Throws InvalidArgument if `ids` holds a negative value, repeats a value or names one
  // already present. ids == nullptr means "assign n default ids": throws if they would pass
  // 2^63 - 1 (default ids continue after the largest id so far).
  void check_new(const int64_t* ids, size_t n) const;
  // Appends n ids (or assigned ones: one past the largest id so far). Call after check_new.
  void append(const int64_t* ids, size_t n);
  // Replaces everything (loading a file); throws InvalidArgument on duplicates.
  void assign(std::vector<int64_t> labels);

  size_t memory_usage() const;

 private:
  void build_map_if_needed();
  void check_default_ids_fit(size_t n) const;

  std::vector<int64_t> labels_;
  std::unordered_map<int64_t, uint32_t> slot_of_;  // empty while labels_[i] == i for all i
  bool identity_ = true;
  uint64_t next_auto_ = 0;  // largest id + 1: up to 2^63, so it cannot overflow
};

}  // namespace vidx
