// Limits on search() arguments, checked before any output is allocated: a typo such as
// k=10**9 must be a clear error, not a 12 GB allocation.
#pragma once
#include <algorithm>
#include <cstddef>
#include <string>

#include "vidx/common/error.hpp"

namespace vidx {

// k may exceed the index size (the tail is padded with -1 / +inf) up to this many results.
constexpr size_t kMaxPaddedK = size_t{1} << 16;

// Candidates an exhaustive scan of compressed codes (flat, a SPANN list) re-scores with the
// precise level per result wanted, when rerank= is left automatic. A 1-bit code's order is
// rough: re-scoring only the k best loses most of the true neighbours, 16 k keeps them
// (recall@10 0.20 -> 0.97 on a flat binary scan of clustered rows) for a re-rank that costs
// far less than the scan.
constexpr size_t kRerankPerResult = 16;
// What a SPANN search of 1-bit head codes (binary, binary_rot, rabitq) re-scores per result when
// rerank= is automatic. With 16 k, more lists brought more far rows whose 1-bit distances beat
// true neighbours into the pool, and recall fell as nprobe grew: binary postings of 100,000 glove
// rows read recall@10 0.83 / 0.80 / 0.78 / 0.76 at nprobe 8 / 16 / 32 / 64; with 64 k 0.95 /
// 0.95 / 0.94 / 0.92, with 256 k 0.96 / 0.98 / 0.99 / 0.99. (Re-scoring the pool nearest first
// until the head codes' error rules the rest out, as HNSW's adaptive re-rank does, never stopped
// early on 1-bit codes, whose head distances are bit counts, and read shared tail pages again
// round after round: a review measured 1.4-4x the tail bytes of one pass.)
constexpr size_t kRoughRerankPerResult = 256;

// Throws InvalidArgument unless 1 <= k <= max(index_size, kMaxPaddedK).
inline void check_k(size_t k, size_t index_size) {
  if (k == 0) throw InvalidArgument("k must be at least 1");
  if (k > index_size && k > kMaxPaddedK)
    throw InvalidArgument("k=" + std::to_string(k) + " is larger than the index (" + std::to_string(index_size) +
                          " vectors) and than " + std::to_string(kMaxPaddedK) +
                          ", the most results a search pads to");
}

// A beam (ef) or re-rank width wider than the index cannot hold more candidates: clamp it to
// max(index_size, k), which gives the same results without sizing scratch by a huge number.
// 0 ("automatic") stays 0.
inline size_t clamp_width(size_t width, size_t index_size, size_t k) {
  return width == 0 ? 0 : std::min(width, std::max(index_size, k));
}

}  // namespace vidx
