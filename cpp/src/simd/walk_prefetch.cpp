// How much of a code a graph walk requests ahead, at its gather and in its batch kernels
// (kernels.hpp), by the core it runs on.
#include "vidx/simd/cpu_features.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::simd {
namespace {

// Intel cores: every software prefetch, into L2 (prefetcht1) as well, holds one of L1's few
// fill buffers until its line arrives, so an expansion's hundreds of requests stall the walk at
// the prefetch instructions themselves (perf of a fashion-mnist walk: 77% of search_layer's
// samples on the request loop). Intel Xeon, AVX-512 and AVX2 alike, saved fashion-mnist
// f32_split graph (1568-byte walk codes), ratio to hnswlib at ef 10, alternating processes:
// whole codes 1.56-1.62x, first 1024 bytes 1.79-1.80x, 768 1.90-1.92x, 512 1.93-1.94x, 256
// 1.92-2.01x, 128 2.00x, 64 1.98-2.01x (AVX2 level: 768 bytes 2.03x, 256 bytes 2.14-2.16x).
constexpr size_t kIntelBoundedWalkPrefetchBytes = 256;

// Unbounded walks read every byte of a code. On Intel their gathers request the same first 256
// bytes, and the float batch kernel requests the next codes into L1 about 2 KB ahead of the one
// it scores (three of wordnet's 768-byte upper halves) instead of 512 bytes (one): saved
// wordnet-minilm f32_split graph, ef 24 against hnswlib at 32, one process each (graph.md
// section 26): whole codes with one ahead 2.01-2.07x, whole with two ahead 2.04-2.12x, 256 bytes
// with two 2.11-2.13x, with three 2.22-2.26x, with four 2.21-2.24x; no gather requests at all
// with three ahead 1.94-1.99x.
constexpr size_t kIntelUnboundedWalkPrefetchBytes = 256;
constexpr size_t kIntelBatchBytesAhead = 2048;

// AMD cores (Zen) take L2 requests without holding L1's buffers. The AVX2 host (AMD EPYC):
// alternating processes on saved fashion-mnist graphs, ratio to hnswlib at ef 12, f32_split whole
// codes 1.76-1.81x, first 512 bytes 1.91-1.95x, 768 bytes 1.90-1.96x, 1024 bytes 1.82-1.86x;
// float32 (3136 bytes) whole 1.46x, 768 bytes 1.68x, 1024 bytes 1.72x, 2048 bytes 1.64x
// (benchmarks/results/graph.md section 22). The AVX-512 AMD host was better off with whole codes
// (float32 1.77-1.79x against their first 256 bytes 1.50-1.69x; nothing in between measured).
constexpr size_t kAmdAvx2BoundedWalkPrefetchBytes = 768;

bool on_intel() {
  static const bool intel = cpu_features().intel();
  return intel;
}

}  // namespace

size_t unbounded_walk_prefetch_bytes(size_t code_bytes) {
  return on_intel() && code_bytes > kIntelUnboundedWalkPrefetchBytes ? kIntelUnboundedWalkPrefetchBytes : code_bytes;
}

size_t float_batch_vectors_ahead(size_t code_bytes) {
  if (!on_intel() || code_bytes == 0) return vectors_ahead(code_bytes);
  const size_t n = (kIntelBatchBytesAhead + code_bytes - 1) / code_bytes;
  return n > 4 ? 4 : n;
}

size_t bounded_walk_prefetch_bytes(Level level, size_t code_bytes) {
  size_t cap = code_bytes;
  if (on_intel()) cap = kIntelBoundedWalkPrefetchBytes;
  else if (level == Level::AVX2) cap = kAmdAvx2BoundedWalkPrefetchBytes;
  return code_bytes < cap ? code_bytes : cap;
}

}  // namespace vidx::simd
