#include "vidx/spann/async_reader.hpp"

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

PreadPool::PreadPool(size_t threads)
    : threads_(threads), owner_process_(io::current_process_id()), queue_(std::make_unique<Queue>()) {
  for (size_t i = 0; i < threads; ++i) queue_->workers.emplace_back([q = queue_.get()] { worker(*q); });
}

PreadPool::~PreadPool() {
  if (!workers_here()) {  // a forked child: see Queue
    (void)queue_.release();
    return;
  }
  {
    std::lock_guard<std::mutex> lock(queue_->mutex);
    queue_->stop = true;
  }
  queue_->cv.notify_all();
  for (auto& t : queue_->workers) t.join();
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

void PreadPool::submit(ReadBatch& batch, std::vector<ReadRequest> requests, const std::string& what) {
  batch.requests_ = std::move(requests);
  batch.errors_.assign(batch.requests_.size(), nullptr);
  batch.done_.assign(batch.requests_.size(), 0);
  batch.finished_.clear();
  batch.finished_.reserve(batch.requests_.size());
  batch.returned_ = 0;
  batch.completed_ = 0;
  batch.what_ = what;
  if (threads_ == 0 || batch.requests_.size() == 1 || !workers_here()) {
    for (uint32_t i = 0; i < batch.requests_.size(); ++i) execute(batch, i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(queue_->mutex);
    for (uint32_t i = 0; i < batch.requests_.size(); ++i) queue_->jobs.push_back(Job{&batch, i});
  }
  queue_->cv.notify_all();
}

void PreadPool::worker(Queue& queue) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(queue.mutex);
      queue.cv.wait(lock, [&] { return queue.stop || !queue.jobs.empty(); });
      if (queue.jobs.empty()) return;
      job = queue.jobs.front();
      queue.jobs.pop_front();
    }
    execute(*job.batch, job.index);
  }
}

}  // namespace vidx::spann
