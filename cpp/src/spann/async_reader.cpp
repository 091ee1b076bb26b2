#include "vidx/spann/async_reader.hpp"

#include <atomic>
#include <deque>
#include <new>

#include "vidx/common/error.hpp"
#include "vidx/common/lazy_threads.hpp"

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

// The reader threads every PreadPool of the process shares, and the reads waiting for them
// (never destroyed: see LazyThreads).
class PreadPool::Readers {
 public:
  explicit Readers(uint64_t owner) : owner_process(owner) {}

  const uint64_t owner_process;  // see crew_of_this_process

  size_t grow_to(size_t wanted) { return threads_.grow_to(wanted, [this] { read_loop(); }); }

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

  LazyThreads threads_;
};

PreadPool::Readers& PreadPool::readers() {
  static std::atomic<Readers*> process_readers{nullptr};
  return crew_of_this_process(process_readers);
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
