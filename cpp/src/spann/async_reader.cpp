#include "vidx/spann/async_reader.hpp"

#include "vidx/common/error.hpp"

namespace vidx::spann {

ReadBatch::~ReadBatch() {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] { return completed_ == requests_.size(); });
}

long ReadBatch::wait_next() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (returned_ == requests_.size()) return -1;
  cv_.wait(lock, [&] { return !done_.empty(); });
  const uint32_t i = done_.back();
  done_.pop_back();
  ++returned_;
  if (errors_[i]) {
    // Let the other reads finish before the caller frees the buffers they write into.
    cv_.wait(lock, [&] { return completed_ == requests_.size(); });
    std::rethrow_exception(errors_[i]);
  }
  return static_cast<long>(i);
}

PreadPool::PreadPool(size_t threads) {
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker(); });
}

PreadPool::~PreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
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
    batch.done_.push_back(index);
    ++batch.completed_;
    // Notified under the lock: the batch may be destroyed as soon as the lock is released.
    batch.cv_.notify_all();
  }
}

void PreadPool::submit(ReadBatch& batch, std::vector<ReadRequest> requests, const std::string& what) {
  batch.requests_ = std::move(requests);
  batch.errors_.assign(batch.requests_.size(), nullptr);
  batch.done_.clear();
  batch.done_.reserve(batch.requests_.size());
  batch.returned_ = 0;
  batch.completed_ = 0;
  batch.what_ = what;
  if (workers_.empty() || batch.requests_.size() == 1) {
    for (uint32_t i = 0; i < batch.requests_.size(); ++i) execute(batch, i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (uint32_t i = 0; i < batch.requests_.size(); ++i) queue_.push_back(Job{&batch, i});
  }
  cv_.notify_all();
}

void PreadPool::worker() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = queue_.front();
      queue_.pop_front();
    }
    execute(*job.batch, job.index);
  }
}

}  // namespace vidx::spann
