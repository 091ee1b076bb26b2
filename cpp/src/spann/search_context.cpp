#include "search_context.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "vidx/common/rng.hpp"

namespace vidx::spann {

void SeenSet::reset(size_t expected, size_t max_slots) {
  size_t cap = 64;
  while (cap < 2 * expected && cap < max_slots) cap <<= 1;
  if (cap != keys_.size()) {
    keys_.assign(cap, 0);
    used_.assign(cap, 0);
    keys_.shrink_to_fit();
    used_.shrink_to_fit();
  } else {
    std::fill(used_.begin(), used_.end(), 0);
  }
  mask_ = cap - 1;
  size_ = 0;
  limit_ = cap / 2;
}

SeenSet::Status SeenSet::insert(int64_t id) {
  size_t h = static_cast<size_t>(splitmix64(static_cast<uint64_t>(id))) & mask_;
  while (used_[h]) {
    if (keys_[h] == id) return kSeen;
    h = (h + 1) & mask_;
  }
  if (saturated()) return kUnknown;
  used_[h] = 1;
  keys_[h] = id;
  ++size_;
  return kNew;
}

void Results::reset(size_t keep, size_t head_bytes) {
  keep_ = keep;
  head_bytes_ = head_bytes;
  d_.resize(keep);
  id_.resize(keep);
  tail_.resize(keep);
  heads_.resize(keep * head_bytes);
  heap_.clear();
  heap_.reserve(keep);
  held_ids_.clear();
  ids_indexed_ = false;
}

void Results::offer(float d, int64_t id, uint64_t tail_at, const uint8_t* head, bool check_duplicates) {
  const bool room = heap_.size() < keep_;
  if (!room && !(d < d_[heap_.front()] || (d == d_[heap_.front()] && id < id_[heap_.front()]))) return;
  if (check_duplicates) {
    if (!ids_indexed_) {
      for (uint32_t s : heap_) held_ids_.set(id_[s], s);
      ids_indexed_ = true;
    }
    if (held_ids_.contains(id)) return;
  }
  auto cmp = [this](uint32_t a, uint32_t b) { return less(a, b); };
  uint32_t slot;
  if (room) {
    slot = static_cast<uint32_t>(heap_.size());
    heap_.push_back(slot);
  } else {
    std::pop_heap(heap_.begin(), heap_.end(), cmp);
    slot = heap_.back();
    if (ids_indexed_) held_ids_.erase(id_[slot]);
  }
  d_[slot] = d;
  id_[slot] = id;
  if (ids_indexed_) held_ids_.set(id, slot);
  tail_[slot] = tail_at;
  if (head_bytes_) std::memcpy(heads_.data() + size_t(slot) * head_bytes_, head, head_bytes_);
  std::push_heap(heap_.begin(), heap_.end(), cmp);
}

void Results::slots_by_tail(std::vector<uint32_t>& order) const {
  order.assign(heap_.begin(), heap_.end());
  std::sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) { return tail_[a] < tail_[b]; });
}

void Results::write_sorted(size_t k, float* distances, int64_t* ids) {
  std::sort(heap_.begin(), heap_.end(), [this](uint32_t a, uint32_t b) { return less(a, b); });
  for (size_t j = 0; j < k; ++j) {
    const bool have = j < heap_.size();
    distances[j] = have ? d_[heap_[j]] : std::numeric_limits<float>::infinity();
    ids[j] = have ? id_[heap_[j]] : -1;
  }
}

size_t Results::memory_usage() const {
  return d_.capacity() * 4 + id_.capacity() * 8 + tail_.capacity() * 8 + heads_.capacity() + heap_.capacity() * 4 +
         held_ids_.memory_usage();
}

size_t SpannIndex::Context::memory_usage() const {
  return sizeof(*this) + pages.size() + head_d.capacity() * 4 + head_i.capacity() * 8 + seen.memory_usage() +
         results.memory_usage() + codes.capacity() * sizeof(void*) + code_ids.capacity() * 8 + code_pos.capacity() * 4 + code_d.capacity() * 4 +
         order.capacity() * 4 + window_pages.capacity() * 8;
}

}  // namespace vidx::spann
