// What a fork() copies of an index another thread was using. A child process holds one thread,
// but a copy of every lock: an index lock held (or a lock's own mutex locked) by a thread of the
// parent stays held in the child forever, and the child's next write hung (Python's
// multiprocessing forks on Linux; a pool started while a thread searched hung in its first add,
// remove or compact: graph.md section 40).
//
// So the index locks (WriterFirstMutex, GatedMutex) pass through one gate per process. A fork
// closes it first: new lock requests wait, and the fork waits until every thread inside has
// released its index locks (a thread already inside may take more, so it cannot block on the
// fork). The child then starts with every index lock free and the gate open. A fork that
// cannot wait (a thread stays inside past kFullWait, 10 s, or is blocked on what the forking
// thread holds) goes ahead: in the child the index locks made before it refuse (ResourceError,
// an OSError in Python) instead of hanging.
//
// Python's os.fork() (and multiprocessing's fork) calls close() and parent() / child() through
// os.register_at_fork hooks, which release the GIL while close() waits (the threads it waits
// for may need it for a progress report). Not pthread_atfork: that would also hold up every
// fork-and-exec (subprocess) while a long add runs, where the child never uses an index. C++
// callers that fork() and use an index in the child call the three themselves.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace vidx {

class ForkGate {
 public:
  static constexpr std::chrono::milliseconds kFullWait{10000};

  // The process's gate.
  static ForkGate& get();

  // Around every index lock held. `born` is the generation the lock was made in (generation()):
  // a lock older than a fork that went ahead without waiting throws ResourceError in the child.
  void enter(uint64_t born);
  void leave();
  uint64_t generation() const { return generation_.load(); }
  // Whether a fork is waiting for the calls inside (a progress report then skips the caller's
  // callback: it could wait on a lock another fork hook holds).
  bool closing() const { return closed_.load(); }

  // A whole call that lets its locks go between steps (a concurrent write, a SPANN build or
  // rebuild): a fork waits for all of it, not for one step, and the call never waits at the
  // gate between its steps.
  class Hold {
   public:
    explicit Hold(uint64_t born) { ForkGate::get().enter(born); }
    ~Hold() { ForkGate::get().leave(); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
  };

  // The fork's side: close() waits (up to wait_) until no other thread is inside, then returns
  // with the gate closed; parent() and child() open it again (child() also resets what the
  // other threads left). Forks from two threads at once go one at a time.
  void close();
  void parent();
  void child();
  // How long close() waits (kFullWait unless a test shortens it).
  void set_wait(std::chrono::milliseconds wait) { wait_ = wait; }
  // Runs a wait at the gate (the Python bindings release the GIL around it, for a thread that
  // takes an index lock holding it: the fork needs the GIL back to open the gate).
  using AroundWait = void (*)(void (*wait)(void*), void* state);
  void set_around_wait(AroundWait around) { around_wait_ = around; }

 private:
  ForkGate() = default;
  void leave_count();
  void wait_until_open();

  std::atomic<int64_t> inside_{0};   // lock holds (and requests) by every thread
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> generation_{1};
  std::atomic<uint64_t> refuse_below_{0};  // child only: locks born before this refuse
  std::chrono::milliseconds wait_ = kFullWait;
  AroundWait around_wait_ = nullptr;
  bool waited_out_ = false;         // this fork's close gave up waiting
  std::mutex forking_;              // held from close() to parent() / child(): one fork at a time
  std::mutex mutex_;
  std::condition_variable changed_;
};

// std::mutex behind the gate (write_mutex_: waited on with std::condition_variable_any).
class GatedMutex {
 public:
  void lock() {
    ForkGate::get().enter(born_);
    mutex_.lock();
  }
  bool try_lock() {
    ForkGate::get().enter(born_);
    if (mutex_.try_lock()) return true;
    ForkGate::get().leave();
    return false;
  }
  void unlock() {
    mutex_.unlock();
    ForkGate::get().leave();
  }
  uint64_t born() const { return born_; }

 private:
  std::mutex mutex_;
  uint64_t born_ = ForkGate::get().generation();
};

}  // namespace vidx
