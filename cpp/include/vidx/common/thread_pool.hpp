// The one thread pool an index owns. C++ owns its threads (no OpenMP), so the library
// behaves the same on every platform and never fights the host program's runtime.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vidx {

// Number of threads that "0 = all cores" stands for.
size_t hardware_threads();

class ThreadPool {
 public:
  // More threads than this is a mistake, not a wish (InvalidArgument).
  static constexpr size_t kMaxThreads = 4096;

  // threads == 0 means all cores. The calling thread works too, so `threads - 1` are spawned.
  // Throws ResourceError, with every started thread joined again, when the system refuses one.
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size() + 1; }

  // Runs fn(i, worker) for every i in [0, n), handing out `chunk` indices at a time.
  // `worker` is in [0, size()) and unique among the concurrently running calls of fn, so it
  // can index per-thread scratch. Calls from several threads are serialised; fn must not
  // call parallel_for on the same pool. The first exception thrown by fn is rethrown here
  // after all workers stopped.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk = 1);

 private:
  void stop_workers();  // joins every started worker
  void worker_loop(size_t worker);
  void run_share(size_t worker);

  std::vector<std::thread> workers_;
  std::mutex call_mutex_;  // one parallel_for at a time

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  uint64_t generation_ = 0;
  size_t active_ = 0;
  bool stop_ = false;

  // The job being run.
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0;
  size_t job_chunk_ = 1;
  std::atomic<size_t> next_{0};
  std::exception_ptr error_;
  std::mutex error_mutex_;
};

}  // namespace vidx
