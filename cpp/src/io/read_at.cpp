#include "vidx/io/read_at.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace vidx::io {

ptrdiff_t read_at(int fd, void* buffer, size_t n, uint64_t offset) {
  auto* p = static_cast<uint8_t*>(buffer);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, p + done, std::min<size_t>(n - done, size_t(1) << 30),
                              static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return static_cast<ptrdiff_t>(done);
}

}  // namespace vidx::io
