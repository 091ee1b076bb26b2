#include "vidx/common/id_map.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_set>
#include <utility>

#include "vidx/common/error.hpp"

namespace vidx {

bool IdMap::contains(int64_t id) const {
  if (identity_) return id >= 0 && static_cast<uint64_t>(id) < labels_.size();
  return slot_of_.count(id) != 0;
}

void IdMap::check_new(const int64_t* ids, size_t n) const {
  if (!ids) {
    check_default_ids_fit(n);
    return;
  }
  std::unordered_set<int64_t> seen;
  seen.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0)  // -1 marks "no result" in search outputs; no id may look like it
      throw InvalidArgument("ids must be >= 0, got " + std::to_string(ids[i]) + " (row " + std::to_string(i) + ")");
    if (!seen.insert(ids[i]).second)
      throw InvalidArgument("duplicate id " + std::to_string(ids[i]) + " in this call (row " + std::to_string(i) + ")");
    if (contains(ids[i]))
      throw InvalidArgument("id " + std::to_string(ids[i]) + " is already in the index");
  }
}

void IdMap::check_default_ids_fit(size_t n) const {
  constexpr uint64_t kMaxId = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (n > 0 && (next_auto_ > kMaxId || kMaxId - next_auto_ < n - 1))
    throw InvalidArgument("default ids for " + std::to_string(n) + " vectors would pass 2^63 - 1 (the next default id is " +
                          std::to_string(next_auto_) + "); pass ids= explicitly");
}

void IdMap::append(const int64_t* ids, size_t n) {
  labels_.reserve(labels_.size() + n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t id = ids ? ids[i] : static_cast<int64_t>(next_auto_);
    const uint32_t slot = static_cast<uint32_t>(labels_.size());
    labels_.push_back(id);
    next_auto_ = std::max(next_auto_, static_cast<uint64_t>(id) + 1);  // ids are >= 0: no overflow
    if (identity_ && id != static_cast<int64_t>(slot)) {
      identity_ = false;
      build_map_if_needed();
    } else if (!identity_) {
      slot_of_.emplace(id, slot);
    }
  }
}

void IdMap::assign(std::vector<int64_t> labels) {
  labels_.clear();
  slot_of_.clear();
  identity_ = true;
  next_auto_ = 0;
  // Ids 0..n-1 (the default) need no duplicate check: skipping its hash set keeps loading a
  // mapped million-vector index in milliseconds instead of a second.
  bool identity = true;
  for (size_t i = 0; i < labels.size() && identity; ++i) identity = labels[i] == static_cast<int64_t>(i);
  if (identity) {
    next_auto_ = labels.size();
    labels_ = std::move(labels);
    return;
  }
  check_new(labels.data(), labels.size());
  append(labels.data(), labels.size());
}

void IdMap::build_map_if_needed() {
  slot_of_.reserve(labels_.size() * 2);
  for (size_t s = 0; s < labels_.size(); ++s) slot_of_.emplace(labels_[s], static_cast<uint32_t>(s));
}

size_t IdMap::memory_usage() const {
  // The hash map's nodes: key, value, next pointer and allocator overhead, plus buckets.
  return labels_.capacity() * sizeof(int64_t) + slot_of_.size() * 32 + slot_of_.bucket_count() * sizeof(void*);
}

}  // namespace vidx
