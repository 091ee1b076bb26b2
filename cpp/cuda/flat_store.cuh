// The storage and search engine behind the CUDA flat index: vectors in device blocks (and host
// blocks beyond the device budget), batched exact search through the fused scan + merge
// kernels, host blocks streamed on a second stream. It knows rows by slot only: ids, cosine
// normalisation and finiteness checks belong to vidx::VectorIndex.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "cuda_common.cuh"
#include "engine.cuh"
#include "vidx/cuda/cuda.hpp"

namespace vidx::gpu::detail {

class FlatStore {
 public:
  // half: store float16 (else float32). inner_product: IP / cosine distances (else L2).
  FlatStore(size_t dim, bool half, bool inner_product, const FlatDeviceOptions& options);
  ~FlatStore();
  FlatStore(const FlatStore&) = delete;
  FlatStore& operator=(const FlatStore&) = delete;

  // Appends n rows (already normalised where the metric wants it). All or nothing: on an error
  // the rows stored before the call are all that is left. InvalidArgument for values beyond the
  // float16 range when storing float16.
  void add(const float* x, size_t n);
  // k nearest slots (or -1 / +inf) of nq queries.
  void search(const float* queries, size_t nq, size_t k, float* distances, int64_t* slots) const;
  // The stored rows as codes of the "f32" / "f16" codec: rows x dim floats or float16 bits.
  std::vector<uint8_t> codes() const;

  size_t rows() const;
  size_t device_bytes() const;    // vector blocks in GPU memory
  size_t host_bytes() const;      // vector blocks in host memory, streamed
  size_t scratch_bytes() const;   // GPU search buffers

 private:
  struct Block {
    bool on_device = false;
    DeviceMemory dev;
    HostMemory host;
    size_t rows = 0;
    size_t cap = 0;
  };

  size_t block_bytes(size_t cap) const { return cap * row_bytes_ + cap * sizeof(float); }
  bool has_host_blocks() const { return !blocks_.empty() && !blocks_.back()->on_device; }
  size_t device_allowance() const;
  void write_rows(Block& b, const uint8_t* data, const float* norms, size_t m);
  bool grow(Block& b, size_t need);
  void new_block(size_t need);
  void place(const uint8_t* data, const float* norms, size_t m);
  void truncate(size_t rows);
  void convert(const float* x, size_t m, std::vector<uint8_t>& data, std::vector<float>& norms) const;
  void check_range(const float* x, size_t m, const char* what) const;
  int reserve_scratch(size_t nq, int k, size_t max_rows) const;
  size_t reserve_staging() const;
  void search_batch(const float* queries, int cnt, int k, size_t stage_rows, float* distances, int64_t* slots) const;

  // Declared first, so destroyed after every CUDA resource below: puts back the device that was
  // current before ~FlatStore made the store's own device current.
  struct RestoreDevice {
    int previous = -1;
    ~RestoreDevice() {
      if (previous >= 0) (void)cudaSetDevice(previous);
    }
  } restore_;

  size_t dim_, dp_;
  bool half_, inner_product_;
  FlatDeviceOptions opt_;
  ScanMode mode_;
  size_t row_bytes_ = 0;  // dp * element size
  size_t chunk_rows_ = 0;

  size_t rows_ = 0;
  std::vector<std::unique_ptr<Block>> blocks_;
  size_t device_cap_ = 0;   // rows allocated on the device
  bool device_full_ = false;

  // Searches share the scratch buffers below, so they run one at a time.
  mutable std::mutex mu_;
  Stream compute_, copy_;
  Event ready_[2], freed_[2];
  mutable Scratch scratch_;
  mutable DeviceMemory q_f_, q_h_, q_l_;
  mutable DeviceMemory staging_[2];
};

}  // namespace vidx::gpu::detail
