#include "vidx/common/lazy_threads.hpp"

#include <exception>

namespace vidx {

size_t LazyThreads::grow_to(size_t wanted, const std::function<void()>& body) {
  const size_t started = started_.load(std::memory_order_acquire);
  if (started >= wanted) return started;
  std::lock_guard<std::mutex> lock(mutex_);
  if (threads_.size() >= wanted) return threads_.size();
  const auto now = std::chrono::steady_clock::now();
  if (refused_ && now - last_refusal_ < std::chrono::seconds(1)) return threads_.size();
  refused_ = false;
  while (threads_.size() < wanted) {
    try {
      threads_.emplace_back(body);
      started_.store(threads_.size(), std::memory_order_release);
    } catch (const std::exception&) {  // std::system_error: no thread (memory, process limit)
      refused_ = true;
      last_refusal_ = now;
      break;
    }
  }
  return threads_.size();
}

}  // namespace vidx
