// Positional reads that finish: pread retried on EINTR and on short reads until `n` bytes
// or the end of the file.
#pragma once
#include <cstddef>
#include <cstdint>

namespace vidx::io {

// Bytes read (less than n only at the end of the file), or -1 with errno set.
ptrdiff_t read_at(int fd, void* buffer, size_t n, uint64_t offset);

}  // namespace vidx::io
