// The CUDA part of vidx._core (and the k-means entry point, CPU and GPU). Compiles with and
// without VIDX_WITH_CUDA: without it, the CUDA pieces report that CUDA is unavailable.
#pragma once
#include <pybind11/pybind11.h>

void register_cuda(pybind11::module_& m);
