// IdFilter (user ids) -> RowFilter (what a structure asks while it searches).
//   allow-list -> the sorted slots of the listed ids (a bitset when they are many): its count
//                 and its slots are known, so a structure can scan them exactly;
//   mask       -> read by slot when ids are the slots, else by the slot's id;
//   predicate  -> called with the slot's id.
// A removed slot (id -1) is never allowed; kinds that store ids (SPANN) are asked by id.
#include "search_filter.hpp"

#include "cosine_rows.hpp"

#include <algorithm>
#include <functional>
#include <string>

#include "vidx/common/error.hpp"

namespace vidx {
namespace {

bool form_count_ok(const IdFilter& f) {
  const int forms = (f.allowed != nullptr) + (f.mask != nullptr) + static_cast<int>(static_cast<bool>(f.predicate));
  return forms <= 1;
}

bool is_unfiltered(const IdFilter& f) { return !f.allowed && !f.mask && !f.predicate; }

// Hides removed slots only: what an unfiltered query gets while removed rows exist.
class LiveRows final : public RowFilter {
 public:
  explicit LiveRows(const IdMap& ids) : ids_(ids) {}
  bool allows_slot(uint32_t slot) const override { return ids_.label(slot) >= 0; }
  bool allows_label(int64_t id) const override { return id >= 0; }
  size_t allowed_count() const override { return ids_.size(); }
  bool list_slots(std::vector<uint32_t>&) const override { return false; }
  bool hides_removed_only() const override { return true; }

 private:
  const IdMap& ids_;
};

// An allow-list over a slot-addressed structure: its slots, sorted. While ids are the slots
// and the caller's list is strictly increasing (np.flatnonzero's output, a sorted id array), the
// list is read in place: a large allow-list then costs one pass per call, not a copy. Otherwise
// its slots are collected and sorted, with a bitset for membership when they are dense enough
// for one to beat a binary search.
class AllowedSlots final : public RowFilter {
 public:
  // n: the structure's slot count.
  AllowedSlots(const IdFilter& f, const IdMap& ids, size_t n, bool slots_are_ids) : ids_(ids) {
    const int64_t* first = f.allowed;
    const int64_t* last = f.allowed + f.allowed_count;
    if (slots_are_ids && std::adjacent_find(first, last, std::greater_equal<int64_t>()) == last) {
      in_place_ = first;
      in_place_end_ = std::lower_bound(first, last, static_cast<int64_t>(n));
      if (dense(in_place_end_ - in_place_, n)) fill_bits(in_place_, in_place_end_, n);
      return;
    }
    slots_.reserve(f.allowed_count);
    for (const int64_t* id = first; id != last; ++id) {
      const int64_t slot = ids.slot_of(*id);
      if (slot >= 0 && ids.label(static_cast<uint32_t>(slot)) >= 0) slots_.push_back(static_cast<uint32_t>(slot));
    }
    if (!std::is_sorted(slots_.begin(), slots_.end())) std::sort(slots_.begin(), slots_.end());
    slots_.erase(std::unique(slots_.begin(), slots_.end()), slots_.end());
    if (dense(slots_.size(), n)) fill_bits(slots_.begin(), slots_.end(), n);
  }
  bool allows_slot(uint32_t slot) const override {
    if (!bits_.empty()) return slot >> 6 < bits_.size() && (bits_[slot >> 6] >> (slot & 63) & 1);
    if (in_place_) return std::binary_search(in_place_, in_place_end_, static_cast<int64_t>(slot));
    return std::binary_search(slots_.begin(), slots_.end(), slot);
  }
  bool allows_label(int64_t id) const override {
    const int64_t slot = ids_.slot_of(id);
    return slot >= 0 && allows_slot(static_cast<uint32_t>(slot));
  }
  size_t allowed_count() const override { return in_place_ ? in_place_end_ - in_place_ : slots_.size(); }
  bool list_slots(std::vector<uint32_t>& out) const override {
    if (in_place_) out.assign(in_place_, in_place_end_);
    else out = slots_;
    return true;
  }

 private:
  // 64 slots per word: a bitset over n slots costs n/8 bytes; worth it above ~1/64 density.
  static bool dense(size_t count, size_t n) { return count > 0 && count * 64 >= n; }
  template <class It>
  void fill_bits(It first, It last, size_t n) {
    bits_.assign(n / 64 + 1, 0);
    for (; first != last; ++first) bits_[*first >> 6] |= uint64_t{1} << (*first & 63);
  }

  const IdMap& ids_;
  const int64_t* in_place_ = nullptr;  // the caller's sorted ids, when they are the slots
  const int64_t* in_place_end_ = nullptr;
  std::vector<uint32_t> slots_;
  std::vector<uint64_t> bits_;
};

// An allow-list for a kind that stores ids itself: the ids, sorted.
class AllowedLabels final : public RowFilter {
 public:
  explicit AllowedLabels(const IdFilter& f) : labels_(f.allowed, f.allowed + f.allowed_count) {
    std::sort(labels_.begin(), labels_.end());
    labels_.erase(std::unique(labels_.begin(), labels_.end()), labels_.end());
  }
  bool allows_slot(uint32_t slot) const override { return allows_label(slot); }
  bool allows_label(int64_t id) const override { return std::binary_search(labels_.begin(), labels_.end(), id); }
  // Listed ids need not be stored: the count of stored ones is unknown without a lookup each.
  size_t allowed_count() const override { return kUnknownCount; }
  bool list_slots(std::vector<uint32_t>&) const override { return false; }

 private:
  std::vector<int64_t> labels_;
};

// A mask or a predicate over ids; by slot through the id map (nullptr: slots are ids).
class ByLabel final : public RowFilter {
 public:
  ByLabel(const IdFilter& f, const IdMap* ids, bool slots_are_ids) : f_(f), ids_(ids), slots_are_ids_(slots_are_ids) {}
  bool allows_slot(uint32_t slot) const override {
    return allows_label(slots_are_ids_ ? static_cast<int64_t>(slot) : ids_->label(slot));
  }
  bool allows_label(int64_t id) const override {
    if (id < 0) return false;  // a removed slot
    if (f_.mask) return static_cast<uint64_t>(id) < f_.mask_size && f_.mask[id] != 0;
    return f_.predicate(id);
  }
  size_t allowed_count() const override { return kUnknownCount; }
  bool list_slots(std::vector<uint32_t>&) const override { return false; }

 private:
  const IdFilter& f_;
  const IdMap* ids_;
  bool slots_are_ids_;
};

}  // namespace

const float* checked_queries(const SearchParams& params, Metric metric, const float* queries, size_t nq, size_t dim,
                             std::vector<float>& normalized) {
  check_filters(params, nq);
  check_vectors(metric, queries, nq, dim, "query");
  return normalized_if_cosine(metric, queries, nq, dim, normalized);
}

void check_filters(const SearchParams& params, size_t nq) {
  const size_t count = params.filter_count;
  if (count == 0) return;
  if (count != 1 && count != nq)
    throw InvalidArgument("got " + std::to_string(count) + " filters for " + std::to_string(nq) +
                          " queries: pass one filter for all queries or one per query");
  if (!params.filters) throw InvalidArgument("filter_count is " + std::to_string(count) + " but filters is null");
  for (size_t i = 0; i < count; ++i) {
    const IdFilter& f = params.filters[i];
    const std::string which = count == 1 ? "the filter" : "filter " + std::to_string(i);
    if (!form_count_ok(f)) throw InvalidArgument(which + " sets more than one of allowed, mask and predicate");
    if (!f.allowed && f.allowed_count) throw InvalidArgument(which + ": allowed_count is set but allowed is null");
    if (!f.mask && f.mask_size) throw InvalidArgument(which + ": mask_size is set but mask is null");
    for (size_t j = 0; f.allowed && j < f.allowed_count; ++j)
      if (f.allowed[j] < 0)
        throw InvalidArgument(which + " allows id " + std::to_string(f.allowed[j]) + ": ids are >= 0");
  }
}

CallFilters::CallFilters(const SearchParams& params, size_t nq, const IdMap* ids, size_t slots, bool removed_rows)
    : ids_(ids), slots_(slots), removed_rows_(removed_rows && ids) {
  if (params.filter_count == 0) {
    if (removed_rows_) filters_.shared = live_rows();
    return;
  }
  if (params.filter_count == 1) {
    filters_.shared = convert(params.filters[0]);
    return;
  }
  filters_.per_query.resize(nq);
  for (size_t q = 0; q < nq; ++q) filters_.per_query[q] = convert(params.filters[q]);
}

const RowFilter* CallFilters::live_rows() {
  if (!live_rows_) {
    owned_.push_back(std::make_unique<LiveRows>(*ids_));
    live_rows_ = owned_.back().get();
  }
  return live_rows_;
}

const RowFilter* CallFilters::convert(const IdFilter& f) {
  if (is_unfiltered(f)) return removed_rows_ ? live_rows() : nullptr;
  // While ids are the slots and none is removed, filters are read by slot directly.
  const bool slots_are_ids = !ids_ || (ids_->identity() && !removed_rows_);
  if (f.allowed) {
    if (ids_) owned_.push_back(std::make_unique<AllowedSlots>(f, *ids_, slots_, slots_are_ids));
    else owned_.push_back(std::make_unique<AllowedLabels>(f));
  } else {
    owned_.push_back(std::make_unique<ByLabel>(f, ids_, slots_are_ids));
  }
  return owned_.back().get();
}

}  // namespace vidx
