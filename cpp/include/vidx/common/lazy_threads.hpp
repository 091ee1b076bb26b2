// What the process-wide crews (the helpers of thread_pool.cpp, the posting readers of
// spann/async_reader.cpp) share: threads started as work first needs them and kept until the
// process ends, and one crew per process that a forked child replaces with its own.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "vidx/io/positional_io.hpp"

namespace vidx {

// Threads running one body, never joined: they wait for work until the process ends (as an
// OpenMP team does), so no exit path waits for one.
class LazyThreads {
 public:
  // Starts threads running `body` until `wanted` exist, or until the system refuses one;
  // returns how many exist. After a refusal no start is tried for a second (a refused start is
  // not free, and a call that asks again at once would only be refused again).
  size_t grow_to(size_t wanted, const std::function<void()>& body);

 private:
  std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::atomic<size_t> started_{0};  // threads_.size(), read without the lock
  bool refused_ = false;
  std::chrono::steady_clock::time_point last_refusal_;
};

// The process's one Crew, made on first use as Crew(process id) and never destroyed. A child
// made by fork() has none of its parent's threads, and its copy of the parent's crew may hold
// locks taken by threads that are gone: the child leaves that copy as it is and makes its own.
// Crew has a public `const uint64_t owner_process`.
template <class Crew>
Crew& crew_of_this_process(std::atomic<Crew*>& slot) {
  const uint64_t here = io::current_process_id();
  Crew* crew = slot.load(std::memory_order_acquire);
  if (crew && crew->owner_process == here) return *crew;
  Crew* made = new Crew(here);
  // Two threads of one process may both get here first: one crew wins, the other is dropped
  // (it has started no thread yet).
  if (slot.compare_exchange_strong(crew, made, std::memory_order_acq_rel)) return *made;
  delete made;
  if (crew->owner_process == here) return *crew;
  return crew_of_this_process(slot);  // lost to a thread that replaced a parent's crew: that one is ours
}

}  // namespace vidx
