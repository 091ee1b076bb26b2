#include "vidx/io/read_at.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "vidx/common/error.hpp"

namespace vidx::io {

int open_for_reading(const std::string& path, uint64_t* size) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw FileNotFound("no such file: " + path);
    throw IoError("cannot open " + path + ": " + std::generic_category().message(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    ::close(fd);
    throw IoError("cannot read " + path + ": " + (err ? std::generic_category().message(err) : "not a regular file"));
  }
  *size = static_cast<uint64_t>(st.st_size);
  return fd;
}

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
