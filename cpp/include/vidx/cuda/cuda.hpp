// The optional CUDA path, as seen from C++ code that includes no CUDA header.
//
// A device is a property of where a structure runs: the CUDA flat index is an ordinary
// vidx::VectorIndex of kind "flat" (ids, cosine, input checks, save come from the base class).
// Functions below are declared whether or not vidx was built with CUDA; a build without it
// (VIDX_WITH_CUDA undefined when the library was compiled) does not define the non-inline ones,
// so callers guard their use with VIDX_WITH_CUDA, as the Python bindings do.
//
//   std::string why;
//   if (vidx::gpu::cuda_available(&why)) {
//     auto index = vidx::gpu::make_flat_index(128, vidx::Metric::L2, vidx::IndexOptions{});
//     index->add(X, n, nullptr);
//     index->search(Q, nq, 10, 0, D, I);
//     index->save("exact.vidx");   // a flat index file: vidx::load_index reads it on the CPU,
//   }                              // vidx::gpu::load_flat_index onto a GPU
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vidx/codec/registry.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/cuda/device_error.hpp"
#include "vidx/index.hpp"

namespace vidx::gpu {

// True when a CUDA device that this build can run on is present. When false, `why` (if given)
// says why: no driver, no device, a GPU older than compute capability 8.0, no kernel image for it.
bool cuda_available(std::string* why = nullptr);

// Number of CUDA devices (0 when there is no driver or no device).
int device_count();

// Throws DeviceError ("CUDA is not available: <why>") when cuda_available() is false, and
// InvalidArgument when `device` is not one of the device_count() devices.
void require_device(int device);

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

// ---- exact search on a GPU ------------------------------------------------------------------

// Largest k and dimension the CUDA flat index accepts (the merge keeps a query in shared memory).
constexpr size_t kFlatMaxK = 1024;
constexpr size_t kFlatMaxDim = 16384;

// What only a device has to say about the CUDA flat index.
struct FlatDeviceOptions {
  int device = 0;
  // float32 storage only: true computes the distance tiles with three TF32 tensor-core products
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

// The codec the CUDA flat index stores vectors with: "f32" or "f16" (options.quant names
// it, "none" meaning "f32"). Throws InvalidArgument, naming the parameter, for every option the
// index cannot honour: another codec, rerank, keep_vectors, a seed, HNSW's graph parameters, a
// dimension above kFlatMaxDim, a negative device. Checks arguments only (no device is touched),
// so builds without CUDA give the same errors; make_flat_index calls it first.
inline std::string check_flat_options(size_t dim, const IndexOptions& options, const FlatDeviceOptions& device) {
  const std::string codec = find_codec(options.quant.empty() ? kDefaultQuant : options.quant).name;
  if (codec != "f32" && codec != "f16")
    throw InvalidArgument("the CUDA flat index stores float32 (quant='none') or float16 (quant='f16') vectors; got quant='" +
                          options.quant + "'");
  const IndexOptions defaults;
  if (options.rerank != defaults.rerank)
    throw InvalidArgument("rerank does not apply to the CUDA flat index: its search is exact");
  if (options.keep_vectors) throw InvalidArgument("keep_vectors does not apply to the CUDA flat index: its search is exact");
  if (options.seed != defaults.seed)
    throw InvalidArgument("seed does not apply to the CUDA flat index: it draws nothing at random");
  if (options.M != defaults.M || options.ef_construction != defaults.ef_construction ||
      options.ef_search != defaults.ef_search)
    throw InvalidArgument("M, ef_construction and ef_search are HNSW parameters; a flat index has no graph");
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  if (dim > kFlatMaxDim)
    throw InvalidArgument("dim " + std::to_string(dim) + " is above the CUDA flat index's limit of " +
                          std::to_string(kFlatMaxDim));
  if (device.device < 0) throw InvalidArgument("device must be a non-negative CUDA device number");
  if (device.chunk_rows > (size_t{1} << 31) - 1) throw InvalidArgument("chunk_rows must be below 2^31");
  return codec;
}

// Exact k-NN on a GPU, a VectorIndex of kind "flat". Vectors are stored on the device (float32,
// or float16 with quant "f16") in blocks of chunk_rows; what does not fit stays in host memory
// and is streamed. Search computes distance tiles with tensor cores, selects candidates per tile
// without writing the distance matrix, re-ranks them exactly and merges across blocks; k is at
// most kFlatMaxK. save() writes an ordinary flat index file (load_index reads it on the CPU).
// memory_breakdown(): "codes" (vector blocks in GPU memory), "streamed_codes" (blocks in host
// memory), "scratch" (GPU search buffers), plus the base's "ids" and "other".
// Throws InvalidArgument (check_flat_options, a device that does not exist), DeviceError when
// CUDA is not available.
std::unique_ptr<VectorIndex> make_flat_index(size_t dim, Metric metric, const IndexOptions& options,
                                             const FlatDeviceOptions& device = {});

// A saved flat index (from the CPU or a GPU; quant "none"/"f32" or "f16") loaded onto a GPU,
// after load_index verified the file. InvalidArgument for other kinds and codecs.
std::unique_ptr<VectorIndex> load_flat_index(const std::string& path, const FlatDeviceOptions& device = {});

}  // namespace vidx::gpu
