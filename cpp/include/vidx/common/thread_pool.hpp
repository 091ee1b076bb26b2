// How an index runs work on several threads. C++ owns its threads (no OpenMP), so the library
// behaves the same on every platform and never fights the host program's runtime.
//
// Every ThreadPool of a process shares one crew of helper threads, started as calls first need
// them (as many as the calls running at once ask for, up to the cores) and kept for the life of
// the process (as an OpenMP runtime keeps its team): on a 64-core host a thousand indexes of 64
// threads hold at most 63 helpers, not 63,000. A pool is a cap on how many threads one call
// may use; calls running at once share the helpers evenly. The calling thread always works, so
// a call finishes even when no helper is free or the system refused to start one: a refused
// thread slows a call down and never fails it (no write is left half-done for lack of a thread).
#pragma once
#include <cstddef>
#include <functional>

namespace vidx {

// Number of threads that "0 = all cores" stands for.
size_t hardware_threads();

class ThreadPool {
 public:
  // More threads than this is a mistake, not a wish (InvalidArgument).
  static constexpr size_t kMaxThreads = 4096;

  // threads == 0 means all cores. The calling thread works too, so a call takes up to
  // `threads - 1` helpers from the process's crew. Starts no thread.
  explicit ThreadPool(size_t threads = 0);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return threads_; }

  // Runs fn(i, worker) for every i in [0, n), handing out `chunk` indices at a time.
  // `worker` is in [0, size()) and unique among the concurrently running calls of fn in this
  // call, so it can index the call's per-thread scratch; which thread runs which i is not fixed.
  // Calls from several threads (on one pool or on several) run at once and share the helpers;
  // fn may itself call parallel_for. The first exception thrown by fn is rethrown here after
  // every thread left this call.
  void parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk = 1);

 private:
  size_t threads_;
};

}  // namespace vidx
