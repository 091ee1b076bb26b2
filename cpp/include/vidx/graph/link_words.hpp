// Link lists are read by searches while writers change them (concurrent add/remove): every
// read and write of a link word goes through these. A list is [count, slot, slot, ...]; a
// writer stores the slots, then publishes the count (release); a reader loads the count
// (acquire), then the slots. A reader racing a rewrite may see a mix of old and new slots,
// each a valid slot, which a graph walk tolerates. Each slot is itself stored with release and
// loaded with acquire: a slot read from a list being rewritten names a node whose code was
// written before the slot was, so the reader sees that code even though it loaded an older
// count. On x86 these are plain loads and stores; as atomics they keep the program race-free
// and ThreadSanitizer's report exact.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vidx {
namespace graph {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
              "link words are read as std::atomic<uint32_t> in place");

inline const std::atomic<uint32_t>* as_atomic(const uint32_t* word) {
  return reinterpret_cast<const std::atomic<uint32_t>*>(word);
}
inline std::atomic<uint32_t>* as_atomic(uint32_t* word) { return reinterpret_cast<std::atomic<uint32_t>*>(word); }

inline uint32_t load_count(const uint32_t* list) { return as_atomic(list)->load(std::memory_order_acquire); }
inline uint32_t load_link(const uint32_t* list, uint32_t j) { return as_atomic(list + j)->load(std::memory_order_acquire); }
// A list's count, at most `slots` (the list's capacity): a damaged mapped file (level-0 lists of
// files mapped without verify are trusted) cannot send a walk past its list.
inline uint32_t load_degree(const uint32_t* list, size_t slots) {
  const uint32_t count = load_count(list);
  return count < slots ? count : static_cast<uint32_t>(slots);
}
inline void store_link(uint32_t* list, uint32_t j, uint32_t slot) {
  as_atomic(list + j)->store(slot, std::memory_order_release);
}
inline void publish_count(uint32_t* list, uint32_t count) { as_atomic(list)->store(count, std::memory_order_release); }

}  // namespace graph
}  // namespace vidx
