// User ids (64-bit, 0 .. 2^63 - 1; -1 means "no result" in search outputs) <-> internal slots
// (32-bit, dense). While every stored id equals its slot (ids assigned by the index), no hash
// map is kept at all.
//
// A slot is live (its label is the user id), free (label kFree: removed, hidden from searches,
// reused by later adds, lowest slot first) or pending (label kPending: reserved by an add in
// flight, hidden until that add publishes it). Files hold kFree for free slots.
//
// Threads. Search threads read labels while writers run: label(), slot_is_live(), size() and
// hidden() are lock-free (atomic loads) and need only that the label array is not reallocated,
// which happens in grow() alone; the owner calls grow() when no reader can be looking (the
// index's exclusive lock). Lookups by id (contains, slot_of, labels, live_labels,
// memory_usage) take the map's own lock and may run beside a writer. Writes (everything else)
// come from one writer at a time: the owner serialises them.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <vector>

#include "vidx/common/slot_table.hpp"

namespace vidx {

class IdMap {
 public:
  static constexpr int64_t kFree = -1;
  static constexpr int64_t kPending = -2;

  IdMap() = default;
  IdMap(const IdMap&) = delete;
  IdMap& operator=(const IdMap&) = delete;

  // ---- lock-free reads (search threads) ----
  size_t size() const { return live_.load(std::memory_order_acquire); }   // live ids
  size_t slot_count() const { return slot_count_.load(std::memory_order_acquire); }  // every slot
  // Slots that are not live (free or pending): searches must hide them while this is > 0.
  size_t hidden() const { return hidden_.load(std::memory_order_acquire); }
  // Acquire/release: a search that reads a published label also sees what the writer stored
  // for that slot before publishing it (a flat scan may reach a slot through a count raised by
  // another writer). Plain loads and stores on x86.
  int64_t label(uint32_t slot) const { return labels_[slot].load(std::memory_order_acquire); }
  bool slot_is_live(uint32_t slot) const { return label(slot) >= 0; }
  // Starts loading the label of `slot` (a search about to ask slot_is_live of a few scattered slots).
  void prefetch_label(uint32_t slot) const { __builtin_prefetch(&labels_[slot]); }

  // ---- lookups by id (the map's lock) ----
  bool contains(int64_t id) const;
  // The slot holding `id`, or -1 when it is not stored (or still being added).
  int64_t slot_of(int64_t id) const;
  // True while every stored id equals its slot (no hash map is kept).
  bool identity() const;
  // Every slot's label, kFree for free slots (what a file holds; no add may be in flight).
  std::vector<int64_t> labels() const;
  // The stored ids, in slot order.
  std::vector<int64_t> live_labels() const;
  size_t free_count() const;
  // The next default id (one past the largest id ever assigned), and what the stored ids
  // alone imply (one past the largest of them): files keep the first where they differ.
  uint64_t next_default_id() const { return next_auto_; }
  uint64_t implied_next_default_id() const;
  size_t memory_usage() const;

  // Throws InvalidArgument if `ids` holds a negative value or repeats one.
  static void check_form(const int64_t* ids, size_t n);

  // ---- writes (one writer at a time) ----
  // Throws InvalidArgument if `ids` holds a negative value, repeats a value or names one
  // already present or being added. ids == nullptr means "assign n default ids": throws if
  // they would pass 2^63 - 1 (default ids continue after the largest id ever assigned here).
  void check_new(const int64_t* ids, size_t n) const;
  // How many slots reserve(n) adds after slot_count() (the free ones are used first).
  size_t new_slots_for(size_t n) const;
  size_t capacity() const { return capacity_; }
  // Makes room for `slots` labels (at least; grows geometrically). No reader may be looking.
  void grow(size_t slots);
  // Reserves a slot for each of n new ids (checked with check_new; nullptr: default ids):
  // free slots lowest first, then new ones. Marks them pending; the ids count as present for
  // check_new from now on. Needs capacity for new_slots_for(n) more slots. Fills the ids
  // (assigned ones for nullptr) and slots; returns the first new slot (slot_count() before).
  size_t reserve(const int64_t* ids, size_t n, std::vector<int64_t>& assigned, std::vector<uint32_t>& slots);
  // Pending slots become live (searches see them), or free again when their add failed
  // (new slots are dropped when no later reservation followed: the slot count is as before).
  // cancel also gives back the default ids: next_default_id() returns to `next_before` (its
  // value before the reservation) unless a later reservation moved it past `next_after` (its
  // value just after).
  void publish(const uint32_t* slots, const int64_t* ids, size_t n);
  void cancel(const uint32_t* slots, const int64_t* ids, size_t n, size_t first_new, uint64_t next_before,
              uint64_t next_after);
  // Removal: the slots' labels become kFree (hidden at once) and their ids are forgotten; the
  // slots are handed out again only after release(). restore() undoes hide() (a failed remove).
  void hide(const uint32_t* slots, size_t n);
  void restore(const uint32_t* slots, const int64_t* ids, size_t n);
  void release(const uint32_t* slots, size_t n);
  // Replaces everything (loading a file): kFree entries are free slots; throws InvalidArgument
  // on duplicates or other negative values.
  void assign(const int64_t* labels, size_t n);
  void assign(const std::vector<int64_t>& labels);
  // After assign(): default ids continue from `next` if it is beyond the stored ids.
  void continue_defaults_from(uint64_t next);
  // compact(): new_slot[old] is each slot's new number (UINT32_MAX: dropped; only free slots
  // may be dropped). No add may be in flight and no reader looking.
  void renumber(const std::vector<uint32_t>& new_slot);

 private:
  void store_label(uint32_t slot, int64_t label) { labels_[slot].store(label, std::memory_order_release); }
  bool pending_or_stored(int64_t id) const;  // under map_lock_
  void leave_identity();                     // under map_lock_ (exclusive)
  void check_default_ids_fit(size_t n) const;
  void push_free(uint32_t slot);
  uint32_t pop_free();
  void reset(size_t capacity);

  std::unique_ptr<std::atomic<int64_t>[]> labels_;
  size_t capacity_ = 0;
  std::atomic<size_t> slot_count_{0};
  std::atomic<size_t> live_{0};
  std::atomic<size_t> hidden_{0};
  mutable std::shared_mutex map_lock_;              // slot_of_, identity_, free_
  SlotTable slot_of_;  // stored and pending ids; empty in identity mode
  bool identity_ = true;  // every slot's label is its own number, kFree, or kPending for that number
  std::vector<uint32_t> free_;  // a min-heap: the lowest free slot first
  uint64_t next_auto_ = 0;      // largest id ever + 1: up to 2^63, so it cannot overflow
};

}  // namespace vidx
