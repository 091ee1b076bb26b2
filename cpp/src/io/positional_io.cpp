// The portable part of File (positional_io.hpp); the system calls are in platform_*.cpp.
#include "vidx/io/positional_io.hpp"

#include <utility>

#include "vidx/common/error.hpp"
#include "vidx/io/mapped_file.hpp"

namespace vidx::io {

File::~File() { release(); }

File::File(File&& other) noexcept : handle_(other.handle_), path_(std::move(other.path_)), direct_(other.direct_) {
  other.handle_ = kInvalid;
}

File& File::operator=(File&& other) noexcept {
  if (this != &other) {
    release();
    handle_ = other.handle_;
    path_ = std::move(other.path_);
    direct_ = other.direct_;
    other.handle_ = kInvalid;
  }
  return *this;
}

void File::read_exact_at(uint64_t offset, void* dst, size_t n) const {
  const size_t got = read_at(offset, dst, n);
  if (got < n)
    throw IoError("cannot read " + path_ + ": the file ends at offset " + std::to_string(offset + got) +
                  ", before the " + std::to_string(n) + " bytes asked for at offset " + std::to_string(offset));
}

MappedFile::~MappedFile() { release(); }

MappedFile::MappedFile(MappedFile&& other) noexcept { *this = std::move(other); }

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    path_ = std::move(other.path_);
#ifdef _WIN32
    mapping_ = std::exchange(other.mapping_, nullptr);
#endif
  }
  return *this;
}

}  // namespace vidx::io
