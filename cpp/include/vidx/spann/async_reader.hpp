// Posting reads issued all at once: a query hands every read it needs to the reader and
// then handles each list as soon as it has arrived (or, where its answer would depend on the
// order, as soon as it and the lists before it have). The reader is a pool of threads doing
// pread (blocking reads overlap across threads; with O_DIRECT each goes straight to the
// device). io_uring can replace it behind the same interface.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

#include "vidx/io/positional_io.hpp"

namespace vidx::spann {

struct ReadRequest {
  const io::File* file = nullptr;
  void* buffer = nullptr;  // page-aligned for O_DIRECT
  size_t length = 0;       // a multiple of the page size for O_DIRECT
  uint64_t offset = 0;
};

// The reads of one query. Requests come out of wait_next() as they complete, or in the order
// they were submitted (each once complete) where the caller's answer could depend on the order
// (a screened scan: QueryDistance::screens).
class ReadBatch {
 public:
  ReadBatch() = default;
  ~ReadBatch();  // waits for reads still in flight (they write into the caller's buffers)
  ReadBatch(const ReadBatch&) = delete;
  ReadBatch& operator=(const ReadBatch&) = delete;
  // Index of the next completed request (in_order: the next in submission order, once it has
  // completed); -1 when all have been returned. Throws IoError for a read that failed or came
  // back short (the message names `what` and the request).
  long wait_next(bool in_order = false);
  size_t size() const { return requests_.size(); }

 private:
  friend class PreadPool;
  std::vector<ReadRequest> requests_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<uint8_t> done_;       // by request: completed
  std::vector<uint32_t> finished_;  // completed, in completion order (returned up to returned_)
  std::vector<std::exception_ptr> errors_;  // per request: null, or why it failed
  size_t returned_ = 0;
  size_t completed_ = 0;
  std::string what_;
};

// How an index hands its reads to the process's readers. Every PreadPool of a process shares
// one crew of reader threads, started as reads first need them (up to the most any pool asked
// for) and kept for the life of the process: a process with a hundred SPANN indexes (or a sharded
// index's shards) holds 16 readers, not 1,600. A reader the system refuses to start is no error:
// with none at all, reads run on the calling thread.
class PreadPool {
 public:
  // threads == 0: reads run on the calling thread inside submit(). Starts no thread.
  explicit PreadPool(size_t threads) : threads_(threads) {}
  PreadPool(const PreadPool&) = delete;
  PreadPool& operator=(const PreadPool&) = delete;

  // Starts all reads of `batch` (requests moved in); `what` names the file in errors.
  void submit(ReadBatch& batch, std::vector<ReadRequest> requests, const std::string& what);
  size_t threads() const { return threads_; }

 private:
  class Readers;  // the process's reader threads and their queue (async_reader.cpp)
  static Readers& readers();
  // Runs one read and records its outcome in the batch.
  static void execute(ReadBatch& batch, uint32_t index);

  size_t threads_;
};

}  // namespace vidx::spann
