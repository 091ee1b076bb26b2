// The optional CUDA path, as seen from C++ code that includes no CUDA header.
//
// Everything here is declared whether or not vidx was built with CUDA; a build without it
// (VIDX_WITH_CUDA undefined when the library was compiled) simply does not define these
// symbols, so callers guard their use with VIDX_WITH_CUDA, as the Python bindings do.
//
//   std::string why;
//   if (vidx::gpu::cuda_available(&why)) {
//     vidx::gpu::CudaFlatIndex index(128, vidx::Metric::L2);
//     index.add(X, n, nullptr);
//     index.search(Q, nq, 10, D, I);
//   }
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vidx/common/metric.hpp"
#include "vidx/cuda/device_error.hpp"

namespace vidx::gpu {

// True when a CUDA device that this build can run on is present. When false, `why` (if given)
// says why: no driver, no device, a GPU older than compute capability 8.0, no kernel image for it.
bool cuda_available(std::string* why = nullptr);

// Number of CUDA devices (0 when there is no driver or no device).
int device_count();

struct DeviceInfo {
  int index = 0;
  std::string name;
  int major = 0, minor = 0;       // compute capability
  int multiprocessors = 0;
  double clock_ghz = 0;           // peak SM clock
  double memory_clock_ghz = 0;
  int memory_bus_bits = 0;
  size_t total_memory = 0;        // bytes
  size_t free_memory = 0;         // bytes, when asked
  size_t shared_memory_per_block_optin = 0;
  int runtime_version = 0;        // e.g. 13000
  int driver_version = 0;
};

// Throws DeviceError when the device cannot be queried.
DeviceInfo device_info(int device);

enum class Storage : uint32_t { Float32 = 0, Float16 = 1 };

struct CudaFlatOptions {
  Storage storage = Storage::Float32;
  int device = 0;
  // Float32 storage only: true computes the distance tiles with three TF32 tensor-core products
  // (hi*hi + hi*lo + lo*hi: float32 accuracy); false with one (faster, coarser ranking). Either
  // way the final candidates are re-ranked with exact float32 arithmetic.
  bool exact = true;
  // Rows per block: the unit of device allocation and of streaming from host memory.
  // 0 = automatic (about 1 GiB per block).
  size_t chunk_rows = 0;
  // Most rows kept in device memory; the rest stay in (pinned) host memory and are streamed
  // through the GPU in chunks at search time. 0 = automatic (as many as fit, leaving headroom).
  size_t max_device_rows = 0;
};

// Exact k-NN on a GPU. Vectors are stored on the device (float32 or float16), in blocks of
// `chunk_rows`; what does not fit stays in host memory and is streamed. Search computes
// distance tiles with tensor cores, selects candidates per tile without writing the distance
// matrix, re-ranks them exactly and merges across blocks. Distances follow vidx's metrics:
// L2 = squared Euclidean, IP = 1 - <q, x>, Cosine = 1 - cos (vectors normalised when added).
// Methods may be called from several threads; they are serialised per index.
class CudaFlatIndex {
 public:
  // Largest k that search accepts.
  static constexpr size_t kMaxK = 1024;

  CudaFlatIndex(size_t dim, Metric metric, const CudaFlatOptions& options = {});
  ~CudaFlatIndex();
  CudaFlatIndex(const CudaFlatIndex&) = delete;
  CudaFlatIndex& operator=(const CudaFlatIndex&) = delete;

  // Adds n vectors (row-major, n x dim float32). ids may be null: ids continue from size().
  // Throws InvalidArgument for NaN/inf (and for float16 storage, values beyond its range).
  void add(const float* x, size_t n, const int64_t* ids);

  // k nearest neighbours of nq queries: D (nq x k) ascending, I (nq x k) user ids; slots
  // beyond the index size get -1 and +inf.
  void search(const float* queries, size_t nq, size_t k, float* distances, int64_t* labels) const;

  void reset();

  size_t size() const;
  size_t dim() const;
  Metric metric() const;
  Storage storage() const;
  int device() const;
  size_t device_rows() const;        // rows resident on the device

  struct MemoryBreakdown {
    size_t vectors_device = 0;  // blocks of vectors (and their norms) in GPU memory
    size_t vectors_host = 0;    // blocks kept in host memory and streamed
    size_t ids = 0;
    size_t scratch = 0;         // GPU search scratch: candidates, queries, streaming buffers
  };
  MemoryBreakdown memory_breakdown() const;
  size_t memory_usage() const;         // the sum of memory_breakdown()
  size_t device_memory_usage() const;  // vectors_device + scratch

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vidx::gpu
