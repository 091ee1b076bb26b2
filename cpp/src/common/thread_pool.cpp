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
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/common/lazy_threads.hpp"

namespace vidx {

size_t hardware_threads() {
  // Asked once: the C library counts the online CPUs from /sys on every call.
  static const size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return cores;
}

namespace {

// One parallel_for in flight: its caller works on it, helpers join while it has work and seats.
struct Job {
  const std::function<void(size_t, size_t)>* fn = nullptr;
  size_t n = 0;
  size_t chunk = 1;
  std::atomic<size_t> next{0};  // the first index not yet handed out
  std::exception_ptr error;
  std::mutex error_mutex;
  // Guarded by the crew's mutex.
  std::vector<size_t> free_seats;  // worker numbers no helper holds now (the caller is 0)
  size_t helpers_inside = 0;       // helpers that joined and have not left

  bool has_work() const { return next.load(std::memory_order_relaxed) < n; }

  // Runs one chunk; false when none was left (or fn threw, which stops the handing out).
  bool run_chunk(size_t worker) {
    const size_t begin = next.fetch_add(chunk, std::memory_order_relaxed);
    if (begin >= n) return false;
    const size_t end = std::min(n, begin + chunk);
    try {
      for (size_t i = begin; i < end; ++i) (*fn)(i, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
      next.store(n, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
};

// The helpers every pool of this process shares (never destroyed: see LazyThreads).
//
// How many: what the calls running at once ask for together (as their pools' own workers used
// to add up), but no more than the cores (or one call's own width beyond them): a hundred
// threads calling one index with threads=0 do not start a hundred crews' worth.
// Who helps whom: a helper joins the open call with the fewest helpers inside, and when another
// call is posted it moves there if that call has two fewer; without that, a call beside a wide
// one ran on its caller alone until the wide one was done (a batch of 300 beside one of 20,000,
// threads=8 on 2 cores, took 9-10x its time; 2.7-2.8x when each index had its own workers).
class Crew {
 public:
  explicit Crew(uint64_t owner) : owner_process(owner) {}

  const uint64_t owner_process;  // see crew_of_this_process

  void run(Job& job, size_t helpers_wanted) {
    const Seats seats(*this, helpers_wanted);
    const size_t limit = std::min(std::max(hardware_threads() - 1, helpers_wanted), ThreadPool::kMaxThreads);
    const size_t helpers = helpers_.grow_to(std::min(seats.wanted_by_all, limit), [this] { helper_loop(); });
    if (helpers > 0) {
      job.free_seats.reserve(helpers_wanted);
      for (size_t w = helpers_wanted; w >= 1; --w) job.free_seats.push_back(w);  // seat 1 is taken first
      {
        std::lock_guard<std::mutex> lock(mutex_);
        open_.push_back(&job);
      }
      posts_.fetch_add(1, std::memory_order_relaxed);
      if (helpers_wanted >= helpers) {
        work_posted_.notify_all();
      } else {
        for (size_t i = 0; i < helpers_wanted; ++i) work_posted_.notify_one();
      }
    }
    while (job.run_chunk(0)) {
    }
    if (helpers > 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      close(&job);  // no helper joins any more
      helper_left_.wait(lock, [&] { return job.helpers_inside == 0; });
    }
  }

 private:
  // A call's helper seats, counted among those of every call running, for as long as it runs.
  struct Seats {
    Seats(Crew& crew, size_t seats) : crew(crew), seats(seats) {
      std::lock_guard<std::mutex> lock(crew.mutex_);
      wanted_by_all = crew.seats_wanted_ += seats;
    }
    ~Seats() {
      std::lock_guard<std::mutex> lock(crew.mutex_);
      crew.seats_wanted_ -= seats;
    }
    Crew& crew;
    const size_t seats;
    size_t wanted_by_all;
  };

  void helper_loop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      Job* job = nullptr;
      work_posted_.wait(lock, [&] { return (job = neediest()) != nullptr; });
      const size_t worker = job->free_seats.back();
      job->free_seats.pop_back();
      ++job->helpers_inside;
      uint64_t seen = posts_.load(std::memory_order_relaxed);
      lock.unlock();
      while (job->run_chunk(worker)) {
        const uint64_t posted = posts_.load(std::memory_order_relaxed);
        if (posted == seen) continue;
        seen = posted;  // another call came: move to it if it needs this helper more
        lock.lock();
        const bool move = another_needs_more(job);
        lock.unlock();
        if (move) break;
      }
      lock.lock();
      job->free_seats.push_back(worker);
      if (--job->helpers_inside == 0) helper_left_.notify_all();
    }
  }

  // Under mutex_: the open job with work left and a free seat that has the fewest helpers inside
  // (the oldest of equals), or null; jobs with no work left are closed on the way.
  Job* neediest() {
    Job* best = nullptr;
    for (auto at = open_.begin(); at != open_.end();) {
      Job* job = *at;
      if (!job->has_work()) {
        at = open_.erase(at);
        continue;
      }
      if (!job->free_seats.empty() && (!best || job->helpers_inside < best->helpers_inside)) best = job;
      ++at;
    }
    return best;
  }

  // Under mutex_: whether an open job other than `job`, with work left and a free seat, has two
  // helpers fewer inside (one helper moving there evens them out).
  bool another_needs_more(const Job* job) const {
    for (const Job* other : open_)
      if (other != job && other->has_work() && !other->free_seats.empty() &&
          other->helpers_inside + 1 < job->helpers_inside)
        return true;
    return false;
  }

  // Under mutex_.
  void close(Job* job) {
    const auto at = std::find(open_.begin(), open_.end(), job);
    if (at != open_.end()) open_.erase(at);
  }

  std::mutex mutex_;
  std::condition_variable work_posted_;
  std::condition_variable helper_left_;
  std::deque<Job*> open_;             // jobs helpers may join, oldest first
  size_t seats_wanted_ = 0;           // helper seats of every call running
  std::atomic<uint64_t> posts_{0};    // jobs posted so far: a helper inside one looks around when it changes

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
