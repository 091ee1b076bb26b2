// A compact hash map from user id (>= 0) to a 32-bit value: open addressing with linear
// probing, 12 bytes a slot, at most half full (~24 bytes per id). SPANN's living state keeps
// two: id -> a list holding it, and id -> its entry version for ids removed or re-added.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "vidx/common/rng.hpp"

namespace vidx::spann {

class IdTable {
 public:
  static constexpr int64_t kEmpty = -1;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear() {
    keys_.clear();
    values_.clear();
    size_ = 0;
  }
  // Pointer to the value of id, or nullptr.
  const uint32_t* find(int64_t id) const {
    if (keys_.empty()) return nullptr;
    for (size_t h = slot_of(id);; h = (h + 1) & mask()) {
      if (keys_[h] == id) return &values_[h];
      if (keys_[h] == kEmpty) return nullptr;
    }
  }
  bool contains(int64_t id) const { return find(id) != nullptr; }
  void set(int64_t id, uint32_t value) {
    if (2 * (size_ + 1) > keys_.size()) grow();
    size_t h = slot_of(id);
    for (; keys_[h] != kEmpty; h = (h + 1) & mask())
      if (keys_[h] == id) {
        values_[h] = value;
        return;
      }
    keys_[h] = id;
    values_[h] = value;
    ++size_;
  }
  // Removes id (backward-shift deletion keeps every probe chain unbroken); false if absent.
  bool erase(int64_t id) {
    if (keys_.empty()) return false;
    size_t h = slot_of(id);
    while (keys_[h] != id) {
      if (keys_[h] == kEmpty) return false;
      h = (h + 1) & mask();
    }
    for (size_t next = (h + 1) & mask(); keys_[next] != kEmpty; next = (next + 1) & mask()) {
      const size_t home = slot_of(keys_[next]);
      // Move `next` into the hole unless its home lies cyclically in (h, next].
      if (((next - home) & mask()) >= ((next - h) & mask())) {
        keys_[h] = keys_[next];
        values_[h] = values_[next];
        h = next;
      }
    }
    keys_[h] = kEmpty;
    --size_;
    return true;
  }
  template <class F>
  void for_each(F&& f) const {
    for (size_t h = 0; h < keys_.size(); ++h)
      if (keys_[h] != kEmpty) f(keys_[h], values_[h]);
  }
  size_t memory_usage() const { return keys_.capacity() * 8 + values_.capacity() * 4; }

 private:
  size_t mask() const { return keys_.size() - 1; }
  size_t slot_of(int64_t id) const { return static_cast<size_t>(splitmix64(static_cast<uint64_t>(id))) & mask(); }
  void grow() {
    std::vector<int64_t> old_keys(std::max<size_t>(64, keys_.size() * 2), kEmpty);
    std::vector<uint32_t> old_values(old_keys.size(), 0);
    old_keys.swap(keys_);
    old_values.swap(values_);
    size_ = 0;
    for (size_t h = 0; h < old_keys.size(); ++h)
      if (old_keys[h] != kEmpty) set(old_keys[h], old_values[h]);
  }

  std::vector<int64_t> keys_;
  std::vector<uint32_t> values_;
  size_t size_ = 0;
};

}  // namespace vidx::spann
