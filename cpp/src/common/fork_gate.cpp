#include "vidx/common/fork_gate.hpp"

#include <new>
#include <string>

#include "vidx/common/error.hpp"

namespace vidx {
namespace {

// Index locks this thread holds (or is requesting) through the gate. A thread already inside
// never waits at the gate: it may hold what the threads the fork waits for need.
thread_local int64_t held_here = 0;

}  // namespace

ForkGate& ForkGate::get() {
  static ForkGate* gate = new ForkGate();  // never destroyed: threads may take index locks during exit
  return *gate;
}

void ForkGate::enter(uint64_t born) {
  if (born < refuse_below_.load())
    throw ResourceError(
        "this index was copied into this process by a fork() while another thread of the parent was still using "
        "it (its call did not end within " + std::to_string(wait_.count()) +
        " ms of the fork), so its copy here may be half-changed; load it from a file in this process, or fork while no other "
        "thread is inside a vidx call");
  if (held_here > 0) {
    ++held_here;
    inside_.fetch_add(1);
    return;
  }
  for (;;) {
    inside_.fetch_add(1);
    if (!closed_.load()) {
      held_here = 1;
      return;
    }
    leave_count();
    if (around_wait_) {
      around_wait_([](void* gate) { static_cast<ForkGate*>(gate)->wait_until_open(); }, this);
    } else {
      wait_until_open();
    }
  }
}

void ForkGate::wait_until_open() {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return !closed_.load(); });
}

void ForkGate::leave() {
  --held_here;
  leave_count();
}

void ForkGate::leave_count() {
  inside_.fetch_sub(1);
  if (closed_.load()) {
    std::lock_guard<std::mutex> lock(mutex_);  // the closer checks inside_ holding it: no lost wake-up
    changed_.notify_all();
  }
}

void ForkGate::close() {
  forking_.lock();
  closed_.store(true);
  std::unique_lock<std::mutex> lock(mutex_);
  waited_out_ = !changed_.wait_for(lock, wait_, [&] { return inside_.load() == held_here; });
}

void ForkGate::parent() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_.store(false);
    waited_out_ = false;
    changed_.notify_all();
  }
  forking_.unlock();
}

void ForkGate::child() {
  // Only this thread exists now: what the others held of the gate's own state is void.
  new (&mutex_) std::mutex();
  new (&changed_) std::condition_variable();
  new (&forking_) std::mutex();
  inside_.store(held_here);
  if (waited_out_) refuse_below_.store(generation_.fetch_add(1) + 1);
  waited_out_ = false;
  closed_.store(false);
}

}  // namespace vidx
