// SPANN as a living index (SPFresh-style): what add/remove after the build keep, and how
// posting lists are rewritten without ever touching a page a saved index refers to.
//
// Entries keep their layout [i64 id | head code] (tails apart); a living index puts a 7-bit
// version in bits 56..62 of the stored id, so that an id removed and added again (upsert) is
// told apart from its old entries still in other lists. An entry is live when its version is
// the id's current one: 0 for ids never removed, else what `versions` says (the removed flag
// set: gone). Ids must therefore be below 2^56.
//
// Lists are copy-on-write: a changed list is written whole (entry pages, then its tail pages)
// to free pages past the build's region, then its directory record switches to it. A page is
// FREE, USED (written since the last save), SAVED (the last save's directory refers to it) or
// PENDING (released since the last save, which still refers to it); only FREE pages are ever
// written, so a kill -9 at any moment leaves the last saved index and its pages intact.
// save() fsyncs the posting file before the index file (holding the directory) replaces the
// old one; then USED becomes SAVED and PENDING becomes FREE. Keep only the latest saved
// index of a living posting file: older ones may refer to pages since reused.
#pragma once
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <map>
#include <mutex>
#include <vector>

#include "id_table.hpp"
#include "vidx/io/positional_io.hpp"
#include "vidx/io/posting_store.hpp"

namespace vidx::spann {

constexpr int kVersionShift = 56;
constexpr int64_t kIdMask = (int64_t{1} << kVersionShift) - 1;
constexpr int64_t kMaxSpannId = kIdMask;
constexpr uint32_t kRemovedFlag = 0x80;
constexpr uint32_t kVersionMask = 0x7F;

inline int64_t entry_id(int64_t raw) { return raw & kIdMask; }
inline uint32_t entry_version(int64_t raw) { return static_cast<uint32_t>(raw >> kVersionShift) & kVersionMask; }

// Which stored entries are stale: those of removed ids, and old versions of re-added ones.
// Searches ask it only while it is non-empty; a bitmap filter keeps most asks off the table.
class Liveness {
 public:
  bool empty() const { return versions_.empty(); }
  size_t size() const { return versions_.size(); }
  bool live(int64_t raw) const {
    const int64_t id = entry_id(raw);
    const uint32_t v = entry_version(raw);
    const uint64_t bit = bit_of(id);
    if (!(bits_[bit >> 6] >> (bit & 63) & 1)) return v == 0;
    const uint32_t* cur = versions_.find(id);
    return cur ? *cur == v : v == 0;
  }
  // The version new entries of id get (also records it); the id must not be stored.
  uint32_t next_version(int64_t id);
  void mark_removed(int64_t id);
  // The raw table entry of id (nullptr: none, its version-0 entries are live), and that entry
  // put back by a write that is undone (nullptr: version 0, recorded).
  const uint32_t* entry(int64_t id) const { return versions_.find(id); }
  void restore(int64_t id, const uint32_t* entry);
  const IdTable& table() const { return versions_; }
  void assign(IdTable versions);
  void clear();
  size_t memory_usage() const { return versions_.memory_usage() + bits_.capacity() * 8; }

 private:
  uint64_t bit_of(int64_t id) const { return splitmix64(static_cast<uint64_t>(id) ^ 0x5bd1e995ull) & (bit_count_ - 1); }
  void note(int64_t id);
  IdTable versions_;
  std::vector<uint64_t> bits_ = std::vector<uint64_t>(1, 0);
  uint64_t bit_count_ = 64;
};

// The state of the pages past the build's region.
class PageAllocator {
 public:
  enum State : uint8_t { kFree, kUsed, kSaved, kPending };
  void reset(uint64_t built_end, uint64_t end);
  uint64_t end() const { return end_; }
  // Offset of `pages` free pages in a row (extends the file's end when none fit).
  uint64_t allocate(size_t pages);
  // Pages a list no longer uses (build-region pages are never reused).
  void release(uint64_t offset, size_t pages);
  // The pages the directory being loaded refers to; then rebuild_free_runs().
  void mark_saved(uint64_t offset, size_t pages);
  void rebuild_free_runs();
  // After a save: USED -> SAVED, PENDING -> FREE.
  void commit_saved();
  // After to_bytes: USED -> SAVED (the bytes' lists are kept), PENDING stays (the last save's).
  void keep_used();
  size_t free_pages() const;
  size_t memory_usage() const;

 private:
  State& at(uint64_t offset) { return state_[static_cast<size_t>((offset - built_end_) / io::kPageSize)]; }
  uint64_t built_end_ = 0, end_ = 0;
  // A save changes the states under the index's shared lock (commit_saved, keep_used), where
  // memory_usage() may read them too: those three take this. Writers hold the exclusive lock.
  mutable std::mutex snapshot_mutex_;
  std::vector<State> state_;
  std::multimap<uint64_t, uint64_t> free_runs_;  // length in pages -> first page offset
};

// The pages a list written by the living writer occupies: its entries, then its tails.
inline size_t run_pages(const io::PostingList& l, size_t tail_bytes) {
  return l.pages + static_cast<size_t>(io::round_up_page(uint64_t(l.count) * tail_bytes) / io::kPageSize);
}

// One list in memory: count entries of E bytes and their tails of T bytes.
struct ListBuffer {
  std::vector<uint8_t> entries, tails;
  size_t count = 0;
  size_t E = 0, T = 0;
  int64_t raw_id(size_t i) const;
  void clear(size_t entry_bytes, size_t tail_bytes);
  void push(const uint8_t* entry, const uint8_t* tail);
  // Keeps the entries keep(raw id) accepts; returns how many went.
  template <class Keep>
  size_t keep_if(Keep&& keep) {
    size_t out = 0;
    for (size_t i = 0; i < count; ++i) {
      if (!keep(raw_id(i))) continue;
      if (out != i) {
        std::copy_n(entries.data() + i * E, E, entries.data() + out * E);
        std::copy_n(tails.data() + i * T, T, tails.data() + out * T);
      }
      ++out;
    }
    const size_t dropped = count - out;
    count = out;
    entries.resize(count * E);
    tails.resize(count * T);
    return dropped;
  }
  // Stores raw id `raw` in entry i (a sweep clears versions).
  void set_raw_id(size_t i, int64_t raw);
};

}  // namespace vidx::spann
