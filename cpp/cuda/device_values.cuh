// Small device helpers the CUDA kernels share (scan.cu, few_scan.cu). The few-query scan's
// distances stand in for the merge's re-rank bit for bit, so both read stored values through
// the same to_float.
#pragma once
#include <cuda_fp16.h>

namespace vidx::gpu::detail {

constexpr unsigned kFullWarp = 0xffffffffu;  // every lane of a warp, for the *_sync intrinsics

__device__ __forceinline__ float inf_f() { return __int_as_float(0x7f800000); }

__device__ __forceinline__ float to_float(float v) { return v; }
__device__ __forceinline__ float to_float(__half v) { return __half2float(v); }

}  // namespace vidx::gpu::detail
