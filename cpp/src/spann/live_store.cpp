#include "live_store.hpp"

#include <cstring>
#include <stdexcept>

namespace vidx::spann {

// ---- Liveness ----

void Liveness::note(int64_t id) {
  if (versions_.size() * 8 > bit_count_) {  // keep the filter sparse: rebuild it 4x larger
    bit_count_ *= 4;
    bits_.assign(bit_count_ / 64, 0);
    versions_.for_each([&](int64_t k, uint32_t) {
      const uint64_t b = bit_of(k);
      bits_[b >> 6] |= uint64_t{1} << (b & 63);
    });
  }
  const uint64_t b = bit_of(id);
  bits_[b >> 6] |= uint64_t{1} << (b & 63);
}

uint32_t Liveness::next_version(int64_t id) {
  const uint32_t* cur = versions_.find(id);
  if (!cur) return 0;  // never stored, or every old entry already swept
  const uint32_t v = (*cur & kVersionMask) % kVersionMask + 1;  // 1..127, never 0
  versions_.set(id, v);
  return v;
}

void Liveness::mark_removed(int64_t id) {
  const uint32_t* cur = versions_.find(id);
  versions_.set(id, (cur ? *cur & kVersionMask : 0) | kRemovedFlag);
  note(id);
}

void Liveness::restore(int64_t id, const uint32_t* entry) {
  // Recorded even as version 0: the undone write's entries carry another version and must stay
  // stale (an id missing from the table counts only version 0 as live, but an empty table is not
  // consulted by searches at all).
  versions_.set(id, entry ? *entry : 0);
  note(id);
}

void Liveness::assign(IdTable versions) {
  clear();
  versions.for_each([&](int64_t id, uint32_t v) {
    versions_.set(id, v);
    note(id);
  });
}

void Liveness::clear() {
  versions_.clear();
  bit_count_ = 64;
  bits_.assign(1, 0);
}

// ---- PageAllocator ----

void PageAllocator::reset(uint64_t built_end, uint64_t end) {
  built_end_ = built_end;
  end_ = end;
  state_.assign(static_cast<size_t>((end - built_end) / io::kPageSize), kFree);
  rebuild_free_runs();
}

void PageAllocator::rebuild_free_runs() {
  free_runs_.clear();
  for (size_t p = 0; p < state_.size();) {
    if (state_[p] != kFree) {
      ++p;
      continue;
    }
    size_t q = p;
    while (q < state_.size() && state_[q] == kFree) ++q;
    free_runs_.emplace(q - p, built_end_ + uint64_t(p) * io::kPageSize);
    p = q;
  }
}

uint64_t PageAllocator::allocate(size_t pages) {
  uint64_t first;
  auto it = free_runs_.lower_bound(pages);  // the shortest run that fits
  if (it != free_runs_.end()) {
    first = it->second;
    const uint64_t len = it->first;
    free_runs_.erase(it);
    if (len > pages) free_runs_.emplace(len - pages, first + uint64_t(pages) * io::kPageSize);
  } else {
    first = end_;
    end_ += uint64_t(pages) * io::kPageSize;
    state_.resize(state_.size() + pages, kFree);
  }
  for (size_t p = 0; p < pages; ++p) at(first + p * io::kPageSize) = kUsed;
  return first;
}

void PageAllocator::release(uint64_t offset, size_t pages) {
  if (pages == 0 || offset < built_end_) return;
  bool all_free = true;
  for (size_t p = 0; p < pages; ++p) {
    State& s = at(offset + p * io::kPageSize);
    if (s == kUsed) {
      s = kFree;
    } else if (s == kSaved) {
      s = kPending;
      all_free = false;
    } else {
      throw std::logic_error("vidx::spann::PageAllocator: releasing a page not in use");
    }
  }
  if (all_free) free_runs_.emplace(pages, offset);
}

void PageAllocator::mark_saved(uint64_t offset, size_t pages) {
  if (offset < built_end_) return;
  for (size_t p = 0; p < pages; ++p) at(offset + p * io::kPageSize) = kSaved;
}

void PageAllocator::commit_saved() {
  std::lock_guard<std::mutex> guard(snapshot_mutex_);
  for (State& s : state_) s = (s == kUsed) ? kSaved : (s == kPending ? kFree : s);
  rebuild_free_runs();
}

void PageAllocator::keep_used() {
  std::lock_guard<std::mutex> guard(snapshot_mutex_);
  for (State& s : state_)
    if (s == kUsed) s = kSaved;
}

size_t PageAllocator::memory_usage() const {
  std::lock_guard<std::mutex> guard(snapshot_mutex_);
  return state_.capacity() + free_runs_.size() * 48;
}

size_t PageAllocator::free_pages() const {
  size_t n = 0;
  for (State s : state_) n += s == kFree;
  return n;
}

int64_t ListBuffer::raw_id(size_t i) const {
  int64_t raw;
  std::memcpy(&raw, entries.data() + i * E, 8);
  return raw;
}

void ListBuffer::set_raw_id(size_t i, int64_t raw) { std::memcpy(entries.data() + i * E, &raw, 8); }

void ListBuffer::clear(size_t entry_bytes, size_t tail_bytes) {
  E = entry_bytes;
  T = tail_bytes;
  count = 0;
  entries.clear();
  tails.clear();
}

void ListBuffer::push(const uint8_t* entry, const uint8_t* tail) {
  entries.insert(entries.end(), entry, entry + E);
  if (T) tails.insert(tails.end(), tail, tail + T);
  ++count;
}

}  // namespace vidx::spann
