// The graph degree an HNSW index takes when M is left automatic (M = 0): chosen by its first
// add from how hard its rows' neighbourhoods are to search.
#pragma once
#include <cstddef>
#include <cstdint>

namespace vidx {

class ThreadPool;

// The median, over `samples` rows drawn with `seed`, of each row's maximum-likelihood local
// intrinsic dimension (Levina and Bickel): -1 / mean_j log(r_j / r_k) over its k nearest other
// rows at a positive distance, found by scanning all n rows (or an evenly spaced 2^20 of them).
double neighbourhood_dimension(const float* x, size_t n, size_t dim, size_t samples, size_t k, uint64_t seed,
                               ThreadPool& pool);

// M for a first add of n rows of x (normalised already for cosine) into an index whose walks
// score codes of `walk_bits` bits a dimension (Codec::walk_bits).
size_t automatic_degree(const float* x, size_t n, size_t dim, int walk_bits, uint64_t seed, ThreadPool& pool);

}  // namespace vidx
