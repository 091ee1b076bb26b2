// When may a removed node's memory be reused? Once no reader can still hold it. A search (or
// an insert's neighbour search) that began before the graph stopped linking to the node may
// still be standing on it; one that began after cannot reach it. Readers enter a phase (one of
// two counters); wait_for_readers() flips the phase and waits until the readers of the old one
// have left, so it never waits on readers that arrived after it started (no starvation).
#pragma once
#include <atomic>
#include <cstdint>
#include <thread>

namespace vidx {
namespace graph {

class GracePeriod {
 public:
  class Reader {
   public:
    explicit Reader(GracePeriod& g) : g_(g) {
      // Re-check the phase after registering: a flip in between would otherwise be missed
      // by the waiter, which may already have seen this phase's counter at zero.
      for (;;) {
        phase_ = g_.phase_.load();
        g_.readers_[phase_ & 1].fetch_add(1);
        if (g_.phase_.load() == phase_) break;
        g_.readers_[phase_ & 1].fetch_sub(1);
      }
    }
    ~Reader() { g_.readers_[phase_ & 1].fetch_sub(1); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

   private:
    GracePeriod& g_;
    uint32_t phase_ = 0;
  };

  // Returns once every reader that entered before this call has left. Calls must not overlap
  // (callers serialise them), and the caller must not be a reader itself.
  void wait_for_readers() {
    const uint32_t old = flip();
    while (!left(old)) std::this_thread::yield();
  }

  // The same in two steps, for a caller that must not wait (RetiredSlots): flip() starts a
  // new phase and returns the old one; left(old) says whether its readers have all left. The
  // next flip() must wait until left() of the previous one is true.
  uint32_t flip() { return phase_.fetch_add(1); }
  bool left(uint32_t old) const { return readers_[old & 1].load() == 0; }

 private:
  std::atomic<uint32_t> phase_{0};
  std::atomic<uint64_t> readers_[2]{};
};

}  // namespace graph
}  // namespace vidx
