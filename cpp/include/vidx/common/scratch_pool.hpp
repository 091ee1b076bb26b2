// Per-search scratch (visited sets, read buffers) kept between searches: a search takes one,
// uses it alone and gives it back, so concurrent searches never share one and a steady stream
// of searches stops allocating once every thread has had its own.
#pragma once
#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace vidx {

template <class Scratch>
class ScratchPool {
 public:
  // A free one, or a new default-constructed one when every one is in use.
  std::unique_ptr<Scratch> take() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        std::unique_ptr<Scratch> scratch = std::move(free_.back());
        free_.pop_back();
        return scratch;
      }
    }
    return std::make_unique<Scratch>();
  }

  void give_back(std::unique_ptr<Scratch> scratch) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(scratch));
  }

  // Drops the free ones (their sizes were fitted to an index that has changed).
  void clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.clear();
  }

  // The sum of bytes_of(scratch) over the free ones, for memory_usage().
  template <class BytesOf>
  size_t memory(BytesOf bytes_of) const {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t bytes = 0;
    for (const auto& scratch : free_) bytes += bytes_of(*scratch);
    return bytes;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Scratch>> free_;
};

}  // namespace vidx
