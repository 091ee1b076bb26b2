#include "vidx/common/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "vidx/common/error.hpp"
#include "vidx/common/lazy_threads.hpp"

namespace vidx {

size_t hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

namespace {

// One parallel_for in flight: its caller works on it, helpers join while it has room.
struct Job {
  const std::function<void(size_t, size_t)>* fn = nullptr;
  size_t n = 0;
  size_t chunk = 1;
  std::atomic<size_t> next{0};  // the first index not yet handed out
  std::exception_ptr error;
  std::mutex error_mutex;
  // Guarded by the crew's mutex.
  size_t last_worker = 0;     // the highest worker number a helper may take
  size_t next_worker = 1;     // the number the next helper to join takes (the caller is 0)
  size_t helpers_inside = 0;  // helpers that joined and have not left

  // Takes chunks until none is left (or fn threw, which stops the handing out).
  void run_share(size_t worker) {
    for (;;) {
      const size_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
      if (begin >= n) return;
      const size_t end = std::min(n, begin + chunk);
      try {
        for (size_t i = begin; i < end; ++i) (*fn)(i, worker);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!error) error = std::current_exception();
        next.store(n, std::memory_order_relaxed);
        return;
      }
    }
  }
};

// The helpers every pool of this process shares (never destroyed: see LazyThreads).
class Crew {
 public:
  explicit Crew(uint64_t owner) : owner_process(owner) {}

  const uint64_t owner_process;  // see crew_of_this_process

  void run(Job& job, size_t helpers_wanted) {
    const size_t helpers = helpers_.grow_to(helpers_wanted, [this] { helper_loop(); });
    if (helpers > 0) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        job.last_worker = helpers_wanted;
        open_.push_back(&job);
      }
      if (helpers_wanted >= helpers) {
        work_posted_.notify_all();
      } else {
        for (size_t i = 0; i < helpers_wanted; ++i) work_posted_.notify_one();
      }
    }
    job.run_share(0);
    if (helpers > 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      close(&job);  // no helper joins any more
      helper_left_.wait(lock, [&] { return job.helpers_inside == 0; });
    }
  }

 private:
  void helper_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_posted_.wait(lock, [&] { return !open_.empty(); });
      Job* job = open_.front();
      if (job->next.load(std::memory_order_relaxed) >= job->n) {  // all handed out: its caller ends it
        close(job);
        continue;
      }
      const size_t worker = job->next_worker++;
      if (job->next_worker > job->last_worker) close(job);  // its last helper seat is taken
      ++job->helpers_inside;
      lock.unlock();
      job->run_share(worker);
      lock.lock();
      if (--job->helpers_inside == 0) helper_left_.notify_all();
    }
  }

  // Under mutex_.
  void close(Job* job) {
    const auto at = std::find(open_.begin(), open_.end(), job);
    if (at != open_.end()) open_.erase(at);
  }

  std::mutex mutex_;
  std::condition_variable work_posted_;
  std::condition_variable helper_left_;
  std::deque<Job*> open_;  // jobs helpers may join, oldest first

  LazyThreads helpers_;
};

std::atomic<Crew*> process_crew_{nullptr};  // see crew_of_this_process

}  // namespace

ThreadPool::ThreadPool(size_t threads) : threads_(threads == 0 ? hardware_threads() : threads) {
  if (threads_ > kMaxThreads)
    throw InvalidArgument("threads must be at most " + std::to_string(kMaxThreads) + ", got " + std::to_string(threads_));
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk) {
  if (n == 0) return;
  chunk = std::max<size_t>(1, chunk);
  // Not worth waking anyone: run on the calling thread.
  if (threads_ == 1 || n <= chunk) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  Job job;
  job.fn = &fn;
  job.n = n;
  job.chunk = chunk;
  const size_t useful = (n + chunk - 1) / chunk - 1;  // more helpers than chunks would only wait
  crew_of_this_process(process_crew_).run(job, std::min(threads_ - 1, useful));
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace vidx
