#include "vidx/spann/async_reader.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <new>
#include <thread>

#include "vidx/common/error.hpp"

namespace vidx::spann {

ReadBatch::~ReadBatch() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return completed_ == requests_.size(); });
}

long ReadBatch::wait_next(bool in_order) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (returned_ == requests_.size()) return -1;
  size_t i = 0;
  if (in_order) {
    i = returned_;
    cv_.wait(lock, [&] { return done_[i] != 0; });
  } else {
    cv_.wait(lock, [&] { return finished_.size() > returned_; });
    i = finished_[returned_];
  }
  ++returned_;
  if (errors_[i]) {
    // Let the other reads finish before the caller frees the buffers they write into.
    cv_.wait(lock, [&] { return completed_ == requests_.size(); });
    std::rethrow_exception(errors_[i]);
  }
  return static_cast<long>(i);
}

void PreadPool::execute(ReadBatch& batch, uint32_t index) {
  const ReadRequest& r = batch.requests_[index];
  std::exception_ptr err;
  try {
    if (r.file->read_at(r.offset, r.buffer, r.length) < r.length)
      throw FileFormatError(batch.what_ + " is truncated: a posting read of " + std::to_string(r.length) +
                            " bytes at offset " + std::to_string(r.offset) + " came back short");
  } catch (...) {  // IoError from the read, or the short read above; handed to wait_next()
    err = std::current_exception();
  }
  {
    std::lock_guard<std::mutex> lock(batch.mutex_);
    batch.errors_[index] = err;
    batch.done_[index] = 1;
    batch.finished_.push_back(index);
    ++batch.completed_;
    // Notified under the lock: the batch may be destroyed as soon as the lock is released.
    batch.cv_.notify_all();
  }
}

// The reader threads every PreadPool of the process shares, and the reads waiting for them.
// Never destroyed: readers sleep until the process ends, so no exit path waits for a thread.
class PreadPool::Readers {
 public:
  explicit Readers(uint64_t owner) : owner_process(owner) {}

  const uint64_t owner_process;  // a forked child has none of these threads: it makes its own

  // Starts readers until `wanted` exist, or until the system refuses one; returns how many
  // exist. After a refusal no start is tried for a second (a refused start is not free).
  size_t grow_to(size_t wanted) {
    const size_t started = started_.load(std::memory_order_acquire);
    if (started >= wanted) return started;
    std::lock_guard<std::mutex> lock(grow_mutex_);
    if (threads_.size() >= wanted) return threads_.size();
    const auto now = std::chrono::steady_clock::now();
    if (refused_ && now - last_refusal_ < std::chrono::seconds(1)) return threads_.size();
    refused_ = false;
    while (threads_.size() < wanted) {
      try {
        threads_.emplace_back([this] { read_loop(); });
        started_.store(threads_.size(), std::memory_order_release);
      } catch (const std::exception&) {  // std::system_error: no thread (memory, process limit)
        refused_ = true;
        last_refusal_ = now;
        break;
      }
    }
    return threads_.size();
  }

  // Queues the batch's reads; returns how many it queued (fewer when the queue could not grow:
  // the caller runs the others, or the batch would wait for them forever).
  uint32_t post(ReadBatch& batch) {
    uint32_t queued = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      try {
        for (; queued < batch.requests_.size(); ++queued) queue_.push_back(Read{&batch, queued});
      } catch (const std::bad_alloc&) {
      }
    }
    posted_.notify_all();
    return queued;
  }

 private:
  struct Read {
    ReadBatch* batch;
    uint32_t index;
  };

  void read_loop() {
    for (;;) {
      Read read;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        posted_.wait(lock, [&] { return !queue_.empty(); });
        read = queue_.front();
        queue_.pop_front();
      }
      execute(*read.batch, read.index);
    }
  }

  std::mutex mutex_;
  std::condition_variable posted_;
  std::deque<Read> queue_;

  std::mutex grow_mutex_;
  std::vector<std::thread> threads_;  // never joined (see the class comment)
  std::atomic<size_t> started_{0};    // threads_.size(), read without the lock
  bool refused_ = false;
  std::chrono::steady_clock::time_point last_refusal_;
};

// This process's readers. A child made by fork() has none of its parent's threads, and the copy
// of the parent's queue may hold a lock taken by a thread that is gone: the child leaves that copy
// as it is and starts readers of its own.
PreadPool::Readers& PreadPool::readers() {
  static std::atomic<Readers*> process_readers_{nullptr};
  const uint64_t here = io::current_process_id();
  Readers* readers = process_readers_.load(std::memory_order_acquire);
  if (readers && readers->owner_process == here) return *readers;
  Readers* made = new Readers(here);
  // Two threads of one process may both get here first: one wins, the other's is dropped (it has
  // started no thread yet).
  if (process_readers_.compare_exchange_strong(readers, made, std::memory_order_acq_rel)) return *made;
  delete made;
  if (readers->owner_process == here) return *readers;
  return PreadPool::readers();  // lost to a thread that replaced a parent's readers: those are ours
}

void PreadPool::submit(ReadBatch& batch, std::vector<ReadRequest> requests, const std::string& what) {
  batch.requests_ = std::move(requests);
  batch.errors_.assign(batch.requests_.size(), nullptr);
  batch.done_.assign(batch.requests_.size(), 0);
  batch.finished_.clear();
  batch.finished_.reserve(batch.requests_.size());
  batch.returned_ = 0;
  batch.completed_ = 0;
  batch.what_ = what;
  Readers* crew = nullptr;
  if (threads_ > 0 && batch.requests_.size() > 1) {
    crew = &readers();
    if (crew->grow_to(threads_) == 0) crew = nullptr;  // none could start: read here
  }
  const uint32_t queued = crew ? crew->post(batch) : 0;
  for (uint32_t i = queued; i < batch.requests_.size(); ++i) execute(batch, i);
}

}  // namespace vidx::spann
