// Check scales for an approximate bounded L2 kernel (simd::BoundedBatchFn's check_scales),
// learnt from the data; private to the codec sources.
//
// In a principal-component basis the first coordinates hold most of a squared distance, and
// for a near pair a steady share of it. wordnet-minilm (192 components of 384 dimensions):
// the scales learnt are 0.70 / 0.85 / 0.93 / 0.96 / 0.98 after 64 / 128 / 192 / 256 / 320
// coordinates. So once a candidate's first 64 coordinates reach 0.70 x the beam's worst
// distance, its whole distance very likely passes that distance too, and the kernel stops
// reading it. Numpy studies on wordnet's queries, bound at rank 32: in a full PCA basis exact
// checks read ~218 of a far candidate's 384 coordinates (candidates at ranks 32-800, 150
// queries); with 192 components and scales from 8,000 near pairs, calibrated checks read ~147
// (ranks 32-1500, 300 queries), and no true top-10 neighbour would have been dropped. Scales 10% below the learnt ones cost recall at once
// (wordnet, ef 10: 0.847 -> 0.765), so the largest share seen is the one kept, not a quantile.
#pragma once
#include <cstddef>
#include <vector>

#include "vidx/simd/kernels.hpp"

namespace vidx::calibration {

// How much of an add a calibration reads: rows of the sample the pairs are drawn from (each
// rotated first, 2 r d multiply-adds) and queries among them.
struct SampleSize {
  size_t rows;
  size_t queries;
};
// The first add's calibration, and that of a later add (which only widens the first's scales;
// smaller so that adding 1000 rows at a time stays cheap: 20 adds of 1000 wordnet rows took as
// long as with f32, within the noise).
constexpr SampleSize kFirstAdd{4096, 128};
constexpr SampleSize kLaterAdd{1024, 64};
// Nearest rows per query: its pairs.
constexpr size_t kNeighbours = 16;

// One scale per whole simd::kBoundCheckDims block of `dim`: the largest share of its squared
// distance any calibration pair (a sample row and one of its kNeighbours nearest others in the
// sample) holds in the coordinates up to that block's end; 1 for a block that ends the vector.
// rows: n x dim, already in the basis the kernel reads (the caller's sample); `queries` of them
// are evenly spaced. Empty (check exactly) when there are too few distinct rows or no whole block.
std::vector<float> near_pair_check_scales(const float* rows, size_t n, size_t dim, size_t queries,
                                          const simd::KernelTable& k);

}  // namespace vidx::calibration
