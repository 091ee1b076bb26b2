// Scan kernel for a few queries (at most kFewMaxQueries), used instead of the tiled tensor-core
// scan when a batch is that small. The tiled scan computes a 128-query tile whatever the batch
// holds, so one query cost as much as 128 (1.4 ms over 1M x 128 on an H200, against 0.1 ms to read
// the rows once). Here the rows are read once and scored against every query in exact float32 on
// the CUDA cores: the work is bound by memory bandwidth, not arithmetic.
//
// One thread block per slice of rows. Each warp scores kRowsPerStep rows at a time (every lane one
// 32-dimension column of each, then butterfly sums, so every lane holds every distance) and keeps,
// per query, its best kFewList rows in a list spread over the lanes (lane i holds the i-th best).
// At the end one warp per query merges the block's warps' lists; the block leaves kFewList
// candidates per (query, slice) for the merge kernel, which re-ranks them exactly as always.
#include <cuda_fp16.h>

#include <cstdint>

#include "device_values.cuh"
#include "kernels.cuh"

namespace vidx::gpu::detail {
namespace {

constexpr int kThreads = kFewThreads;
constexpr int kWarps = kThreads / 32;
constexpr int kRowsPerStep = 8;  // rows a warp has in flight: enough loads to cover memory latency

static_assert(kFewList == 32, "a candidate list is one entry per lane");

// A stored value as the merge reads it (to_float); float rows through the read-only cache.
__device__ __forceinline__ float load_float(const float* x, size_t i) { return __ldg(x + i); }
__device__ __forceinline__ float load_float(const __half* x, size_t i) { return to_float(x[i]); }

// Inserts (d, id) into a warp's ascending list (one entry per lane), dropping the last entry.
// Every lane passes the same (d, id), and d is below the last entry.
__device__ __forceinline__ void insert_sorted(float& list_d, int& list_i, float d, int id, int lane) {
  const int pos = __popc(__ballot_sync(kFullWarp, list_d <= d));  // entries that stay ahead of it
  const float up_d = __shfl_up_sync(kFullWarp, list_d, 1);
  const int up_i = __shfl_up_sync(kFullWarp, list_i, 1);
  if (lane == pos) {
    list_d = d;
    list_i = id;
  } else if (lane > pos) {
    list_d = up_d;
    list_i = up_i;
  }
}

template <typename Elem, int NQ>
__global__ void __launch_bounds__(kThreads) few_scan_kernel(const FewScanParams p) {
  extern __shared__ __align__(16) unsigned char smem_few[];
  float* sq = reinterpret_cast<float*>(smem_few);              // NQ x dp queries
  float* warp_d = sq + static_cast<size_t>(NQ) * p.dp;         // kWarps x NQ x kFewList
  int* warp_i = reinterpret_cast<int*>(warp_d + kWarps * NQ * kFewList);
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  for (int i = tid; i < NQ * p.dp; i += kThreads) sq[i] = p.q[i];
  __syncthreads();

  const int row_begin = blockIdx.x * p.slice_len;
  const int row_end = min(p.n, row_begin + p.slice_len);
  const Elem* x = static_cast<const Elem*>(p.x);
  float list_d[NQ], last[NQ];
  int list_i[NQ];
#pragma unroll
  for (int j = 0; j < NQ; ++j) {
    list_d[j] = inf_f();
    last[j] = list_d[j];
    list_i[j] = -1;
  }

  for (int r0 = row_begin + warp * kRowsPerStep; r0 < row_end; r0 += kWarps * kRowsPerStep) {
    float acc[kRowsPerStep][NQ];
#pragma unroll
    for (int r = 0; r < kRowsPerStep; ++r)
#pragma unroll
      for (int j = 0; j < NQ; ++j) acc[r][j] = 0.f;
#pragma unroll 4
    for (int c = lane; c < p.dp; c += 32) {
      float xv[kRowsPerStep];
#pragma unroll
      for (int r = 0; r < kRowsPerStep; ++r)
        xv[r] = r0 + r < row_end ? load_float(x, static_cast<size_t>(r0 + r) * p.dp + c) : 0.f;
#pragma unroll
      for (int j = 0; j < NQ; ++j) {
        const float qv = sq[j * p.dp + c];
#pragma unroll
        for (int r = 0; r < kRowsPerStep; ++r) {
          if (p.inner_product) {
            acc[r][j] = fmaf(qv, xv[r], acc[r][j]);
          } else {
            const float df = qv - xv[r];
            acc[r][j] = fmaf(df, df, acc[r][j]);
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < kRowsPerStep; ++r)
#pragma unroll
      for (int j = 0; j < NQ; ++j)
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) acc[r][j] += __shfl_xor_sync(kFullWarp, acc[r][j], off);
    // Butterfly sums leave the same value in every lane, so every branch below is warp-uniform.
#pragma unroll
    for (int r = 0; r < kRowsPerStep; ++r) {
      if (r0 + r >= row_end) break;
#pragma unroll
      for (int j = 0; j < NQ; ++j) {
        const float d = p.inner_product ? -acc[r][j] : acc[r][j];
        if (d < last[j]) {
          insert_sorted(list_d[j], list_i[j], d, r0 + r, lane);
          last[j] = __shfl_sync(kFullWarp, list_d[j], 31);
        }
      }
    }
  }

#pragma unroll
  for (int j = 0; j < NQ; ++j) {
    warp_d[(warp * NQ + j) * kFewList + lane] = list_d[j];
    warp_i[(warp * NQ + j) * kFewList + lane] = list_i[j];
  }
  __syncthreads();
  if (warp >= NQ) return;
  const int j = warp;  // this warp merges query j's lists
  float d_j = warp_d[j * kFewList + lane];
  int i_j = warp_i[j * kFewList + lane];
  float last_j = __shfl_sync(kFullWarp, d_j, 31);
  for (int w = 1; w < kWarps; ++w) {
    const float* wd = warp_d + (w * NQ + j) * kFewList;
    const int* wi = warp_i + (w * NQ + j) * kFewList;
    for (int e = 0; e < kFewList; ++e) {
      const float d = wd[e];
      if (!(d < last_j)) break;  // the list is ascending: nothing further in it gets in
      insert_sorted(d_j, i_j, d, wi[e], lane);
      last_j = __shfl_sync(kFullWarp, d_j, 31);
    }
  }
  const size_t o = (static_cast<size_t>(j) * p.num_slices + blockIdx.x) * p.cap + lane;
  p.cand_d[o] = d_j;
  p.cand_i[o] = i_j;
}

template <typename Elem, int NQ>
cudaError_t launch_few_t(const FewScanParams& p, cudaStream_t stream) {
  few_scan_kernel<Elem, NQ><<<static_cast<unsigned>(p.num_slices), kThreads, few_scan_shared_bytes(NQ, p.dp), stream>>>(p);
  return cudaGetLastError();
}

template <typename Elem, int NQ>
cudaError_t occupancy_t(size_t shared_bytes, int* blocks_per_sm) {
  return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks_per_sm, few_scan_kernel<Elem, NQ>, kThreads,
                                                       shared_bytes);
}

// Calls op.template run<Elem, NQ>() for the batch's query count (1..kFewMaxQueries).
template <typename Elem, typename Op>
cudaError_t by_query_count(int nq, const Op& op) {
  switch (nq) {
    case 1: return op.template run<Elem, 1>();
    case 2: return op.template run<Elem, 2>();
    case 3: return op.template run<Elem, 3>();
    case 4: return op.template run<Elem, 4>();
    case 5: return op.template run<Elem, 5>();
    case 6: return op.template run<Elem, 6>();
    case 7: return op.template run<Elem, 7>();
    case 8: return op.template run<Elem, 8>();
  }
  return cudaErrorInvalidValue;
}

struct Launch {
  const FewScanParams& p;
  cudaStream_t stream;
  template <typename Elem, int NQ>
  cudaError_t run() const { return launch_few_t<Elem, NQ>(p, stream); }
};

struct Occupancy {
  size_t shared_bytes;
  int* blocks_per_sm;
  template <typename Elem, int NQ>
  cudaError_t run() const { return occupancy_t<Elem, NQ>(shared_bytes, blocks_per_sm); }
};

}  // namespace

size_t few_scan_shared_bytes(int nq, int dp) {
  return static_cast<size_t>(nq) * dp * sizeof(float) +
         static_cast<size_t>(kWarps) * nq * kFewList * (sizeof(float) + sizeof(int));
}

cudaError_t few_scan_occupancy(bool f16, int nq, size_t shared_bytes, int* blocks_per_sm) {
  const Occupancy op{shared_bytes, blocks_per_sm};
  return f16 ? by_query_count<__half>(nq, op) : by_query_count<float>(nq, op);
}

cudaError_t launch_few_scan(bool f16, const FewScanParams& p, cudaStream_t stream) {
  if (p.nq <= 0 || p.num_slices <= 0) return cudaSuccess;
  const Launch op{p, stream};
  return f16 ? by_query_count<__half>(p.nq, op) : by_query_count<float>(p.nq, op);
}

}  // namespace vidx::gpu::detail
