// The graph degree an HNSW index takes when M is left automatic (M = 0): chosen by its first
// add from how hard its rows' neighbourhoods are to search.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

namespace vidx {

class ThreadPool;

// The fewest rows an automatic M is chosen from: until an index holds that many, its lists are laid
// out for kDefaultDegree and the choice waits (HnswIndex::plan_degree).
constexpr size_t kRowsToChooseDegree = 100000;

// Row i (0 <= i < n) of the rows an estimate reads, as float32: a pointer to it where it is
// stored so, or `scratch` (dim floats) after decoding it there.
using RowSource = std::function<const float*(size_t i, float* scratch)>;

// The median, over `samples` rows drawn with `seed`, of each row's maximum-likelihood local
// intrinsic dimension (Levina and Bickel): -1 / mean_j log(r_j / r_k) over its k nearest other
// rows at a positive distance, found by scanning all n rows (or an evenly spaced 2^20 of them).
double neighbourhood_dimension(const RowSource& row, size_t n, size_t dim, size_t samples, size_t k, uint64_t seed,
                               ThreadPool& pool);

// M for an index of the n rows `row` gives (normalised already for cosine) whose walks score
// codes of `walk_bits` bits a dimension (Codec::walk_bits); kDefaultDegree below kRowsToChooseDegree.
size_t automatic_degree(const RowSource& row, size_t n, size_t dim, int walk_bits, uint64_t seed, ThreadPool& pool);

}  // namespace vidx
