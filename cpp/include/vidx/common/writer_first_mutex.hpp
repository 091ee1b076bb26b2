// A shared mutex that lets a waiting writer in before new readers. std::shared_mutex on glibc
// prefers readers: under a steady stream of concurrent searches, add() waited for seconds
// (2 of 40 adds in 3 s in cpp/tests/stress_concurrent.cpp). Here a writer that asks stops new
// readers from entering, so it waits only for the searches already running.
// Not recursive: a thread holding it shared must not take it shared again. Every hold passes
// through the process's ForkGate (fork_gate.hpp), so a fork never copies it held.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "vidx/common/fork_gate.hpp"

namespace vidx {

class WriterFirstMutex {
 public:
  void lock() {
    ForkGate::get().enter(born_);
    std::unique_lock<std::mutex> guard(mutex_);
    ++writers_waiting_;
    writer_turn_.wait(guard, [&] { return !writer_ && readers_ == 0; });
    --writers_waiting_;
    writer_ = true;
  }
  bool try_lock() {
    ForkGate::get().enter(born_);
    std::lock_guard<std::mutex> guard(mutex_);
    if (writer_ || readers_ != 0) {
      ForkGate::get().leave();
      return false;
    }
    writer_ = true;
    return true;
  }
  void unlock() {
    {
      std::lock_guard<std::mutex> guard(mutex_);
      writer_ = false;
    }
    writer_turn_.notify_one();
    reader_turn_.notify_all();
    ForkGate::get().leave();
  }

  void lock_shared() {
    ForkGate::get().enter(born_);
    std::unique_lock<std::mutex> guard(mutex_);
    reader_turn_.wait(guard, [&] { return !writer_ && writers_waiting_ == 0; });
    ++readers_;
  }
  bool try_lock_shared() {
    ForkGate::get().enter(born_);
    std::lock_guard<std::mutex> guard(mutex_);
    if (writer_ || writers_waiting_ != 0) {
      ForkGate::get().leave();
      return false;
    }
    ++readers_;
    return true;
  }
  void unlock_shared() {
    bool last;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      last = --readers_ == 0;
    }
    if (last) writer_turn_.notify_one();
    ForkGate::get().leave();
  }

 private:
  std::mutex mutex_;
  std::condition_variable writer_turn_;
  std::condition_variable reader_turn_;
  size_t readers_ = 0;
  size_t writers_waiting_ = 0;
  bool writer_ = false;
  uint64_t born_ = ForkGate::get().generation();
};

}  // namespace vidx
