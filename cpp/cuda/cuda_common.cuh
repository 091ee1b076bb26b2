// Host-side helpers of the CUDA path: error translation and RAII owners of CUDA resources.
// Every CUDA call goes through check(), which throws vidx::DeviceError (or DeviceOutOfMemory)
// naming the call; owners release their resource in their destructor, so memory taken by an
// operation that throws is given back.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "vidx/cuda/device_error.hpp"

namespace vidx::gpu::detail {

[[noreturn]] void throw_cuda(cudaError_t e, const std::string& what);

inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw_cuda(e, what);
}
inline void check(cudaError_t e, const std::string& what) {
  if (e != cudaSuccess) throw_cuda(e, what);
}

std::string format_bytes(size_t bytes);

// Makes `device` current for the lifetime of the guard, then restores the previous one.
class DeviceGuard {
 public:
  explicit DeviceGuard(int device);
  ~DeviceGuard();
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = -1;
};

// Device memory from cudaMalloc.
class DeviceMemory {
 public:
  DeviceMemory() = default;
  DeviceMemory(size_t bytes, const char* what) { allocate(bytes, what); }
  ~DeviceMemory() { release(); }
  DeviceMemory(DeviceMemory&& o) noexcept : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
  DeviceMemory& operator=(DeviceMemory&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
    }
    return *this;
  }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;

  // Throws DeviceOutOfMemory (naming `what` and the size) when the device has not enough memory.
  void allocate(size_t bytes, const char* what);
  // Like allocate, but returns false instead of throwing when memory is short.
  bool try_allocate(size_t bytes, const char* what);
  // Keeps the current allocation when it is large enough.
  void ensure(size_t bytes, const char* what) {
    if (bytes > bytes_) {
      release();
      allocate(bytes, what);
    }
  }
  void release();

  template <typename T = void>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Host memory, page-locked when the system grants it (so copies can overlap kernels), else
// ordinary heap memory.
class HostMemory {
 public:
  HostMemory() = default;
  ~HostMemory() { release(); }
  HostMemory(HostMemory&& o) noexcept
      : ptr_(std::exchange(o.ptr_, nullptr)), bytes_(std::exchange(o.bytes_, 0)), pinned_(o.pinned_) {}
  HostMemory& operator=(HostMemory&& o) noexcept {
    if (this != &o) {
      release();
      ptr_ = std::exchange(o.ptr_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
      pinned_ = o.pinned_;
    }
    return *this;
  }
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;

  void allocate(size_t bytes);  // throws std::bad_alloc when even plain memory is short
  void release();
  template <typename T = void>
  T* as() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }
  bool pinned() const { return pinned_; }

 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  bool pinned_ = false;
};

class Stream {
 public:
  Stream() = default;
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  void create();
  cudaStream_t get() const { return s_; }

 private:
  cudaStream_t s_ = nullptr;
};

class Event {
 public:
  Event() = default;
  ~Event();
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  void create();
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

}  // namespace vidx::gpu::detail
