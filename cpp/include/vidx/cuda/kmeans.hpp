// k-means with the assignment and update steps on a GPU. Same initialisation, repair and
// stopping rule as vidx::kmeans (cluster/kmeans.hpp), so results match the CPU version up to
// floating-point rounding in the distances. Defined only in builds with CUDA (VIDX_WITH_CUDA).
#pragma once
#include <cstddef>

#include "vidx/cluster/kmeans.hpp"
#include "vidx/cuda/device_error.hpp"

namespace vidx::gpu {

// The points are copied to the device once (n x dim float32 must fit in its memory).
// Throws InvalidArgument for bad arguments, DeviceError / DeviceOutOfMemory for CUDA failures.
KMeansResult kmeans_cuda(const float* x, size_t n, size_t dim, const KMeansParams& params, int device = 0);

}  // namespace vidx::gpu
