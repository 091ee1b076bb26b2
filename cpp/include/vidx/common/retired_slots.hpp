// When may the slot of a removed row hold another row? Once no search call that could still
// name it has ended. A search call resolves its filters to slots when it starts and turns the
// slots it found into ids when it ends; a removed slot reused by an add in between would turn
// into the new row's id: an id outside the call's filter, or an id reported with the distance
// of the row it replaced (a batch of 2,000 queries beside removes and adds: 8% of its results,
// graph.md section 40). So the base keeps removed slots back from reuse ("retired") until every
// search call that began before their removal has ended.
//
// It never waits. Search calls are readers of a graph::GracePeriod; a writer that retires slots
// flips its phase, and the slots are freed by the first write that finds the old phase's calls
// gone. While no search runs they are freed at once, so a single-threaded caller sees slots
// reused exactly as before.
//
// Threads: Call objects on any thread; retire, collect and collect_all from one writer at a
// time (the index's write_mutex_), collect_all only while no Call can exist.
#pragma once
#include <cstdint>
#include <vector>

#include "vidx/graph/grace_period.hpp"

namespace vidx {

class RetiredSlots {
 public:
  // A search call, from before it reads its first slot to after it reads its last.
  class Call {
   public:
    explicit Call(const RetiredSlots& r) : reading_(r.calls_) {}

   private:
    graph::GracePeriod::Reader reading_;
  };

  // Slots whose rows were just removed (their labels already hidden). Freed by a later collect.
  void retire(const uint32_t* slots, size_t n) { waiting_.insert(waiting_.end(), slots, slots + n); }

  // Frees (release(const std::vector<uint32_t>&)) the retired slots no search call can still
  // name, and starts the wait for the others.
  template <class Release>
  void collect(Release&& release) {
    if (draining_ && calls_.left(draining_phase_)) finish(release);
    if (!draining_ && !waiting_.empty()) {
      // Calls that enter from here on see the slots' labels hidden: only those of the old
      // phase may name them.
      draining_phase_ = calls_.flip();
      draining_ = true;
      held_.swap(waiting_);
      if (calls_.left(draining_phase_)) finish(release);
    }
  }

  // Frees every retired slot: the caller guarantees no search call is running (it holds the
  // index's exclusive lock).
  template <class Release>
  void collect_all(Release&& release) {
    if (draining_) finish(release);
    std::vector<uint32_t> slots;
    slots.swap(waiting_);
    if (!slots.empty()) release(slots);
  }

  size_t size() const { return held_.size() + waiting_.size(); }

 private:
  template <class Release>
  void finish(Release& release) {
    // Taken out first: a release that throws part way loses the rest (they stay unused)
    // rather than freeing the first ones twice.
    std::vector<uint32_t> slots;
    slots.swap(held_);
    draining_ = false;
    release(slots);
  }

  mutable graph::GracePeriod calls_;  // search calls as readers
  bool draining_ = false;        // held_ waits for the calls of draining_phase_ to end
  uint32_t draining_phase_ = 0;
  std::vector<uint32_t> held_;     // retired before the current flip
  std::vector<uint32_t> waiting_;  // retired since: they need a flip of their own
};

}  // namespace vidx
