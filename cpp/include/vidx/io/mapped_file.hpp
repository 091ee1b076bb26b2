// A whole file mapped into memory, for indexes used in place (vidx.load(path, mmap=True)):
// pages are read from the file when first touched, and the kernel may drop them again, so
// memory grows only with the pages a search visits.
//
// The mapping is private copy-on-write (MAP_PRIVATE / FILE_MAP_COPY) rather than read-only:
// a store through it changes this process's copy of the page, never the file, and never
// faults. vidx refuses writes to a mapped index before they reach the structure; copy-on-write
// only makes a missed check harmless instead of a crash.
// POSIX code is in platform_posix.cpp, Windows code in platform_windows.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace vidx::io {

class MappedFile {
 public:
  // Maps all of `path`. FileNotFound / IoError (naming the path and the system's reason);
  // an empty file maps to data() == nullptr, size() == 0.
  static MappedFile map(const std::string& path);

  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Hints that [offset, offset + n) is read at random (a graph walk): no read-ahead, so a
  // search brings in the pages it touches and not their neighbours. A hint; failure is ignored.
  void advise_random(size_t offset, size_t n) const noexcept;
  // Hints that [offset, offset + n) is about to be read whole (a section copied into memory):
  // the kernel starts reading all of it at once instead of one read-ahead window per fault,
  // which is most of a cold load's time. A hint; failure is ignored.
  void advise_willneed(size_t offset, size_t n) const noexcept;

 private:
  void release() noexcept;

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
#ifdef _WIN32
  void* mapping_ = nullptr;  // the file-mapping object's HANDLE
#endif
};

}  // namespace vidx::io
