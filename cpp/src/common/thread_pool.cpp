#include "vidx/common/thread_pool.hpp"

#include <algorithm>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/io/positional_io.hpp"

namespace vidx {

size_t hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// The spawned workers of a pool and the job they share.
struct ThreadPool::Crew {
  explicit Crew(size_t threads);
  ~Crew() { stop(); }
  void stop();  // joins every started worker
  void worker_loop(size_t worker);
  void run_share(size_t worker);
  void run(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk);

  std::vector<std::thread> workers;
  std::mutex call_mutex;  // one parallel_for at a time

  std::mutex mutex;
  std::condition_variable wake;
  std::condition_variable done;
  uint64_t generation = 0;
  size_t active = 0;
  bool stopping = false;

  // The job being run.
  const std::function<void(size_t, size_t)>* job = nullptr;
  size_t job_n = 0;
  size_t job_chunk = 1;
  std::atomic<size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
};

ThreadPool::Crew::Crew(size_t total) {
  try {
    workers.reserve(total - 1);
    for (size_t w = 1; w < total; ++w) workers.emplace_back([this, w] { worker_loop(w); });
  } catch (const std::exception& e) {
    // The destructor does not run for a half-built object: stop the workers already started,
    // or their joinable std::threads would terminate the process (or they would wait forever).
    stop();
    throw ResourceError("could not start " + std::to_string(total - 1) + " worker threads (started " +
                        std::to_string(workers.size()) + "): " + e.what() + "; lower threads=");
  }
}

void ThreadPool::Crew::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (auto& t : workers) t.join();
  workers.clear();
}

void ThreadPool::Crew::run_share(size_t worker) {
  for (;;) {
    const size_t begin = next.fetch_add(job_chunk, std::memory_order_relaxed);
    if (begin >= job_n) return;
    const size_t end = std::min(job_n, begin + job_chunk);
    try {
      for (size_t i = begin; i < end; ++i) (*job)(i, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(job_n, std::memory_order_relaxed);  // stop handing out work
      return;
    }
  }
}

void ThreadPool::Crew::worker_loop(size_t worker) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      wake.wait(lock, [&] { return stopping || generation != seen; });
      if (stopping) return;
      seen = generation;
    }
    run_share(worker);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (--active == 0) done.notify_one();
    }
  }
}

void ThreadPool::Crew::run(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk) {
  std::lock_guard<std::mutex> call_lock(call_mutex);
  job = &fn;
  job_n = n;
  job_chunk = chunk;
  next.store(0, std::memory_order_relaxed);
  error = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex);
    active = workers.size();
    ++generation;
  }
  wake.notify_all();
  run_share(0);
  {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return active == 0; });
  }
  job = nullptr;
  if (error) std::rethrow_exception(error);
}

ThreadPool::ThreadPool(size_t threads) : threads_(threads == 0 ? hardware_threads() : threads) {
  if (threads_ > kMaxThreads)
    throw InvalidArgument("threads must be at most " + std::to_string(kMaxThreads) + ", got " + std::to_string(threads_));
  crew_ = std::make_unique<Crew>(threads_);
  owner_process_.store(io::current_process_id(), std::memory_order_release);
}

ThreadPool::~ThreadPool() {
  // In a forked child the crew's threads do not exist: joining them would wait forever, so that
  // crew (a copy of the parent's memory) is left as it is.
  if (owner_process_.load(std::memory_order_acquire) != io::current_process_id()) (void)crew_.release();
}

ThreadPool::Crew& ThreadPool::crew() {
  const uint64_t here = io::current_process_id();
  if (owner_process_.load(std::memory_order_acquire) == here) return *crew_;
  std::lock_guard<std::mutex> lock(fork_mutex_);
  if (owner_process_.load(std::memory_order_acquire) != here) {
    (void)crew_.release();  // the parent's: its threads and locks are not ours (see ~ThreadPool)
    crew_ = std::make_unique<Crew>(threads_);
    owner_process_.store(here, std::memory_order_release);
  }
  return *crew_;
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn, size_t chunk) {
  if (n == 0) return;
  chunk = std::max<size_t>(1, chunk);
  // Not worth waking anyone: run on the calling thread.
  if (threads_ == 1 || n <= chunk) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  crew().run(n, fn, chunk);
}

}  // namespace vidx
