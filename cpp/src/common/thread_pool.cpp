#include "vidx/common/thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/io/positional_io.hpp"

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

// The helpers every pool of this process shares. Never destroyed: helpers sleep until the
// process ends, as an OpenMP team does, so no exit path has to wait for a thread.
class Crew {
 public:
  explicit Crew(uint64_t owner) : owner_process(owner) {}

  const uint64_t owner_process;  // a forked child has none of these threads: it makes its own crew

  void run(Job& job, size_t helpers_wanted) {
    const size_t helpers = grow_to(helpers_wanted);
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
  // Starts helpers until `wanted` exist, or until the system refuses one; returns how many
  // exist. After a refusal no start is tried for a second (a refused start is not free).
  size_t grow_to(size_t wanted) {
    const size_t started = started_.load(std::memory_order_acquire);
    if (started >= wanted) return started;
    std::lock_guard<std::mutex> lock(grow_mutex_);
    if (helpers_.size() >= wanted) return helpers_.size();
    const auto now = std::chrono::steady_clock::now();
    if (refused_ && now - last_refusal_ < std::chrono::seconds(1)) return helpers_.size();
    refused_ = false;
    while (helpers_.size() < wanted) {
      try {
        helpers_.emplace_back([this] { helper_loop(); });
        started_.store(helpers_.size(), std::memory_order_release);
      } catch (const std::exception&) {  // std::system_error: no thread (memory, process limit)
        refused_ = true;
        last_refusal_ = now;
        break;
      }
    }
    return helpers_.size();
  }

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

  std::mutex grow_mutex_;
  std::vector<std::thread> helpers_;  // never joined (see the class comment)
  std::atomic<size_t> started_{0};    // helpers_.size(), read without the lock
  bool refused_ = false;
  std::chrono::steady_clock::time_point last_refusal_;
};

std::atomic<Crew*> process_crew_{nullptr};

// This process's crew. A child made by fork() has none of its parent's threads, and the copy of
// the parent's crew may hold locks taken by threads that are gone: the child leaves that copy as
// it is and starts a crew of its own (multiprocessing's workers on Linux used to hang).
Crew& process_crew() {
  const uint64_t here = io::current_process_id();
  Crew* crew = process_crew_.load(std::memory_order_acquire);
  if (crew && crew->owner_process == here) return *crew;
  Crew* made = new Crew(here);
  // Two threads of one process may both get here first: one crew wins, the other is dropped
  // (it has started no thread yet).
  if (process_crew_.compare_exchange_strong(crew, made, std::memory_order_acq_rel)) return *made;
  delete made;
  if (crew->owner_process == here) return *crew;
  return process_crew();  // lost to a thread that replaced a parent's crew: that one is ours
}

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
  process_crew().run(job, std::min(threads_ - 1, useful));
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace vidx
