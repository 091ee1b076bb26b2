#include "vidx/common/lazy_threads.hpp"

#include <exception>

#if defined(__linux__)
#include <sched.h>
#include <unistd.h>
#endif

namespace vidx {

namespace {

// A new thread inherits the CPU mask of the thread that starts it. A crew serves every index of
// the process for as long as it lives, so its threads take the main thread's mask instead (the
// process's, as taskset or os.sched_setaffinity from the main thread set it): a thread that
// pinned itself to one CPU and made the first call would otherwise pin every helper there.
void take_the_main_threads_cpus() {
#if defined(__linux__)
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(getpid(), sizeof(cpus), &cpus) == 0) (void)sched_setaffinity(0, sizeof(cpus), &cpus);
#endif
}

}  // namespace

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
      threads_.emplace_back([body] {
        take_the_main_threads_cpus();
        body();
      });
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
