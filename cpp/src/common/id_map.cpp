#include "vidx/common/id_map.hpp"

#include <algorithm>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <utility>

#include "vidx/common/error.hpp"

namespace vidx {
namespace {

// The first id that occurs twice in labels (the caller knows one does).
int64_t first_duplicate(const int64_t* labels, size_t n) {
  std::unordered_set<int64_t> seen;
  for (size_t s = 0; s < n; ++s)
    if (labels[s] >= 0 && !seen.insert(labels[s]).second) return labels[s];
  return -1;
}

}  // namespace

using ReadLock = std::shared_lock<std::shared_mutex>;
using WriteLock = std::unique_lock<std::shared_mutex>;

// ---- lookups ----

bool IdMap::contains(int64_t id) const { return slot_of(id) >= 0; }

int64_t IdMap::slot_of(int64_t id) const {
  if (id < 0) return -1;
  ReadLock lock(map_lock_);
  int64_t slot = -1;
  if (identity_) {
    if (static_cast<uint64_t>(id) < slot_count()) slot = id;
  } else {
    slot = slot_of_.find(id);
  }
  // A pending id (its add still running) is not stored yet.
  return slot >= 0 && label(static_cast<uint32_t>(slot)) == id ? slot : -1;
}

bool IdMap::identity() const {
  ReadLock lock(map_lock_);
  return identity_;
}

std::vector<int64_t> IdMap::labels() const {
  std::vector<int64_t> out(slot_count());
  for (size_t s = 0; s < out.size(); ++s) {
    const int64_t l = label(static_cast<uint32_t>(s));
    out[s] = l >= 0 ? l : kFree;
  }
  return out;
}

std::vector<int64_t> IdMap::live_labels() const {
  std::vector<int64_t> out;
  out.reserve(size());
  const size_t n = slot_count();
  for (size_t s = 0; s < n; ++s)
    if (slot_is_live(static_cast<uint32_t>(s))) out.push_back(label(static_cast<uint32_t>(s)));
  return out;
}

uint64_t IdMap::implied_next_default_id() const {
  uint64_t next = 0;
  const size_t n = slot_count();
  for (size_t s = 0; s < n; ++s) {
    const int64_t l = label(static_cast<uint32_t>(s));
    if (l >= 0) next = std::max(next, static_cast<uint64_t>(l) + 1);
  }
  return next;
}

void IdMap::continue_defaults_from(uint64_t next) { next_auto_ = std::max(next_auto_, next); }

size_t IdMap::free_count() const {
  ReadLock lock(map_lock_);
  return free_.size();
}

size_t IdMap::memory_usage() const {
  ReadLock lock(map_lock_);
  return capacity_ * sizeof(int64_t) + slot_of_.memory_usage() + free_.capacity() * sizeof(uint32_t);
}

// ---- checks ----

bool IdMap::pending_or_stored(int64_t id) const {
  if (identity_) {
    if (static_cast<uint64_t>(id) >= slot_count()) return false;
    const int64_t l = label(static_cast<uint32_t>(id));
    return l == id || l == kPending;
  }
  return slot_of_.contains(id);
}

void IdMap::check_form(const int64_t* ids, size_t n) {
  std::unordered_set<int64_t> seen;
  seen.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    if (ids[i] < 0)  // -1 marks "no result" in search outputs; no id may look like it
      throw InvalidArgument("ids must be >= 0, got " + std::to_string(ids[i]) + " (row " + std::to_string(i) + ")");
    if (!seen.insert(ids[i]).second)
      throw InvalidArgument("duplicate id " + std::to_string(ids[i]) + " in this call (row " + std::to_string(i) + ")");
  }
}

void IdMap::check_new(const int64_t* ids, size_t n) const {
  if (!ids) {
    check_default_ids_fit(n);
    return;
  }
  check_form(ids, n);
  ReadLock lock(map_lock_);
  for (size_t i = 0; i < n; ++i)
    if (pending_or_stored(ids[i])) throw InvalidArgument("id " + std::to_string(ids[i]) + " is already in the index");
}

void IdMap::check_default_ids_fit(size_t n) const {
  constexpr uint64_t kMaxId = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (n > 0 && (next_auto_ > kMaxId || kMaxId - next_auto_ < n - 1))
    throw InvalidArgument("default ids for " + std::to_string(n) + " vectors would pass 2^63 - 1 (the next default id is " +
                          std::to_string(next_auto_) + "); pass ids= explicitly");
}

// ---- slots ----

size_t IdMap::new_slots_for(size_t n) const {
  ReadLock lock(map_lock_);
  return n > free_.size() ? n - free_.size() : 0;
}

void IdMap::grow(size_t slots) {
  if (slots <= capacity_) return;
  const size_t capacity = std::max(slots, capacity_ + capacity_ / 2);
  std::unique_ptr<std::atomic<int64_t>[]> fresh(new std::atomic<int64_t>[capacity]);
  const size_t n = slot_count();
  for (size_t s = 0; s < n; ++s) fresh[s].store(label(static_cast<uint32_t>(s)), std::memory_order_relaxed);
  labels_ = std::move(fresh);
  capacity_ = capacity;
}

void IdMap::push_free(uint32_t slot) {
  free_.push_back(slot);
  std::push_heap(free_.begin(), free_.end(), std::greater<uint32_t>());
}

uint32_t IdMap::pop_free() {
  std::pop_heap(free_.begin(), free_.end(), std::greater<uint32_t>());
  const uint32_t slot = free_.back();
  free_.pop_back();
  return slot;
}

void IdMap::leave_identity() {
  identity_ = false;
  const size_t n = slot_count();
  slot_of_.reserve(n);
  for (size_t s = 0; s < n; ++s) {
    const int64_t l = label(static_cast<uint32_t>(s));
    if (l >= 0 || l == kPending) slot_of_.set(l >= 0 ? l : static_cast<int64_t>(s), static_cast<uint32_t>(s));
  }
}

size_t IdMap::reserve(const int64_t* ids, size_t n, std::vector<int64_t>& assigned, std::vector<uint32_t>& slots) {
  WriteLock lock(map_lock_);
  const size_t fresh = n > free_.size() ? n - free_.size() : 0;
  const size_t first_new = slot_count();
  if (first_new + fresh > capacity_) throw std::logic_error("vidx::IdMap::reserve: grow() first");
  assigned.resize(n);
  slots.resize(n);
  for (size_t i = 0; i < n; ++i) {
    assigned[i] = ids ? ids[i] : static_cast<int64_t>(next_auto_ + i);
    slots[i] = free_.empty() ? static_cast<uint32_t>(first_new + (i - (n - fresh))) : pop_free();
  }
  if (ids)
    for (size_t i = 0; i < n; ++i)
      next_auto_ = std::max(next_auto_, static_cast<uint64_t>(ids[i]) + 1);  // ids are >= 0: no overflow
  else
    next_auto_ += n;
  for (size_t i = 0; i < n && identity_; ++i)
    if (assigned[i] != static_cast<int64_t>(slots[i])) leave_identity();  // before the pending labels
  // New slots are hidden (and pending) before they exist for anyone.
  for (size_t i = 0; i < n; ++i) store_label(slots[i], kPending);
  hidden_.fetch_add(fresh, std::memory_order_acq_rel);
  slot_count_.store(first_new + fresh, std::memory_order_release);
  if (!identity_)
    for (size_t i = 0; i < n; ++i) slot_of_.set(assigned[i], slots[i]);
  return first_new;
}

void IdMap::publish(const uint32_t* slots, const int64_t* ids, size_t n) {
  for (size_t i = 0; i < n; ++i) store_label(slots[i], ids[i]);
  live_.fetch_add(n, std::memory_order_acq_rel);
  hidden_.fetch_sub(n, std::memory_order_release);  // after the labels: a search that sees 0 sees them
}

void IdMap::cancel(const uint32_t* slots, const int64_t* ids, size_t n, size_t first_new, uint64_t next_before,
                   uint64_t next_after) {
  WriteLock lock(map_lock_);
  if (next_auto_ == next_after) next_auto_ = next_before;
  // New slots are the last ones unless another reservation came after: then drop them.
  size_t fresh = 0;
  for (size_t i = 0; i < n; ++i) fresh += slots[i] >= first_new;
  const bool drop_new = slot_count() == first_new + fresh;
  for (size_t i = 0; i < n; ++i) {
    store_label(slots[i], kFree);
    if (!identity_) slot_of_.erase(ids[i]);
    if (!(drop_new && slots[i] >= first_new)) push_free(slots[i]);
  }
  if (drop_new && fresh) {
    slot_count_.store(first_new, std::memory_order_release);
    hidden_.fetch_sub(fresh, std::memory_order_acq_rel);
  }
}

void IdMap::hide(const uint32_t* slots, size_t n) {
  WriteLock lock(map_lock_);
  hidden_.fetch_add(n, std::memory_order_acq_rel);  // before the labels: searches start hiding first
  live_.fetch_sub(n, std::memory_order_acq_rel);
  for (size_t i = 0; i < n; ++i) {
    if (!identity_) slot_of_.erase(label(slots[i]));
    store_label(slots[i], kFree);
  }
}

void IdMap::restore(const uint32_t* slots, const int64_t* ids, size_t n) {
  WriteLock lock(map_lock_);
  for (size_t i = 0; i < n; ++i) {
    store_label(slots[i], ids[i]);
    if (!identity_) slot_of_.set(ids[i], slots[i]);
  }
  live_.fetch_add(n, std::memory_order_acq_rel);
  hidden_.fetch_sub(n, std::memory_order_release);
}

void IdMap::release(const uint32_t* slots, size_t n) {
  WriteLock lock(map_lock_);
  for (size_t i = 0; i < n; ++i) push_free(slots[i]);
}

void IdMap::reset(size_t capacity) {
  labels_.reset(capacity ? new std::atomic<int64_t>[capacity] : nullptr);
  capacity_ = capacity;
  slot_count_ = 0;
  live_ = 0;
  hidden_ = 0;
  slot_of_.clear();
  identity_ = true;
  free_.clear();
  next_auto_ = 0;
}

void IdMap::assign(const int64_t* labels, size_t n) {
  // One pass that stores the labels and learns what they are; ids 0..n-1 (the default) need
  // no duplicate check, which keeps loading a mapped million-vector index in milliseconds.
  reset(n);
  WriteLock lock(map_lock_);
  size_t live = 0;
  for (size_t s = 0; s < n; ++s) {
    const int64_t id = labels[s];
    if (id == kFree) {
      free_.push_back(static_cast<uint32_t>(s));  // increasing: already a min-heap
    } else if (id < 0) {
      reset(0);
      throw InvalidArgument("slot " + std::to_string(s) + " holds the id " + std::to_string(id) +
                            " (ids are >= 0, -1 marks a free slot)");
    } else {
      ++live;
      identity_ = identity_ && id == static_cast<int64_t>(s);
      next_auto_ = std::max(next_auto_, static_cast<uint64_t>(id) + 1);
    }
    store_label(static_cast<uint32_t>(s), id);
  }
  slot_count_ = n;
  live_ = live;
  hidden_ = n - live;
  if (!identity_) {
    identity_ = true;  // leave_identity builds the map from the labels just stored...
    leave_identity();
    if (slot_of_.size() != live) {  // ...and a duplicate id collapses two entries into one
      const std::string duplicate = std::to_string(first_duplicate(labels, n));
      reset(0);
      throw InvalidArgument("id " + duplicate + " is stored twice");
    }
  }
}

void IdMap::assign(const std::vector<int64_t>& labels) { assign(labels.data(), labels.size()); }

void IdMap::renumber(const std::vector<uint32_t>& new_slot) {
  const size_t n = slot_count();
  if (new_slot.size() != n) throw std::logic_error("vidx::IdMap::renumber: one entry per slot expected");
  std::vector<int64_t> labels(size(), kFree);
  for (size_t s = 0; s < n; ++s) {
    const int64_t l = label(static_cast<uint32_t>(s));
    if (new_slot[s] == UINT32_MAX) {
      if (l >= 0 || l == kPending) throw std::logic_error("vidx::IdMap::renumber: a live slot was dropped");
      continue;
    }
    if (new_slot[s] >= labels.size()) labels.resize(new_slot[s] + 1, kFree);
    labels[new_slot[s]] = l >= 0 ? l : kFree;
  }
  const uint64_t next_auto = next_auto_;  // ids removed before compact() are not handed out again
  assign(std::move(labels));
  next_auto_ = std::max(next_auto_, next_auto);
}

}  // namespace vidx
