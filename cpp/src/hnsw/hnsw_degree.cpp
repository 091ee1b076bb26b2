#include "hnsw_degree.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "vidx/common/rng.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/options.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx {
namespace {

// Wider lists pay on data whose neighbourhoods are hard to reach, whatever its dimension. Over
// 19 sets (Intel Xeon, f32_split, efC 200, single thread; benchmarks/results/graph.md section 35),
// QPS at recall 0.95 of M=24 over M=16: every set whose local intrinsic dimension (the estimate
// below over the whole set) was 21 or more gained 19-41% (glove6b-50 at 22.1: 1.20x / 1.26x in two
// runs; 100,000 of its rows 1.19x; Gaussians of 24 and 32 dimensions 1.24-1.41x; a 128-d one with
// falling variances 1.19x / 1.26x), and every set at 18.8 or less was level or lost up to 8%
// (wordnet-minilm 18.8: 0.98x, fashion-mnist 15.8: 0.93x, their projections on 32-256 principal
// components 0.94-1.04x, the unit cube and an 8-d Gaussian 0.92-0.99x), but for a 16-d Gaussian
// (15.3: 1.15x). Dimension alone misjudges both ways (8-d data lost 8%, 16-d gained 15%). M=32
// gained another 5-8% on the hard sets, for 16 more bytes a node than M=24; M=24 keeps glove's
// index at hnswlib M=16's memory (166 MiB against 168) and its build at 0.48x hnswlib's.
constexpr size_t kHardDataDegree = 24;
constexpr double kHardDataDimension = 20.5;

// The estimate reads the neighbourhoods at the scale of the rows it scans: on a 20,000-row sample
// wordnet-minilm reads 21.2 (18.8 in full) and glove 21.8 (22.1), so fewer rows cannot tell them
// apart and the choice waits for kRowsToChooseDegree. With 128 sampled rows the median wandered too far over eight
// seeds (wordnet 18.1-21.6, 100,000 of glove's rows 19.9-23.2); with 512 it stayed at wordnet
// 18.7-19.6, glove 20.8-22.6, glove100k 21.1-23.4, gauss-24 20.8-21.3 (the threshold's margin is
// thin on the hard side: a miss there only keeps M=16). Glove's automatic build took as long as
// one with M=24 given (23.3 / 23.7 s against 23.7 / 24.4 s); rows past 2^20 are sampled evenly.
constexpr size_t kSampledRows = 512;
constexpr size_t kNeighbours = 20;
constexpr size_t kMaxScannedRows = size_t{1} << 20;

// Walks on codes of 4 bits a dimension or more are held back by the graph on hard data as much as
// float32 walks are: on glove6b-50, Gaussians of 24 and 32 dimensions and the 128-d one with
// falling variances (graph.md section 36), LVQ-8 and LVQ-4x4 graphs at M=24 ran 1.14-1.44x their
// M=16 graphs' speed at recall 0.95, for 64 more bytes a node (21-34% of those indexes' memory),
// and on wordnet-minilm and fashion-mnist (easy) 0.87-0.94x, as float32 did. Sign codes limit
// their walks themselves: on 100,000 of glove's rows binary and rabitq found no more at M=24
// (recall 0.579 / 0.825 at ef 256, against 0.576 / 0.822) and ran 11-17% slower at equal ef.
// (kMinWalkBitsToWiden, hnsw_degree.hpp.)

// The k smallest positive squared distances, ascending.
void keep_nearest(std::vector<float>& nearest, float d, size_t k) {
  if (!(d > 0.0f)) return;  // the row itself and its duplicates carry no scale
  if (nearest.size() == k && d >= nearest.back()) return;
  nearest.insert(std::upper_bound(nearest.begin(), nearest.end(), d), d);
  if (nearest.size() > k) nearest.pop_back();
}

}  // namespace

double neighbourhood_dimension(const RowSource& row, size_t n, size_t dim, size_t samples, size_t k, uint64_t seed,
                               ThreadPool& pool) {
  if (n <= k + 1 || k < 2) return 0.0;
  samples = std::min(samples, n);
  const size_t step = (n + kMaxScannedRows - 1) / kMaxScannedRows;
  Rng rng(splitmix64(seed) ^ splitmix64(0xDE6EE));
  std::vector<float> picked(samples * dim);  // the sampled rows, as float32
  for (size_t s = 0; s < samples; ++s) {
    float* sample = picked.data() + s * dim;
    const float* r = row(static_cast<size_t>(rng.below(n)), sample);
    if (r != sample) std::copy(r, r + dim, sample);
  }

  // Blocks of scanned rows that stay in cache while every sampled row meets them (scanning all
  // rows once per sampled row read glove's 78 MB 512 times); each worker keeps its own lists.
  const size_t block_rows = std::max<size_t>(64, (256 << 10) / (dim * sizeof(float)));
  const size_t scanned = (n + step - 1) / step;
  const size_t blocks = (scanned + block_rows - 1) / block_rows;
  std::vector<std::vector<std::vector<float>>> nearest(pool.size(), std::vector<std::vector<float>>(samples));
  const simd::KernelTable& kernels = simd::kernels();
  pool.parallel_for(blocks, [&](size_t b, size_t worker) {
    const size_t first = b * block_rows, count = std::min(scanned, first + block_rows) - first;
    std::vector<float> decoded(count * dim);
    std::vector<const float*> rows(count);
    for (size_t i = 0; i < count; ++i) rows[i] = row((first + i) * step, decoded.data() + i * dim);
    std::vector<float> distances(count);
    for (size_t s = 0; s < samples; ++s) {
      kernels.l2sq_batch(picked.data() + s * dim, rows.data(), count, dim, distances.data());
      for (float d : distances) keep_nearest(nearest[worker][s], d, k);
    }
  });

  std::vector<double> estimates(samples, 0.0);
  for (size_t s = 0; s < samples; ++s) {
    std::vector<float> merged;
    for (auto& lists : nearest)
      for (float d : lists[s]) keep_nearest(merged, d, k);
    if (merged.size() < k) continue;
    double log_ratios = 0;  // squared distances: half the log of their ratio is the radii's
    for (size_t j = 0; j + 1 < k; ++j) log_ratios += 0.5 * std::log(static_cast<double>(merged[j]) / merged[k - 1]);
    if (log_ratios < 0) estimates[s] = -static_cast<double>(k - 1) / log_ratios;
  }
  std::nth_element(estimates.begin(), estimates.begin() + samples / 2, estimates.end());
  return estimates[samples / 2];
}

size_t automatic_degree(const RowSource& row, size_t n, size_t dim, int walk_bits, uint64_t seed, ThreadPool& pool) {
  if (walk_bits < kMinWalkBitsToWiden || n < kRowsToChooseDegree) return kDefaultDegree;
  const double dimension = neighbourhood_dimension(row, n, dim, kSampledRows, kNeighbours, seed, pool);
  return dimension >= kHardDataDimension ? kHardDataDegree : kDefaultDegree;
}

}  // namespace vidx
