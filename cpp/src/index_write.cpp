// The write half of VectorIndex: how add, remove, upsert and compact change ids and the
// structure while searches run.
//
// Locks: rw_ (WriterFirstMutex; searches hold it shared) and write_mutex_ (write bookkeeping:
// one writer at a time). write_mutex_ is always taken first and never while holding rw_. The
// GIL is taken while holding them only by an add's progress report (report()); every binding
// releases the GIL before it takes either, and the index refuses calls made from inside its own
// report (check_not_reporting), so neither waits on the other.
//
// Kinds without concurrent_writes() (CUDA flat, SPANN's add after the build; flat while slots
// are free or pending, HNSW and flat while their codec is untrained): a write holds write_mutex_
// and the exclusive lock for the whole call; no search runs beside it. (An add before which the
// codec learns again holds the exclusive lock for that, then goes on as any other.)
//
// Kinds with concurrent_writes() (HNSW, once its codec is trained: the write that trains it
// takes the exclusive path, since training changes what every search reads): a write has three steps, so that the structure's work
// runs beside searches and beside other writers (on other slots):
//   1. Under write_mutex_: check the ids, reserve slots (IdMap::reserve: free slots lowest
//      first, then new ones; their labels say "pending", so searches hide them), hide removed
//      slots (their labels become -1 at once). When new slots pass what the structure has room
//      for, grow it under the exclusive lock: reserve_rows(capacity), capacity growing by half
//      each time, so this is rare. Count the write as in flight.
//   2. Under a shared lock only: add_rows / remove_rows.
//   3. Under write_mutex_ again: publish the added labels (searches may return them from now
//      on) or retire the removed slots (RetiredSlots: they are handed out for reuse once no
//      search call that began before the removal is still running); the write is no longer
//      in flight.
// save() and compact() wait until no write is in flight (pause_writes) and hold write_mutex_,
// so every slot they see is live or free.
#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <unordered_set>

#include "cosine_rows.hpp"
#include "vidx/codec/registry.hpp"
#include "vidx/common/error.hpp"
#include "vidx/index.hpp"

namespace vidx {
namespace {

constexpr size_t kMaxSlots = (size_t{1} << 31) - 1;

// Ids as a caller may pass them to remove/upsert: >= 0 (-1 means "no result").
void check_not_negative(const int64_t* ids, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (ids[i] < 0)
      throw InvalidArgument("ids must be >= 0, got " + std::to_string(ids[i]) + " (row " + std::to_string(i) + ")");
}

// The ids once each, in their first order.
std::vector<int64_t> distinct(const int64_t* ids, size_t n) {
  std::unordered_set<int64_t> seen;
  seen.reserve(n * 2);
  std::vector<int64_t> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (seen.insert(ids[i]).second) out.push_back(ids[i]);
  return out;
}

[[noreturn]] void missing(int64_t id) { throw InvalidArgument("id " + std::to_string(id) + " is not in the index"); }

}  // namespace

WriteGuard VectorIndex::pause_writes() const {
  WriteGuard writing = lock_writes();
  writes_idle_.wait(writing, [&] { return writes_in_flight_ == 0; });
  return writing;
}

void VectorIndex::end_write(WriteGuard& writing) {
  if (--writes_in_flight_ == 0) writes_idle_.notify_all();
}

void VectorIndex::free_retired() {
  retired_.collect([&](const std::vector<uint32_t>& slots) { ids_.release(slots.data(), slots.size()); });
}

void VectorIndex::free_all_retired() {
  retired_.collect_all([&](const std::vector<uint32_t>& slots) { ids_.release(slots.data(), slots.size()); });
}

void VectorIndex::add_checked(const float* rows, const float* norms, size_t n, const int64_t* ids,
                              WriteGuard& writing, WriteLock hold, const ProgressFn& progress) {
  const ForkGate::Hold whole_write(lock_generation());  // a fork waits for all three steps
  ids_.check_new(ids, n);
  std::vector<float> scaled;
  if (scales_rows()) rows = scaled_for_storage(rows, n, scaled);
  free_retired();
  const size_t slot_end = ids_.slot_count() + ids_.new_slots_for(n);
  if (ids_.size() + n > kMaxSlots || slot_end > kMaxSlots)
    throw InvalidArgument("an index holds at most 2^31 - 1 vectors");
  std::vector<int64_t> assigned;
  std::vector<uint32_t> slots;
  const uint64_t next_before = ids_.next_default_id();  // reservations happen under write_mutex_
  // Relearning changes every stored code, so it runs with no other write, and the add then goes
  // on as any other (the write mutex held throughout: no other write starts in between). Searches
  // go on while it learns and encodes every stored row into copies, and wait only while those
  // are swapped in. While other writes are in flight a later add relearns: waiting for them
  // could wait on this add's own caller (two adds whose progress reports wait for each other).
  if (writes_in_flight_ == 0 && relearns_codec_before(n)) {
    std::function<void()> swap_in;
    {
      auto lock = lock_shared();
      swap_in = relearn_codec(rows, n, pool());
    }
    if (swap_in) {
      auto lock = lock_exclusive();
      swap_in();
    }
  }
  // The rows' lengths go in before their slots are published (get() reads them only then).
  auto keep_norms = [&] {
    if (norms)
      for (size_t i = 0; i < n; ++i) norms_.set(slots[i], norms[i]);
  };
  if (!concurrent_writes()) {
    auto lock = lock_exclusive();
    ids_.grow(slot_end);
    if (norms) norms_.grow_to(slot_end);
    const size_t first_new = ids_.reserve(ids, n, assigned, slots);
    const uint64_t next_after = ids_.next_default_id();
    keep_norms();
    try {
      add_rows(rows, n, slots.data(), pool(), progress);
    } catch (...) {
      ids_.cancel(slots.data(), assigned.data(), n, first_new, next_before, next_after);
      forget_rows_from(ids_.slot_count());
      throw;
    }
    ids_.publish(slots.data(), assigned.data(), n);
    return;
  }
  const bool grows = slot_end > reserved_rows_;
  if (grows || plans_layout_before(n)) {
    {
      auto lock = lock_shared();
      plan_layout(rows, n, pool());
    }
    auto lock = lock_exclusive();
    settle_layout();
    if (grows) {
      const size_t capacity = std::min(kMaxSlots, std::max(slot_end, reserved_rows_ + reserved_rows_ / 2));
      reserve_rows(capacity);
      ids_.grow(capacity);
      reserved_rows_ = capacity;
    }
  }
  if (norms && norms_.size() < slot_end) {  // as rarely as the structure grows (to its capacity)
    auto lock = lock_exclusive();
    norms_.grow_to(std::max(slot_end, reserved_rows_));
  }
  const size_t first_new = ids_.reserve(ids, n, assigned, slots);
  const uint64_t next_after = ids_.next_default_id();
  keep_norms();
  ++writes_in_flight_;
  if (hold == WriteLock::kReleased) writing.unlock();
  try {
    auto lock = lock_shared();
    add_rows(rows, n, slots.data(), pool(), progress);
  } catch (...) {
    if (!writing.owns_lock()) writing.lock();
    ids_.cancel(slots.data(), assigned.data(), n, first_new, next_before, next_after);
    forget_rows_from(ids_.slot_count());
    end_write(writing);
    throw;
  }
  if (!writing.owns_lock()) writing.lock();
  ids_.publish(slots.data(), assigned.data(), n);
  end_write(writing);
}

void VectorIndex::add_after_build(const float* rows, size_t n, const int64_t* ids,
                                  WriteGuard& writing) {
  if (ids) IdMap::check_form(ids, n);
  if (concurrent_writes()) {
    auto lock = lock_shared();
    add_labelled(rows, n, ids, pool());
  } else {
    auto lock = lock_exclusive();
    add_labelled(rows, n, ids, pool());
  }
}

size_t VectorIndex::remove(const int64_t* ids, size_t n, bool ignore_missing) {
  check_writable("remove");
  if (n == 0) return 0;
  require_data(ids, n, "remove: ids");
  check_not_negative(ids, n);
  if (stores_labels()) return remove_stored_labels(ids, n, ignore_missing);
  WriteGuard writing = lock_writes();
  return remove_checked(ids, n, ignore_missing, writing);
}

size_t VectorIndex::remove_checked(const int64_t* ids, size_t n, bool ignore_missing,
                                   WriteGuard& writing, WriteLock hold) {
  const ForkGate::Hold whole_write(lock_generation());  // a fork waits for all three steps
  std::vector<int64_t> removed;
  std::vector<uint32_t> slots;
  for (const int64_t id : distinct(ids, n)) {
    const int64_t slot = ids_.slot_of(id);
    if (slot < 0) {
      if (ignore_missing) continue;
      missing(id);
    }
    removed.push_back(id);
    slots.push_back(static_cast<uint32_t>(slot));
  }
  const size_t m = slots.size();
  if (m == 0) return 0;
  if (!concurrent_writes()) {
    auto lock = lock_exclusive();
    ids_.hide(slots.data(), m);  // remove_rows sees them as removed, as in the concurrent path
    try {
      remove_rows(slots.data(), m, pool());  // a kind that cannot remove refuses here
    } catch (...) {
      ids_.restore(slots.data(), removed.data(), m);
      throw;
    }
    ids_.release(slots.data(), m);
    free_all_retired();  // no search runs beside the exclusive lock
    return m;
  }
  ids_.hide(slots.data(), m);  // searches stop returning them from here on
  ++writes_in_flight_;
  if (hold == WriteLock::kReleased) writing.unlock();
  try {
    auto lock = lock_shared();
    remove_rows(slots.data(), m, pool());
  } catch (...) {
    if (!writing.owns_lock()) writing.lock();
    ids_.restore(slots.data(), removed.data(), m);
    end_write(writing);
    throw;
  }
  if (!writing.owns_lock()) writing.lock();
  retired_.retire(slots.data(), m);
  free_retired();
  end_write(writing);
  return m;
}

size_t VectorIndex::remove_stored_labels(const int64_t* ids, size_t n, bool ignore_missing) {
  const std::vector<int64_t> unique = distinct(ids, n);
  WriteGuard writing = lock_writes();
  return remove_stored_labels_locked(unique, ignore_missing);
}

size_t VectorIndex::remove_stored_labels_locked(const std::vector<int64_t>& unique, bool ignore_missing) {
  auto remove_now = [&] {
    if (!ignore_missing)
      for (const int64_t id : unique)
        if (!has_label(id)) missing(id);
    return remove_labels(unique.data(), unique.size(), pool());
  };
  if (concurrent_writes()) {
    auto lock = lock_shared();
    return remove_now();
  }
  auto lock = lock_exclusive();
  return remove_now();
}

bool VectorIndex::scales_rows() const {
  return RowScale::applies(metric_, find_codec(options_.quant).loses_short_values);
}

const float* VectorIndex::rows_to_store(const float* x, size_t n, std::vector<float>& buffer,
                                        std::vector<float>& norms) {
  check_vectors_for(options().quant, metric(), x, n, dim(), 0, keeps_norms());
  return normalized_if_cosine(metric(), x, n, dim(), buffer, norms_to_keep(norms));
}

const float* VectorIndex::scaled_for_storage(const float* rows, size_t n, std::vector<float>& buffer) {
  // Only while no write is in flight, and no slot is held or only zero rows were stored (which any
  // factor stores alike), may the factor change: no stored row, and no add that scaled its rows
  // by the old one, is left to disagree with it.
  if ((ids_.slot_count() == 0 || !scale_.chosen()) && writes_in_flight_ == 0) {
    const float bound = std::min(max_abs_value(dim()), find_codec(options().quant).value_bound);
    const float factor = RowScale::choose(rows, n, dim(), bound);
    if (scale_.chosen() != (factor != 0.f) || (factor != 0.f && factor != scale_.factor())) {
      auto lock = lock_exclusive();  // no search reads a factor that changes under it
      scale_.set(factor);
    }
  }
  return scaled_by_factor(rows, n, buffer);
}

const float* VectorIndex::scaled_by_factor(const float* rows, size_t n, std::vector<float>& buffer) const {
  if (!scale_.scaled()) return rows;
  check_vectors_for(options().quant, metric(), rows, n, dim(), 0, false, scale_.factor());
  return scale_.apply(rows, n, dim(), buffer);
}

void VectorIndex::upsert(const float* x, size_t n, const int64_t* ids) {
  check_writable("upsert");
  if (n == 0) return;
  if (!ids) throw InvalidArgument("upsert needs ids (the ids whose vectors it adds or replaces)");
  require_data(x, n, dim(), "upsert: vectors");
  // Everything that can be refused is checked before anything is removed.
  IdMap::check_form(ids, n);
  if (builds_once() && !built()) return add(x, n, ids);  // the first build
  std::vector<float> buffer, norms;
  const float* rows = rows_to_store(x, n, buffer, norms);
  // write_mutex_ is held from the remove to the add: a writer that took one of these ids
  // in between would make the add fail with the other ids already gone.
  if (stores_labels()) {
    std::vector<float> scaled;
    rows = scaled_by_factor(rows, n, scaled);  // the build's factor, kept for good
    const std::vector<int64_t> unique = distinct(ids, n);
    WriteGuard writing = lock_writes();
    if (concurrent_writes()) {
      auto lock = lock_shared();
      return upsert_labelled(rows, n, ids, unique, pool());
    }
    auto lock = lock_exclusive();
    return upsert_labelled(rows, n, ids, unique, pool());
  }
  WriteGuard writing = lock_writes();
  // The rows against the bounds the index's factor narrows, before anything is removed (the
  // factor cannot change while the index holds the rows this upsert replaces).
  if (scales_rows() && scale_.scaled())
    check_vectors_for(options().quant, metric(), rows, n, dim(), 0, false, scale_.factor());
  remove_checked(ids, n, true, writing, WriteLock::kHeld);
  add_checked(rows, norms.empty() ? nullptr : norms.data(), n, ids, writing, WriteLock::kHeld);
}

void VectorIndex::compact() {
  check_writable("compact");
  auto writing = pause_writes();
  auto lock = lock_exclusive();
  if (stores_labels()) {
    compact_rows(pool());
    return;
  }
  free_all_retired();  // compact_rows drops free slots
  const std::vector<uint32_t> new_slot = compact_rows(pool());
  ids_.renumber(new_slot);
  if (keeps_norms()) norms_.renumber(new_slot);
  reserved_rows_ = 0;  // the structure shrank to fit: the next concurrent add grows it again
}

}  // namespace vidx
