// Opening files to read, and positional reads that finish: pread retried on EINTR and on short reads until `n` bytes
// or the end of the file.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vidx::io {

// Opens a regular file read-only and says its size; FileNotFound ("no such file: <path>") or
// IoError with the system's reason otherwise. The caller closes the descriptor.
int open_for_reading(const std::string& path, uint64_t* size);

// Bytes read (less than n only at the end of the file), or -1 with errno set.
ptrdiff_t read_at(int fd, void* buffer, size_t n, uint64_t offset);

}  // namespace vidx::io
