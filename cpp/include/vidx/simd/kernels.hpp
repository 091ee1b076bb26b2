// The SIMD kernel table. Each ISA level (scalar, AVX2+FMA, AVX-512) fills one table in its
// own source file compiled with that ISA's flags; the best level the CPU runs is picked once
// at load time. Nothing outside simd/ and codec/ calls a kernel directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vidx::simd {

enum class Level : int { Scalar = 0, AVX2 = 1, AVX512 = 2 };

const char* level_name(Level level);
bool parse_level(const std::string& name, Level* out);

using PairFn = float (*)(const float* a, const float* b, size_t dim);
// One query against `n` vectors given by pointers (graph traversal gathers them);
// the kernel prefetches vector i+1 while it computes vector i.
using BatchFn = void (*)(const float* q, const float* const* xs, size_t n, size_t dim, float* out);

// Like the L2 batch, but a vector may be abandoned once its partial sum reaches `bound`: its
// result is then some value >= bound instead of the exact distance. A graph search passes its
// beam's worst distance, since it discards such candidates anyway; for long vectors this
// skips most of the memory traffic of the far ones.
using BoundedBatchFn = void (*)(const float* q, const float* const* xs, size_t n, size_t dim, float bound,
                                float* out);

struct KernelTable {
  Level level;
  PairFn l2sq;     // squared Euclidean distance
  PairFn dot;      // inner product
  BatchFn l2sq_batch;
  BatchFn dot_batch;
  BoundedBatchFn l2sq_batch_bounded;
};

// How many dimensions a bounded kernel accumulates between two checks against the bound.
constexpr size_t kBoundCheckDims = 128;

// The table chosen at load time: the best level the CPU supports, lowered by the environment
// variable VIDX_SIMD=scalar|avx2|avx512 (a request above what the CPU runs is ignored).
const KernelTable& kernels();

// The table of one level, or nullptr when it was not compiled in or the CPU cannot run it.
const KernelTable* kernels_for(Level level);

// Highest level this build and this CPU can run.
Level best_level();

// Why the active level is what it is ("best available", "forced by VIDX_SIMD", ...).
const std::string& dispatch_note();

// For a kernel family with its own per-ISA tables (codecs): the table of `level`, or nullptr
// when the main table cannot run that level. Families pick with the main table's level, so one
// choice (best level, lowered by VIDX_SIMD) governs every kernel in the library.
template <typename Table>
const Table* pick_for_level(Level level, const Table& scalar, const Table* avx2, const Table* avx512) {
  if (!kernels_for(level)) return nullptr;
  switch (level) {
    case Level::Scalar: return &scalar;
    case Level::AVX2: return avx2;
    case Level::AVX512: return avx512;
  }
  return nullptr;
}

// Per-ISA tables, defined in kernels_<isa>.cpp.
const KernelTable& scalar_kernels();
#if defined(VIDX_X86_KERNELS)
const KernelTable& avx2_kernels();
const KernelTable& avx512_kernels();
#endif

}  // namespace vidx::simd
