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

// Walks on codes of fewer bits a dimension (sign codes) take the default whatever their rows
// (hnsw_degree.cpp says why).
constexpr int kMinWalkBitsToWiden = 4;

// An automatic M that chose the default looks again each time the index has grown this many times
// past the rows it chose from, until it chose from kRowsToRecheckDegree or more (HnswIndex::
// degree_checked_at_). Rows that arrive in order may start easy and grow hard: glove6b-50's words
// by frequency read 15.6 / 19.3 / 21.3 over its first 100,000 / 200,000 / 390,000 rows (the
// threshold is 20.5), so an index fed them in adds kept M=16 for good (graph.md sections 35, 58).
// Each check costs an estimate (kSampledRows rows against up to 2^20, hnsw_degree.cpp); the widening
// it may lead to relinks every list once, as a late first choice does (hnsw_widen.cpp).
constexpr double kDegreeRecheckGrowth = 1.25;
constexpr size_t kRowsToRecheckDegree = size_t{1} << 20;

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
