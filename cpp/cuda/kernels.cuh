// Internal interface between the host code of the CUDA path (engine.cpp, flat_index.cpp, ...)
// and its kernels (scan.cu). Host files include this with the C++ compiler: no device code here.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace vidx::gpu::detail {

// Tile shape of the fused distance + selection kernel (scan.cu relies on these values).
constexpr int kScanQueries = 128;  // queries per thread block
constexpr int kScanRows = 128;     // data rows per tile
constexpr int kScanDepth = 32;     // dimensions per k-chunk; rows are padded to a multiple of this
constexpr int kScanThreads = 256;

// Largest number of entries one merge block sorts (running top-k + new candidates).
constexpr int kMergeMaxEntries = 4096;

enum class ScanMode : int {
  F32Exact = 0,  // float32 data and queries, 3xTF32 tensor-core products
  F32Fast = 1,   // float32 data and queries, one TF32 product
  F16 = 2,       // float16 data, queries split into float16 hi + lo
};

// One launch of the fused kernel over one device block of rows, for a batch of queries.
// Grid: (ceil(nq / kScanQueries), num_slices). For every (query, slice) it leaves the `kp`
// best approximate candidates (unordered, padded with -1) in cand_* at [(q*num_slices+s)*cap].
struct ScanParams {
  const void* q = nullptr;     // F32*: float [nq x dp]; F16: __half hi [nq x dp]
  const void* q_lo = nullptr;  // F16: __half lo [nq x dp]
  int nq = 0;
  const void* x = nullptr;     // block rows: float or __half [n x dp]
  const float* norms = nullptr;  // squared norms of the stored rows [n] (L2 only)
  int n = 0;
  int dp = 0;                  // padded dimension (multiple of kScanDepth)
  int slice_len = 0;           // rows per slice (multiple of kScanRows)
  int num_slices = 0;
  int kp = 0;                  // candidates kept per (query, slice)
  int cap = 0;                 // buffer entries per (query, slice), >= kp + kScanRows
  int inner_product = 0;       // 0: rank by |x|^2 - 2<q,x>; 1: by -<q,x>
  float* cand_d = nullptr;
  int* cand_i = nullptr;       // row index inside the block
};

// The scan for a batch of at most kFewMaxQueries queries (few_scan.cu): every row read once and
// scored in exact float32, the same arithmetic as the merge's re-rank. Grid: num_slices blocks of
// kFewThreads. For every (query, slice) it leaves the slice's best kFewList rows, ascending, with
// their distances (-<q,x> for inner product) in cand_* at [(q*num_slices+s)*cap].
constexpr int kFewMaxQueries = 8;
constexpr int kFewThreads = 256;
constexpr int kFewList = 32;
struct FewScanParams {
  const float* q = nullptr;    // float32 queries [nq x dp]
  int nq = 0;
  const void* x = nullptr;     // block rows: float or __half [n x dp]
  int n = 0;
  int dp = 0;
  int slice_len = 0;
  int num_slices = 0;
  int cap = 0;
  int inner_product = 0;
  float* cand_d = nullptr;
  int* cand_i = nullptr;
};

// Exact re-ranking of one block's candidates merged into the running top-k of each query.
// Grid: nq blocks of kMergeThreads.
struct MergeParams {
  const float* q = nullptr;    // float32 queries [nq x dp] (normalised for cosine)
  int nq = 0;
  int dp = 0;
  int dim = 0;
  const void* x = nullptr;     // block rows, float or __half [n x dp]
  int base = 0;                // slot of the block's first row
  const int* cand_i = nullptr;
  const float* cand_d = nullptr;  // with `scored`: the scan's exact distances of the candidates
  int scored = 0;                 // 1: take cand_d instead of re-ranking (the few-query scan's)
  int num_slices = 0;
  int kp = 0;
  int cap = 0;
  int k = 0;
  int first = 0;               // 1: no running list yet (treated as empty)
  int inner_product = 0;       // 0: squared L2; 1: 1 - <q,x>
  int sorted_entries = 0;      // power of two >= k + num_slices * kp, <= kMergeMaxEntries
  float* run_d = nullptr;      // [nq x k] ascending exact distances
  int* run_i = nullptr;        // [nq x k] slots, -1 when empty
};
constexpr int kMergeThreads = 256;

// Shared memory the scan kernel needs; `alias` overlays the distance tile on the staging buffers.
size_t scan_shared_bytes(ScanMode mode, bool alias);
// Raises the kernel's dynamic shared-memory limit (once per process and device is enough).
cudaError_t scan_configure(ScanMode mode, size_t shared_bytes);
// Scan blocks that can run at once on one multiprocessor.
cudaError_t scan_occupancy(ScanMode mode, size_t shared_bytes, int* blocks_per_sm);
cudaError_t launch_scan(ScanMode mode, bool alias, size_t shared_bytes, const ScanParams& p, cudaStream_t stream);
size_t merge_shared_bytes(int dp, int sorted_entries);
cudaError_t launch_merge(bool f16, const MergeParams& p, cudaStream_t stream);

size_t few_scan_shared_bytes(int nq, int dp);
cudaError_t few_scan_occupancy(bool f16, int nq, size_t shared_bytes, int* blocks_per_sm);
cudaError_t launch_few_scan(bool f16, const FewScanParams& p, cudaStream_t stream);

// q (float [count]) -> hi = half(q), lo = half(q - hi).
cudaError_t launch_split_half(const float* q, void* hi, void* lo, size_t count, cudaStream_t stream);
// norms[r] = sum of squares of row r (float [n x dp]).
cudaError_t launch_row_norms(const float* x, int n, int dp, float* norms, cudaStream_t stream);
// k-means update: centroids[c] = mean of x[perm[offsets[c]..offsets[c+1])] (double sums in that
// order); clusters without points are left as they are.
cudaError_t launch_centroid_update(const float* x, int dp, int dim, const int* perm, const long long* offsets,
                                   int k, float* centroids, cudaStream_t stream);

// Checks that a kernel image for the current device is present (cudaFuncGetAttributes).
cudaError_t probe_kernel_image();

}  // namespace vidx::gpu::detail
