// The length each row of a cosine index had when it was added, by slot. Cosine indexes store
// and compare unit vectors; get() multiplies them by these lengths so that it returns the
// vectors as they were added (hnswlib and faiss return the normalised ones, which users of
// both report as a surprise). Slots it has no length for (files saved before it was kept)
// read 1: get() returns their unit vectors, as those versions did.
//
// Threads: the owner (VectorIndex) reads and writes it under its write mutex only, and resizes
// it under its exclusive lock as well, so that memory_usage() may read its size beside writers.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

namespace vidx {

class RowNorms {
 public:
  size_t size() const { return norms_.size(); }
  size_t memory_usage() const { return norms_.capacity() * sizeof(float); }
  // Room for slots < slot_count; new slots read 1 until set.
  void grow_to(size_t slot_count) {
    if (norms_.size() < slot_count) norms_.resize(slot_count, 1.0f);
  }
  void set(uint32_t slot, float norm) { norms_.at(slot) = norm; }
  float of(uint32_t slot) const { return slot < norms_.size() ? norms_[slot] : 1.0f; }
  // Rows of `dim` floats decoded from slots, scaled back to their lengths: in double, and held
  // within float32's range, since lossy codes decode a unit value a little off and a length
  // near FLT_MAX would carry it past (a review saw inf in 12 of 64 lvq4 rows).
  void scale(const uint32_t* slots, size_t n, size_t dim, float* rows) const {
    constexpr double kMax = std::numeric_limits<float>::max();
    for (size_t i = 0; i < n; ++i) {
      const double norm = of(slots[i]);
      float* row = rows + i * dim;
      for (size_t c = 0; c < dim; ++c) row[c] = static_cast<float>(std::clamp(row[c] * norm, -kMax, kMax));
    }
  }
  // compact(): new_slot[old] is each slot's new number (UINT32_MAX: dropped).
  void renumber(const std::vector<uint32_t>& new_slot) {
    std::vector<float> moved;
    for (size_t old = 0; old < new_slot.size(); ++old) {
      if (new_slot[old] == UINT32_MAX) continue;
      if (moved.size() <= new_slot[old]) moved.resize(new_slot[old] + 1, 1.0f);
      moved[new_slot[old]] = of(static_cast<uint32_t>(old));
    }
    norms_.swap(moved);
  }
  // The file section: one float32 a slot, for the first slot_count slots.
  std::vector<uint8_t> bytes(size_t slot_count) const {
    std::vector<uint8_t> out(slot_count * sizeof(float));
    for (size_t slot = 0; slot < slot_count; ++slot) {
      const float norm = of(static_cast<uint32_t>(slot));
      std::memcpy(out.data() + slot * sizeof(float), &norm, sizeof(float));
    }
    return out;
  }
  // From a file section of `size` bytes (already length-checked by the caller).
  void assign(const uint8_t* data, size_t slot_count) {
    norms_.assign(slot_count, 1.0f);
    if (slot_count) std::memcpy(norms_.data(), data, slot_count * sizeof(float));
  }

 private:
  std::vector<float> norms_;
};

}  // namespace vidx
