// The SIMD kernel table. Each ISA level (scalar, AVX2+FMA, AVX-512, NEON) provides primitives
// (cpp/src/simd/isa_<name>.hpp); the loops are written once over them (loops_*.hpp) and
// instantiated in one file per ISA compiled with that ISA's flags (kernels_<name>.cpp). The
// best level the CPU runs is picked once at load time. Nothing outside simd/ and codec/ calls
// a kernel directly.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vidx::simd {

enum class Level : int { Scalar = 0, AVX2 = 1, AVX512 = 2, NEON = 3 };

// Every level, in order of preference (best first); a build and CPU run a subset.
constexpr Level kLevelsBestFirst[] = {Level::AVX512, Level::AVX2, Level::NEON, Level::Scalar};

const char* level_name(Level level);
bool parse_level(const std::string& name, Level* out);

using PairFn = float (*)(const float* a, const float* b, size_t dim);
// One query against `n` vectors given by pointers (graph traversal gathers them);
// the kernel prefetches vector i + vectors_ahead(...) while it computes vector i.
using BatchFn = void (*)(const float* q, const float* const* xs, size_t n, size_t dim, float* out);

// Like the L2 batch, but a vector may be abandoned once its partial sum reaches `bound`: its
// result is then some value >= bound instead of the exact distance. A graph search passes its
// beam's worst distance, since it discards such candidates anyway; for long vectors this
// skips most of the memory traffic of the far ones. The kernel goes a block of
// kBoundCheckDims at a time across all the vectors still under the bound, so the loads of
// many vectors are in flight at once.
// check_scales (nullptr: every check against `bound` itself, so abandoning is exact): the check
// after block b compares the partial sum with bound * check_scales[b] (one scale per whole
// block, each in (0, 1]): a calibrated guess that a vector whose first blocks already hold that
// much is beyond the bound (see F32PcaCodec). A vector under the bound can then be abandoned
// too, so the search becomes approximate.
using BoundedBatchFn = void (*)(const float* q, const float* const* xs, size_t n, size_t dim, float bound,
                                const float* check_scales, float* out);

// Distance estimates of kPanelRows rows to many columns at once (k-means' nearest centroids):
// `panels` holds n_panels blocks of dim x kPanelWidth floats, column c of block p stored at
// p * dim * kPanelWidth + j * kPanelWidth + c for j in [0, dim);
// out[r * out_stride + p * kPanelWidth + c] = offsets[p * kPanelWidth + c] - 2 <rows[r], column>
// (the inner product summed over j in order), and least[r] is lowered to the least of them
// (NaN ones skipped). With offsets |c|^2 that is |x - c|^2 - |x|^2. One column register loaded
// feeds kPanelRows multiply-adds: one row against one centroid at a time (a BatchFn) spent
// most of its time on loads and sums across lanes at small dim (graph.md section 50).
constexpr size_t kPanelRows = 4;
constexpr size_t kPanelWidth = 32;
using PanelDistanceFn = void (*)(const float* const* rows, const float* panels, const float* offsets, size_t n_panels,
                                 size_t dim, float* out, size_t out_stride, float* least);
// The indices i < n (n a multiple of kPanelWidth) with !(v[i] > threshold), ascending, into out;
// returns how many.
using NotAboveFn = size_t (*)(const float* v, size_t n, float threshold, uint32_t* out);

// y -= scale * <v, y> * v over n floats: one Householder reflection (scale = 2 / |v|^2), the
// step PcaRotation rotates queries and vectors with.
using ReflectFn = void (*)(const float* v, float* y, size_t n, float scale);

struct KernelTable {
  Level level;
  PairFn l2sq;     // squared Euclidean distance
  PairFn dot;      // inner product
  BatchFn l2sq_batch;
  BatchFn dot_batch;
  BoundedBatchFn l2sq_batch_bounded;
  ReflectFn reflect;
  PanelDistanceFn panel_distances;
  NotAboveFn not_above;

  // The distance of two float32 rows under the metric conventions (vidx/common/metric.hpp):
  // squared L2 when `l2`, else 1 - <a, b>.
  float distance(bool l2, const float* a, const float* b, size_t dim) const {
    return l2 ? l2sq(a, b, dim) : 1.f - dot(a, b, dim);
  }
};

// How many dimensions a bounded kernel accumulates between two checks against the bound.
constexpr size_t kBoundCheckDims = 64;

// How many codes ahead a batch prefetches while it scores one: enough to keep about 512 bytes
// (8 cache lines) in flight, at most 4. One ahead left short codes waiting on memory:
// alternating runs, two ahead against one, gave 1.05-1.12x on LVQ codes of ~400 bytes
// (fashion lvq4x4, wordnet lvq8) and three ahead 1.09-1.14x on glove's 200-byte float32
// vectors, while 1.5 KB vectors (wordnet float32) gained nothing from more than one.
constexpr size_t vectors_ahead(size_t code_bytes) {
  const size_t n = code_bytes ? (512 + code_bytes - 1) / code_bytes : 4;
  return n < 1 ? 1 : (n > 4 ? 4 : n);
}
// The float batch kernels' choice on this core (walk_prefetch.cpp): vectors_ahead, or more on
// Intel, whose walks request less at the gather.
size_t float_batch_vectors_ahead(size_t code_bytes);

// How many leading bytes of each code a graph walk requests into L2 when it gathers the
// neighbours that a bounded L2 batch (BoundedBatchFn) of this level will score; the batch
// requests the rest of a code block by block while the code stays under the bound. It abandons
// most of a walk's candidates partway, so requests for their unread lines can cost more than the
// wait they spare: how much depends on the core more than on the level (walk_prefetch.cpp).
size_t bounded_walk_prefetch_bytes(Level level, size_t code_bytes);
// The same for walks that read every byte of a code (inner products): whole codes, except on
// Intel (walk_prefetch.cpp).
size_t unbounded_walk_prefetch_bytes(size_t code_bytes);

// Requests every cache line that bytes [p, p + bytes) touch, for reading (a hint): into every
// cache level (x86 prefetcht0), or into L2 and below only (prefetcht1), which spares L1's few
// miss buffers when many lines are requested at once.
template <int kLocality>
inline void prefetch_lines(const void* p, size_t bytes) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  for (uintptr_t line = start & ~uintptr_t{63}; line < start + bytes; line += 64)
    __builtin_prefetch(reinterpret_cast<const void*>(line), 0, kLocality);
}
inline void prefetch_bytes(const void* p, size_t bytes) { prefetch_lines<3>(p, bytes); }
inline void prefetch_bytes_to_l2(const void* p, size_t bytes) { prefetch_lines<2>(p, bytes); }

// The batch loop of scores that take one call per code (LVQ, float16, a codec's integer sums):
// out[i] = one(codes[i]), requesting the first `read_bytes` of code i + vectors_ahead while it
// scores code i.
template <class Out, class One>
void prefetching_batch(const uint8_t* const* codes, size_t n, size_t read_bytes, Out* out, One one) {
  const size_t ahead = vectors_ahead(read_bytes);
  for (size_t i = 1; i < ahead && i < n; ++i) prefetch_bytes(codes[i], read_bytes);
  for (size_t i = 0; i < n; ++i) {
    if (i + ahead < n) prefetch_bytes(codes[i + ahead], read_bytes);
    out[i] = one(codes[i]);
  }
}

// The table chosen at load time: the best level the CPU supports, lowered by the environment
// variable VIDX_SIMD=scalar|avx2|avx512|neon (a level this CPU/build cannot run is ignored).
const KernelTable& kernels();

// The table of one level, or nullptr when it was not compiled in or the CPU cannot run it.
const KernelTable* kernels_for(Level level);

// Highest level this build and this CPU can run.
Level best_level();

// Why the active level is what it is ("best available", "forced by VIDX_SIMD", ...).
const std::string& dispatch_note();

// One ISA's primitives (defined in cpp/src/simd/isa_<name>.hpp, where the loops are instantiated).
struct IsaScalar;
struct IsaAvx2;
struct IsaAvx512;
struct IsaNeon;

// The table of one ISA, instantiated in cpp/src/simd/kernels_<name>.cpp; callers go through
// kernels_for(), which knows which ISAs this build compiled and this CPU runs.
template <class Isa>
const KernelTable& table_of();

}  // namespace vidx::simd
