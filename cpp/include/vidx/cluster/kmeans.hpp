// k-means (Lloyd) on the CPU, and the pieces the GPU version shares with it.
//
// Deterministic for a seed, whatever the number of threads: the initial centroids come from a
// seeded k-means++ (or random) choice, each point goes to its nearest centroid (ties: the
// smaller centroid index), and each new centroid is the mean of its points summed in double in
// ascending point order. A cluster left empty takes the point farthest from its centroid in the
// currently largest cluster. The loop stops when no assignment changes or after `iters` updates.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace vidx {

enum class KMeansInit : uint32_t {
  Auto = 0,            // k-means++ when k * sample * dim is small enough (<= 2^33), else Random
  KMeansPlusPlus = 1,  // k-means++ on a sample of max(8192, 32 k) points
  Random = 2,          // k distinct points chosen uniformly
};

struct KMeansParams {
  size_t k = 0;
  size_t iters = 25;     // most Lloyd updates; 0 returns the initial centroids and their assignment
  uint64_t seed = 0;
  KMeansInit init = KMeansInit::Auto;
  size_t threads = 0;    // CPU threads; 0 = all cores
};

struct KMeansResult {
  size_t k = 0;
  size_t dim = 0;
  std::vector<float> centroids;     // k x dim, row-major
  std::vector<int64_t> assignment;  // n: index of the nearest centroid
  double inertia = 0;               // sum of squared distances of the points to their centroid
  size_t iterations = 0;            // Lloyd updates performed
};

// Throws InvalidArgument for k == 0, k > n, dim == 0, or NaN/inf in x.
KMeansResult kmeans(const float* x, size_t n, size_t dim, const KMeansParams& params);

namespace kmeans_detail {

// Checks the arguments as kmeans() does (also used by the GPU version).
void validate(const float* x, size_t n, size_t dim, const KMeansParams& params);

// The initial centroids (k x dim) for params.seed and params.init.
std::vector<float> initial_centroids(const float* x, size_t n, size_t dim, const KMeansParams& params);

// One Lloyd step's two halves, supplied by a device (CPU here, the GPU in vidx/cuda).
class Backend {
 public:
  virtual ~Backend() = default;
  // For every point: the nearest of the k centroids (ties: smaller index) and its squared distance.
  virtual void assign(const float* centroids, int32_t* assignment, float* distance) = 0;
  // centroids[c] = mean of the points perm[offsets[c] .. offsets[c+1]) summed in double in that
  // order; a cluster without points keeps its centroid.
  virtual void update(const int32_t* perm, const int64_t* offsets, float* centroids) = 0;
};

// The Lloyd loop shared by CPU and GPU (empty-cluster repair and convergence test included).
KMeansResult lloyd(size_t n, size_t dim, const KMeansParams& params, std::vector<float> centroids,
                   Backend& backend);

// Gives each empty cluster a point: the one farthest from its centroid in the currently largest
// cluster (ties: smaller point index; largest ties: smaller cluster index). Returns how many.
size_t repair_empty_clusters(int32_t* assignment, const float* distance, size_t n, size_t k);

// Counting sort of the points by cluster, ascending point order inside each cluster.
void order_by_cluster(const int32_t* assignment, size_t n, size_t k, std::vector<int32_t>& perm,
                      std::vector<int64_t>& offsets);

}  // namespace kmeans_detail
}  // namespace vidx
