// AlignedBuffer (vidx/common/aligned_buffer.hpp) against a std::vector<uint8_t> model under
// random resizes across the small (heap) and large (mapped, on Linux) sizes: contents kept up to
// the smaller size, grown bytes zero (also after a shrink and a regrow within one mapping),
// alignment, moves, views and their copies. On Linux it also checks that a large buffer grows
// without a copy resident beside it: the process's peak resident size stays below old + new.
// Prints "ok <resizes>".
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "vidx/common/aligned_buffer.hpp"

#if defined(__linux__)
#include <fstream>
#include <string>

// VmHWM after resetting it (clear_refs 5), in bytes; 0 where the kernel does not offer it.
static size_t peak_resident(bool reset) {
  if (reset) {
    std::ofstream("/proc/self/clear_refs") << "5";
    return 0;
  }
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}
static size_t resident() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  return 0;
}
#endif

static int fail(const char* what, size_t at) {
  std::printf("MISMATCH %s at %zu\n", what, at);
  return 1;
}

int main() {
  std::mt19937_64 rng(11);
  constexpr size_t kMiB = size_t{1} << 20;
  vidx::AlignedBuffer buffer;
  std::vector<uint8_t> model;
  size_t resizes = 0;
  for (int round = 0; round < 400; ++round, ++resizes) {
    // Sizes around the 4 MiB line where buffers change kind, and well past it.
    const size_t choice = rng() % 4;
    const size_t bytes = choice == 0   ? rng() % 4096
                         : choice == 1 ? 4 * kMiB - 2048 + rng() % 4096
                                       : rng() % (24 * kMiB);
    const bool zero_new = rng() % 4 != 0;
    buffer.reallocate(bytes, zero_new);
    const size_t kept = std::min(bytes, model.size());
    model.resize(bytes, 0);
    if (buffer.size() != bytes) return fail("size", bytes);
    if (bytes && reinterpret_cast<uintptr_t>(buffer.data()) % vidx::AlignedBuffer::kAlignment != 0)
      return fail("alignment", bytes);
    if (bytes >= 2 * vidx::AlignedBuffer::kHugePage &&
        reinterpret_cast<uintptr_t>(buffer.data()) % vidx::AlignedBuffer::kHugePage != 0)
      return fail("huge-page alignment", bytes);
    if (std::memcmp(buffer.data(), model.data(), kept) != 0) return fail("kept bytes", bytes);
    if (zero_new)
      for (size_t i = kept; i < bytes; ++i)
        if (buffer.data()[i] != 0) return fail("zeroed bytes", i);
    // Fill a few spans with fresh values, in both, so the next resize has something to keep.
    for (int w = 0; w < 8 && bytes; ++w) {
      const size_t at = rng() % bytes, len = std::min<size_t>(bytes - at, 1 + rng() % 70000);
      const uint8_t v = static_cast<uint8_t>(1 + rng() % 255);
      std::memset(buffer.data() + at, v, len);
      std::memset(model.data() + at, v, len);
    }
    if (!zero_new) std::memcpy(model.data() + kept, buffer.data() + kept, bytes - kept);  // whatever it holds
    if (round % 50 == 49) {  // moves keep the block
      vidx::AlignedBuffer moved(std::move(buffer));
      buffer = std::move(moved);
      if (std::memcmp(buffer.data(), model.data(), bytes) != 0) return fail("after a move", bytes);
    }
  }
  // A view is read in place; its first reallocate makes an owned copy.
  std::vector<uint8_t> outside(6 * kMiB + 64, 7);
  uint8_t* start = outside.data() + (64 - reinterpret_cast<uintptr_t>(outside.data()) % 64) % 64;
  vidx::AlignedBuffer view = vidx::AlignedBuffer::view(start, 6 * kMiB);
  if (!view.is_view() || view.data() != start) return fail("view", 0);
  view.reallocate(8 * kMiB);
  if (view.is_view() || view.data() == start || view.data()[6 * kMiB - 1] != 7 || view.data()[8 * kMiB - 1] != 0)
    return fail("view copied", 0);
  view.reallocate(2 * kMiB);  // a shrink from the large kind to the small one
  if (view.data()[2 * kMiB - 1] != 7) return fail("shrunk to the heap", 0);

#if defined(__linux__)
  // Growing 64 MiB of written pages to 96 MiB: no copy resident beside them.
  {
    vidx::AlignedBuffer grown(64 * kMiB);
    std::memset(grown.data(), 3, 64 * kMiB);
    const size_t before = resident();
    peak_resident(true);
    grown.reallocate(96 * kMiB);
    const size_t peak = peak_resident(false);
    if (grown.data()[64 * kMiB - 1] != 3 || grown.data()[96 * kMiB - 1] != 0) return fail("grown contents", 0);
    if (before && peak && peak > before + 16 * kMiB) return fail("peak resident while growing (MiB)", (peak - before) >> 20);
  }
#endif
  std::printf("ok %zu\n", resizes);
  return 0;
}
