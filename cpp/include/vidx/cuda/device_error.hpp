// Errors of the optional CUDA path. They need no CUDA header, so code that only catches them
// (the Python bindings) compiles everywhere. The bindings map DeviceOutOfMemory to MemoryError
// and every other DeviceError to RuntimeError.
#pragma once
#include <stdexcept>
#include <string>

namespace vidx {

// A CUDA call failed: no usable device, a driver or runtime error, a kernel that failed to
// launch or faulted. The message names the failing call and CUDA's own error text.
class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The device had not enough free memory for an allocation. Memory already taken by the failing
// operation is released before this is thrown.
class DeviceOutOfMemory : public DeviceError {
 public:
  using DeviceError::DeviceError;
};

}  // namespace vidx
