// A hash table from ids (int64 >= 0) to slots (uint32): IdMap's index of ids that are not their
// slot's number. Open addressing with linear probing in two flat arrays (keys, slots), at most
// three quarters full; a removal shifts the entries after it back instead of leaving a marker.
// 16-32 bytes an id (12 a bucket, 37-75% full), where std::unordered_map took 40-53 (a node of
// key, value and next pointer per id, allocator overhead, a bucket pointer per id): a flat index
// of 1,000,000 custom ids 48.5 -> 33.2 bytes an id with its labels, adds 0.85 -> 0.48 s
// (graph.md section 50).
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <vector>

namespace vidx {

class SlotTable {
 public:
  SlotTable() : key_(process_key()) {}
  size_t size() const { return size_; }
  // The slot of `id`, or -1 (for a negative id too: -1 marks empty buckets).
  int64_t find(int64_t id) const {
    if (size_ == 0 || id < 0) return -1;
    for (size_t b = bucket_of(id);; b = (b + 1) & mask_) {
      if (keys_[b] == id) return slots_[b];
      if (keys_[b] == kEmpty) return -1;
    }
  }
  bool contains(int64_t id) const { return find(id) >= 0; }
  // Buckets a lookup of `id` reads (1 when its home bucket holds it or is empty): how clustered
  // the table is around it.
  size_t buckets_read(int64_t id) const {
    if (size_ == 0 || id < 0) return 0;
    size_t read = 1;
    for (size_t b = bucket_of(id); keys_[b] != id && keys_[b] != kEmpty; b = (b + 1) & mask_) ++read;
    return read;
  }
  // Sets the slot of `id` (>= 0; a negative id throws std::logic_error) where absent or not;
  // returns whether it was absent.
  bool set(int64_t id, uint32_t slot) {
    if (id < 0) throw std::logic_error("vidx::SlotTable: negative id");
    if ((size_ + 1) * 4 > keys_.size() * 3) rehash(keys_.empty() ? 16 : keys_.size() * 2);
    size_t b = bucket_of(id);
    for (; keys_[b] != kEmpty; b = (b + 1) & mask_)
      if (keys_[b] == id) {
        slots_[b] = slot;
        return false;
      }
    keys_[b] = id;
    slots_[b] = slot;
    ++size_;
    return true;
  }
  // Removes `id` if present.
  void erase(int64_t id) {
    if (size_ == 0 || id < 0) return;
    size_t hole = bucket_of(id);
    for (; keys_[hole] != id; hole = (hole + 1) & mask_)
      if (keys_[hole] == kEmpty) return;
    // Entries after the hole move back into it unless their home bucket lies after the hole
    // (cyclically), so every entry stays reachable from its home without gaps.
    for (size_t next = (hole + 1) & mask_; keys_[next] != kEmpty; next = (next + 1) & mask_) {
      const size_t home = bucket_of(keys_[next]);
      if (((next - home) & mask_) >= ((next - hole) & mask_)) {
        keys_[hole] = keys_[next];
        slots_[hole] = slots_[next];
        hole = next;
      }
    }
    keys_[hole] = kEmpty;
    --size_;
  }
  // Room for `n` ids without growing.
  void reserve(size_t n) {
    size_t buckets = 16;
    while (buckets * 3 < n * 4) buckets *= 2;
    if (buckets > keys_.size()) rehash(buckets);
  }
  void clear() {
    keys_.clear();
    keys_.shrink_to_fit();
    slots_.clear();
    slots_.shrink_to_fit();
    size_ = 0;
    mask_ = 0;
  }
  size_t memory_usage() const { return keys_.capacity() * sizeof(int64_t) + slots_.capacity() * sizeof(uint32_t); }

 private:
  static constexpr int64_t kEmpty = -1;
  // A random key of this process, mixed into every bucket: without it ids could be chosen ahead
  // (splitmix64 inverts) to share a few low hash bits, and every add and lookup of them would
  // scan one long run of buckets. Nothing iterates the table, so its layout changes no result.
  static uint64_t process_key() {
    static const uint64_t key = [] {
      uint64_t k = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
      try {
        std::random_device entropy;
        k ^= (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
      } catch (...) {  // no entropy source: the clock alone
      }
      return k;
    }();
    return key;
  }
  // splitmix64's finaliser of the keyed id: ids that come in runs or strides spread over the buckets.
  size_t bucket_of(int64_t id) const {
    uint64_t z = (static_cast<uint64_t>(id) ^ key_) + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<size_t>(z ^ (z >> 31)) & mask_;
  }
  void rehash(size_t buckets) {
    std::vector<int64_t> keys(buckets, kEmpty);
    std::vector<uint32_t> slots(buckets);
    keys.swap(keys_);
    slots.swap(slots_);
    mask_ = buckets - 1;
    size_ = 0;
    for (size_t b = 0; b < keys.size(); ++b)
      if (keys[b] != kEmpty) set(keys[b], slots[b]);
  }

  uint64_t key_;
  std::vector<int64_t> keys_;
  std::vector<uint32_t> slots_;
  size_t size_ = 0, mask_ = 0;
};

}  // namespace vidx
