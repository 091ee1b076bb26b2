// A thread_local buffer that a search reuses is released after a search that grew it large.
// Most searches need a few kilobytes, but one for every row (k, or a range, as large as the
// index) grows it to the index's size; the process's helper threads outlive every index, so
// without this each would keep such a buffer for good (17 bytes a row, measured).
#pragma once
#include <cstddef>
#include <vector>

namespace vidx {

inline constexpr size_t kKeptScratchBytes = size_t{1} << 20;

template <class T>
class ShrinkWhenDone {
 public:
  explicit ShrinkWhenDone(std::vector<T>& buffer) : buffer_(buffer) {}
  ~ShrinkWhenDone() {
    if (buffer_.capacity() * sizeof(T) > kKeptScratchBytes) std::vector<T>().swap(buffer_);
  }
  ShrinkWhenDone(const ShrinkWhenDone&) = delete;
  ShrinkWhenDone& operator=(const ShrinkWhenDone&) = delete;

 private:
  std::vector<T>& buffer_;
};

}  // namespace vidx
