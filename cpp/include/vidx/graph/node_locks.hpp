// Per-node write locks of a graph that several writers change at once (concurrent add and
// remove). Striped: node s uses lock s % kStripes, so memory stays fixed whatever the graph
// size. A writer holds at most one at a time (its own list, or the one target it links back
// to), so they cannot deadlock. Readers never take them: they read link words atomically
// (graph/link_words.hpp).
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <thread>

namespace vidx {
namespace graph {

class NodeLocks {
 public:
  static constexpr size_t kStripes = 4096;  // a power of two

  class Guard {
   public:
    Guard(NodeLocks& locks, uint32_t node) : flag_(locks.flags_[node & (kStripes - 1)]) {
      // Lists are short (tens of links): spin briefly, then yield, since the holder may be a
      // thread the scheduler parked on a busy machine.
      for (unsigned spins = 0; flag_.exchange(true, std::memory_order_acquire); ++spins) {
        while (flag_.load(std::memory_order_relaxed)) {
          if (++spins > 64) std::this_thread::yield();
        }
      }
    }
    ~Guard() { flag_.store(false, std::memory_order_release); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

   private:
    std::atomic<bool>& flag_;
  };

 private:
  std::array<std::atomic<bool>, kStripes> flags_{};
};

}  // namespace graph
}  // namespace vidx
