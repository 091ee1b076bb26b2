#include "vidx/common/thread_pool.hpp"

#include <algorithm>
#include <string>

#include "vidx/common/error.hpp"

namespace vidx {

size_t hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

ThreadPool::ThreadPool(size_t threads) {
  const size_t total = threads == 0 ? hardware_threads() : threads;
  if (total > kMaxThreads)
    throw InvalidArgument("threads must be at most " + std::to_string(kMaxThreads) + ", got " + std::to_string(total));
  try {
    workers_.reserve(total - 1);
    for (size_t w = 1; w < total; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
  } catch (const std::exception& e) {
    // The destructor does not run for a half-built object: stop the workers already started,
    // or their joinable std::threads would terminate the process (or they would wait forever).
    stop_workers();
    throw ResourceError("could not start " + std::to_string(total - 1) + " worker threads (started " +
                        std::to_string(workers_.size()) + "): " + e.what() + "; lower threads=");
  }
}

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::run_share(size_t worker) {
  for (;;) {
    const size_t begin = next_.fetch_add(job_chunk_, std::memory_order_relaxed);
    if (begin >= job_n_) return;
    const size_t end = std::min(job_n_, begin + job_chunk_);
    try {
      for (size_t i = begin; i < end; ++i) (*job_)(i, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
      next_.store(job_n_, std::memory_order_relaxed);  // stop handing out work
      return;
    }
  }
}

void ThreadPool::worker_loop(size_t worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_share(worker);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (--active_ == 0) done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk) {
  if (n == 0) return;
  chunk = std::max<size_t>(1, chunk);
  // Not worth waking anyone: run on the calling thread.
  if (workers_.empty() || n <= chunk) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  std::lock_guard<std::mutex> call_lock(call_mutex_);
  job_ = &fn;
  job_n_ = n;
  job_chunk_ = chunk;
  next_.store(0, std::memory_order_relaxed);
  error_ = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    active_ = workers_.size();
    ++generation_;
  }
  wake_.notify_all();
  run_share(0);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return active_ == 0; });
  }
  job_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace vidx
