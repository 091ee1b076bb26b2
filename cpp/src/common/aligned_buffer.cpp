#include "vidx/common/aligned_buffer.hpp"

#include <algorithm>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace vidx {
namespace {

size_t round_up(size_t bytes, size_t align) { return (bytes + align - 1) / align * align; }

// Buffers from this size on are large: aligned to a huge page (and, on Linux, mapped).
bool is_large(size_t bytes) { return bytes >= 2 * AlignedBuffer::kHugePage; }

#if defined(__linux__) && defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED)
constexpr bool kMapsLargeBuffers = true;

// `length` bytes of anonymous memory starting on a huge page, mapped with `prot`: a mapping
// 2 MiB longer, of which the unaligned head and the tail are given back. Only this mapping's own
// pages are ever unmapped (never a range another thread may have mapped since).
uint8_t* map_aligned(size_t length, int prot, int flags) {
  const size_t span = length + AlignedBuffer::kHugePage;
  void* p = mmap(nullptr, span, prot, MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t aligned = round_up(start, AlignedBuffer::kHugePage);
  if (aligned > start) munmap(p, aligned - start);
  const uintptr_t end = start + span;
  if (end > aligned + length) munmap(reinterpret_cast<void*>(aligned + length), end - (aligned + length));
  return reinterpret_cast<uint8_t*>(aligned);
}

uint8_t* map_fresh(size_t length) {
  uint8_t* at = map_aligned(length, PROT_READ | PROT_WRITE, 0);
  advise_huge_pages(at, length);
  return at;
}

// Resizes the mapping at `data` from `length` bytes to `to` bytes, keeping its contents, and
// sets `length` to its new size; returns where it is now. The pages move, they are not
// copied: the peak is the larger size, not the sum. On failure the mapping is as it was
// (a shrink the kernel refuses keeps the longer mapping).
uint8_t* map_resized(uint8_t* data, size_t& length, size_t to) {
  const size_t old_length = length;
  if (to < old_length) {  // the tail goes back to the kernel; the rest stays put
    if (mremap(data, old_length, to, 0) != MAP_FAILED) length = to;
    return data;
  }
  // Growing where the mapping is (the next addresses are free) keeps its address.
  if (mremap(data, old_length, to, 0) != MAP_FAILED) {
    length = to;
    return data;
  }
  // Moved onto a reservation that starts on a huge page (no access: it costs no memory and
  // counts against no commit limit), so that its huge pages move whole instead of being split.
  uint8_t* at = map_aligned(to, PROT_NONE, MAP_NORESERVE);
  if (mremap(data, old_length, to, MREMAP_MAYMOVE | MREMAP_FIXED, at) == MAP_FAILED) {
    // The old mapping is as it was. The kernel may have unmapped the reservation already (it
    // does before checking the commit limit), so another thread may have mapped that range
    // since: it is left alone (at worst an unused reservation of address space stays behind).
    throw std::bad_alloc();
  }
  length = to;
  return at;  // the mapping keeps its huge-page advice (a flag of the mapping, moved with it)
}

void unmap(uint8_t* data, size_t length) noexcept { munmap(data, length); }
#else
constexpr bool kMapsLargeBuffers = false;
uint8_t* map_fresh(size_t) { throw std::bad_alloc(); }
uint8_t* map_resized(uint8_t*, size_t&, size_t) { throw std::bad_alloc(); }
void unmap(uint8_t*, size_t) noexcept {}
#endif

}  // namespace

void advise_huge_pages(void* data, size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  (void)madvise(data, bytes, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

void AlignedBuffer::reallocate(size_t bytes, bool zero_new) {
  if (bytes == size_ && owned_) return;
  if (kMapsLargeBuffers && owned_ && mapped_ && is_large(bytes)) {
    const size_t old_length = mapped_;
    const size_t length = round_up(bytes, kHugePage);
    if (length != old_length) data_ = map_resized(data_, mapped_, length);
    // Past the old mapping the pages are fresh zeros; within it, a shrink may have left bytes.
    const size_t stale_end = std::min(bytes, old_length);
    if (zero_new && stale_end > size_) std::memset(data_ + size_, 0, stale_end - size_);
    size_ = bytes;
    return;
  }
  uint8_t* fresh = nullptr;
  size_t fresh_mapped = 0;
  if (bytes > 0) {
    const bool large = is_large(bytes);
    try {
      if (large && kMapsLargeBuffers) {
        fresh_mapped = round_up(bytes, kHugePage);
        fresh = map_fresh(fresh_mapped);
      } else {
        const size_t align = large ? kHugePage : kAlignment;
        const size_t rounded = round_up(bytes, align);
        fresh = static_cast<uint8_t*>(aligned_allocate(align, rounded));
        if (!fresh) throw std::bad_alloc();
        if (large) advise_huge_pages(fresh, rounded);
      }
    } catch (const std::bad_alloc&) {
      // A shrink without memory for the smaller copy keeps its block (callers that compact
      // in place cannot undo): the block stays larger than size() until it is freed.
      if (bytes > size_ || !owned_) throw;
      size_ = bytes;
      return;
    }
    const size_t keep = std::min(bytes, size_);
    if (keep) std::memcpy(fresh, data_, keep);
    // A fresh mapping is zero already: writing zeros would only make its pages resident.
    if (bytes > keep && zero_new && !fresh_mapped) std::memset(fresh + keep, 0, bytes - keep);
  }
  release();
  data_ = fresh;
  size_ = bytes;
  mapped_ = fresh_mapped;
  owned_ = true;
}

void AlignedBuffer::release() noexcept {
  if (!owned_) return;
  if (mapped_)
    unmap(data_, mapped_);
  else
    aligned_free(data_);
}

}  // namespace vidx
