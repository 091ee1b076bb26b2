// Device discovery, error translation and the RAII owners of cuda_common.cuh.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#if defined(__linux__)
#include <dlfcn.h>
#endif
#include <mutex>
#include <new>
#include <string>

#include "cuda_common.cuh"
#include "kernels.cuh"
#include "vidx/common/error.hpp"
#include "vidx/cuda/cuda.hpp"

#ifndef VIDX_CUDA_ARCHS
#define VIDX_CUDA_ARCHS "unknown"
#endif

namespace vidx::gpu {
namespace detail {

namespace {

bool is_sticky(cudaError_t e) {
  switch (e) {
    case cudaErrorIllegalAddress:
    case cudaErrorLaunchFailure:
    case cudaErrorMisalignedAddress:
    case cudaErrorInvalidPc:
    case cudaErrorHardwareStackError:
    case cudaErrorIllegalInstruction:
    case cudaErrorInvalidAddressSpace:
    case cudaErrorAssert:
    case cudaErrorLaunchTimeout:
    case cudaErrorECCUncorrectable:
      return true;
    default:
      return false;
  }
}

}  // namespace

void throw_cuda(cudaError_t e, const std::string& what) {
  // Clear the error (when it is not sticky) so that later calls on this thread start clean.
  (void)cudaGetLastError();
  std::string msg = "CUDA error in " + what + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
  if (e == cudaErrorMemoryAllocation) throw DeviceOutOfMemory(msg);
  if (is_sticky(e))
    msg += "; the CUDA context of this process is no longer usable, restart the process";
  if (e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction)
    msg += std::string("; this build holds code for CUDA architectures ") + VIDX_CUDA_ARCHS;
  throw DeviceError(msg);
}

std::string format_bytes(size_t bytes) {
  char buf[64];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024 * 1024));
  else if (b >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", b / (1024.0 * 1024));
  else if (b >= 1024.0) std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
  else std::snprintf(buf, sizeof buf, "%zu bytes", bytes);
  return buf;
}

DeviceGuard::DeviceGuard(int device) {
  if (cudaGetDevice(&previous_) != cudaSuccess) previous_ = -1;
  if (previous_ != device) check(cudaSetDevice(device), "cudaSetDevice(" + std::to_string(device) + ")");
}

DeviceGuard::~DeviceGuard() {
  int now = -1;
  if (previous_ >= 0 && cudaGetDevice(&now) == cudaSuccess && now != previous_) (void)cudaSetDevice(previous_);
}

void DeviceMemory::allocate(size_t bytes, const char* what) {
  if (!try_allocate(bytes, what)) {
    size_t free_b = 0, total_b = 0;
    (void)cudaMemGetInfo(&free_b, &total_b);
    (void)cudaGetLastError();
    throw DeviceOutOfMemory(std::string("CUDA out of memory: cudaMalloc of ") + format_bytes(bytes) + " for " + what +
                            " failed (" + format_bytes(free_b) + " free of " + format_bytes(total_b) + ")");
  }
}

bool DeviceMemory::try_allocate(size_t bytes, const char* what) {
  release();
  if (bytes == 0) bytes = 1;
  void* p = nullptr;
  const cudaError_t e = cudaMalloc(&p, bytes);
  if (e == cudaErrorMemoryAllocation) {
    (void)cudaGetLastError();
    return false;
  }
  check(e, std::string("cudaMalloc(") + format_bytes(bytes) + ") for " + what);
  ptr_ = p;
  bytes_ = bytes;
  return true;
}

void DeviceMemory::release() {
  if (ptr_) (void)cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
}

void HostMemory::allocate(size_t bytes) {
  release();
  if (bytes == 0) bytes = 1;
  void* p = nullptr;
  if (cudaHostAlloc(&p, bytes, cudaHostAllocPortable) == cudaSuccess) {
    pinned_ = true;
  } else {
    (void)cudaGetLastError();
    p = std::malloc(bytes);
    if (!p) throw std::bad_alloc();
    pinned_ = false;
  }
  ptr_ = p;
  bytes_ = bytes;
}

void HostMemory::release() {
  if (ptr_) {
    if (pinned_) (void)cudaFreeHost(ptr_);
    else std::free(ptr_);
  }
  ptr_ = nullptr;
  bytes_ = 0;
  pinned_ = false;
}

Stream::~Stream() {
  if (s_) (void)cudaStreamDestroy(s_);
}
void Stream::create() {
  if (!s_) check(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

Event::~Event() {
  if (e_) (void)cudaEventDestroy(e_);
}
void Event::create() {
  if (!e_) check(cudaEventCreateWithFlags(&e_, cudaEventDisableTiming), "cudaEventCreateWithFlags");
}

}  // namespace detail

namespace {

struct Availability {
  bool ok = false;
  std::string why;
};

Availability probe() {
  Availability a;
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
#if defined(__linux__)
    if (e == cudaErrorInsufficientDriver) {  // also what CUDA says when there is no driver at all
      void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
      if (!lib) {
        a.why = "no NVIDIA driver found (libcuda.so.1 cannot be loaded)";
        return a;
      }
      dlclose(lib);
    }
#endif
    a.why = std::string("no usable CUDA driver or device: ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
    return a;
  }
  if (n <= 0) {
    a.why = "no CUDA device found";
    return a;
  }
  int major = 0, minor = 0;
  cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0);
  cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, 0);
  cudaDeviceProp prop{};
  std::string name = "GPU 0";
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) name = prop.name;
  (void)cudaGetLastError();
  if (major < 8) {
    a.why = name + " has compute capability " + std::to_string(major) + "." + std::to_string(minor) +
            "; vidx's CUDA path needs 8.0 (Ampere) or newer";
    return a;
  }
  int previous = -1;
  (void)cudaGetDevice(&previous);
  e = cudaSetDevice(0);
  if (e == cudaSuccess) e = detail::probe_kernel_image();
  if (previous >= 0 && previous != 0) (void)cudaSetDevice(previous);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    a.why = name + " (sm_" + std::to_string(major) + std::to_string(minor) + ") cannot run this build's kernels: " +
            cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + "); built for CUDA architectures " + VIDX_CUDA_ARCHS;
    return a;
  }
  a.ok = true;
  a.why = "CUDA device 0: " + name;
  return a;
}

const Availability& availability() {
  static std::once_flag once;
  static Availability a;
  std::call_once(once, [] { a = probe(); });
  return a;
}

}  // namespace

bool cuda_available(std::string* why) {
  const Availability& a = availability();
  if (why) *why = a.why;
  return a.ok;
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return n;
}

void require_device(int device) {
  std::string why;
  if (!cuda_available(&why)) throw DeviceError("CUDA is not available: " + why);
  const int n = device_count();
  if (device < 0 || device >= n)
    throw InvalidArgument("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(n) +
                          " device" + (n == 1 ? "" : "s") + ")");
}

DeviceInfo device_info(int device) {
  require_device(device);
  DeviceInfo info;
  info.index = device;
  cudaDeviceProp prop{};
  detail::check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.multiprocessors = prop.multiProcessorCount;
  info.total_memory = prop.totalGlobalMem;
  info.shared_memory_per_block_optin = prop.sharedMemPerBlockOptin;
  info.memory_bus_bits = prop.memoryBusWidth;
  int khz = 0;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrClockRate, device) == cudaSuccess) info.clock_ghz = khz / 1e6;
  if (cudaDeviceGetAttribute(&khz, cudaDevAttrMemoryClockRate, device) == cudaSuccess) info.memory_clock_ghz = khz / 1e6;
  (void)cudaGetLastError();
  {
    detail::DeviceGuard guard(device);
    size_t free_b = 0, total_b = 0;
    detail::check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    info.free_memory = free_b;
  }
  cudaRuntimeGetVersion(&info.runtime_version);
  cudaDriverGetVersion(&info.driver_version);
  return info;
}

}  // namespace vidx::gpu
