// The one thread pool an index owns. C++ owns its threads (no OpenMP), so the library
// behaves the same on every platform and never fights the host program's runtime.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
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

  size_t size() const { return threads_; }

  // Runs fn(i, worker) for every i in [0, n), handing out `chunk` indices at a time.
  // `worker` is in [0, size()) and unique among the concurrently running calls of fn, so it
  // can index per-thread scratch. Calls from several threads are serialised; fn must not
  // call parallel_for on the same pool. The first exception thrown by fn is rethrown here
  // after all workers stopped.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk = 1);

 private:
  struct Crew;  // the worker threads and what they share (thread_pool.cpp)
  // This process's crew. A child made by fork() has none of its parent's threads: the first
  // call there starts a crew of its own (multiprocessing's workers on Linux used to hang).
  Crew& crew();

  size_t threads_;
  std::unique_ptr<Crew> crew_;
  std::atomic<uint64_t> owner_process_{0};  // the process crew_'s threads live in
  std::mutex fork_mutex_;                    // one thread of a child replaces the crew
};

}  // namespace vidx
