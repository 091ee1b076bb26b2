// Check scales for an approximate bounded L2 kernel (simd::BoundedBatchFn's check_scales),
// learnt from the data; private to the codec sources.
//
// In a principal-component basis the first coordinates hold most of a squared distance, and
// for a near pair a steady share of it. wordnet-minilm (192 components of 384 dimensions):
// the scales learnt are 0.70 / 0.85 / 0.93 / 0.96 / 0.98 after 64 / 128 / 192 / 256 / 320
// coordinates. So once a candidate's first 64 coordinates reach 0.70 x the beam's worst
// distance, its whole distance very likely passes that distance too, and the kernel stops
// reading it. A numpy study on wordnet's queries (a full PCA basis, candidates at ranks
// 32-1500, bound at rank 32, scales from 8,000 near pairs): exact checks read ~218 of a far
// candidate's 384 coordinates, calibrated ones ~147, and no true top-10 neighbour of 300
// queries would have been dropped. Scales 10% below the learnt ones cost recall at once
// (wordnet, ef 10: 0.847 -> 0.765), so the largest share seen is the one kept, not a quantile.
#pragma once
#include <cstddef>
#include <vector>

#include "vidx/simd/kernels.hpp"

namespace vidx::calibration {

// Rows of the sample the pairs are drawn from, queries among them, nearest rows per query.
constexpr size_t kSampleRows = 4096;
constexpr size_t kQueries = 128;
constexpr size_t kNeighbours = 16;

// One scale per whole simd::kBoundCheckDims block of `dim`: the largest share of its squared
// distance any calibration pair (a sample row and one of its kNeighbours nearest others in the
// sample) holds in the coordinates up to that block's end; 1 for a block that ends the vector.
// rows: n x dim, already in the basis the kernel reads (at most kSampleRows are used, evenly
// spaced). Empty (check exactly) when there are too few distinct rows or no whole block.
std::vector<float> near_pair_check_scales(const float* rows, size_t n, size_t dim, const simd::KernelTable& k);

}  // namespace vidx::calibration
