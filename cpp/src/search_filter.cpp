// IdFilter (user ids) -> RowFilter (what a structure asks while it searches).
//   allow-list -> a bitset over ids, built in one pass (ids assigned by the index, or user ids
//                 in a modest range), else the sorted slots of the listed ids through the id
//                 map; its count and slots are known where ids are the slots, so a structure
//                 can scan them exactly;
//   mask       -> read by slot when ids are the slots, else by the slot's id;
//   predicate  -> called with the slot's id.
// A removed slot (id -1) is never allowed; kinds that store ids (SPANN) are asked by id.
#include "search_filter.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/common/live_rows.hpp"
#include "vidx/common/metric.hpp"

namespace vidx {
namespace {

bool form_count_ok(const IdFilter& f) {
  const int forms = (f.allowed != nullptr) + (f.mask != nullptr) + static_cast<int>(static_cast<bool>(f.predicate));
  return forms <= 1;
}

bool is_unfiltered(const IdFilter& f) { return !f.allowed && !f.mask && !f.predicate; }

// One pass over an allow-list: whether it holds a negative id (refused), whether it is strictly
// increasing (then it repeats no id, and np.flatnonzero's output or a sorted id array is read
// in place) and its largest id. The loop has no branch, so the compiler vectorises it: the
// pass costs a small part of a filtered walk even for a list of half the index (the list
// is read from memory once per call: a walk evicts it from the caches).
struct ListShape {
  bool negative = false;
  bool increasing = true;
  int64_t largest = -1;
};

ListShape shape_of(const int64_t* ids, size_t n) {
  ListShape shape;
  if (n == 0) return shape;
  // Unsigned, so that it cannot overflow: with no id negative, ids[i] - ids[i-1] - 1 has its
  // top bit set exactly where the order breaks.
  uint64_t signs = static_cast<uint64_t>(ids[0]);
  uint64_t steps = 0;
  for (size_t i = 1; i < n; ++i) {
    signs |= static_cast<uint64_t>(ids[i]);
    steps |= static_cast<uint64_t>(ids[i]) - static_cast<uint64_t>(ids[i - 1]) - 1;
  }
  shape.negative = signs >> 63;
  shape.increasing = !(steps >> 63);
  if (shape.increasing) {
    shape.largest = ids[n - 1];
  } else {
    int64_t largest = ids[0];
    for (size_t i = 1; i < n; ++i) largest = ids[i] > largest ? ids[i] : largest;
    shape.largest = largest;
  }
  return shape;
}

// The shape of a list its caller promises is strictly increasing and non-negative (a prepared
// allow-list): no pass over it.
ListShape sorted_shape(const int64_t* ids, size_t n) {
  ListShape shape;
  shape.largest = n ? ids[n - 1] : -1;
  return shape;
}

// Whether a strictly increasing run [first, first + n) holds `id`: a binary search whose
// steps are conditional moves, not branches.
bool holds(const int64_t* first, size_t n, int64_t id) {
  if (n == 0) return false;
  while (n > 1) {
    const size_t half = n / 2;
    first = first[half] <= id ? first + half : first;
    n -= half;
  }
  return *first == id;
}

// A bitset over ids [0, size): one bit test per question, however long the list was. It owns
// its words, or reads a caller's (a prepared allow-list's) in place.
class IdBits {
 public:
  IdBits() = default;
  explicit IdBits(size_t size) : own_(size / 64 + 1, 0), words_(own_.data()), size_(size) {}
  static IdBits view(const uint64_t* words, size_t size) {
    IdBits b;
    b.words_ = words;
    b.size_ = size;
    return b;
  }
  IdBits(IdBits&& o) noexcept { *this = std::move(o); }
  IdBits& operator=(IdBits&& o) noexcept {
    const bool owned = o.words_ == o.own_.data();
    own_ = std::move(o.own_);
    words_ = owned ? own_.data() : o.words_;
    size_ = o.size_;
    return *this;
  }
  bool test(uint64_t id) const { return id < size_ && (words_[id >> 6] >> (id & 63) & 1); }
  void set_one(uint64_t id) { own_[id >> 6] |= uint64_t{1} << (id & 63); }  // id < size(), owned
  // Sets the listed ids below size(); `increasing`: the list is strictly increasing, so a word
  // is built in a register and stored once (setting bits in memory one id at a time makes
  // each store wait for the previous one to the same word).
  void set(const int64_t* first, const int64_t* last, bool increasing) {
    if (!increasing) {
      for (; first != last; ++first)
        if (static_cast<uint64_t>(*first) < size_) set_one(static_cast<uint64_t>(*first));
      return;
    }
    last = std::lower_bound(first, last, static_cast<int64_t>(size_));
    if (first == last) return;
    uint64_t* words = own_.data();
    uint64_t at = std::min<uint64_t>(static_cast<uint64_t>(*first), size_) >> 6;
    uint64_t word = 0;
    for (; first != last; ++first) {
      const uint64_t id = static_cast<uint64_t>(*first);
      // Only a broken promise of order (IdFilter::allowed_sorted) puts an id here past the
      // bitset: skipped, so that it cannot write outside it (answers may then be wrong).
      if (id >= size_) continue;
      if (id >> 6 != at) {
        words[at] = word;
        at = id >> 6;
        word = 0;
      }
      word |= uint64_t{1} << (id & 63);
    }
    words[at] = word;
  }
  size_t count() const {
    size_t c = 0;
    for (size_t i = 0; i < word_count(); ++i) c += static_cast<size_t>(__builtin_popcountll(words_[i]));
    return c;
  }
  template <class Visit>
  void for_each(Visit visit) const {
    for (size_t i = 0; i < word_count(); ++i)
      for (uint64_t w = words_[i]; w; w &= w - 1) visit(i * 64 + static_cast<size_t>(__builtin_ctzll(w)));
  }

 private:
  size_t word_count() const { return (size_ + 63) / 64; }

  std::vector<uint64_t> own_;
  const uint64_t* words_ = nullptr;
  size_t size_ = 0;
};

// Ids a bitset over ids may span, as a multiple of the slot count: beyond it (sparse ids) an
// unordered allow-list is turned into slots through the id map instead.
constexpr size_t kIdRangeFactor = 4;

// An increasing list is searched in place rather than copied into a bitset once it holds more
// than one id in kSearchAbove slots. Filling a bitset costs a pass over the list per call; a
// search costs ~log2(m) steps per node the walk tests, and a walk tests more nodes the fewer
// are allowed. Measured on fashion-mnist (60k, M=16, ef 10, microseconds per query, search /
// bitset / bool mask, one process, alternating): 315 / 393 / 346 at 50%, 581 / 454 / 459 at 10%,
// 1372 / 1324 / 1322 at 5%.
constexpr size_t kSearchAbove = 4;

// An allow-list over a slot-addressed structure, with no id-map lookup per listed id: an
// increasing list (np.flatnonzero's output, a sorted id array) is read in place, by binary
// search (long lists) or through a bitset over ids built in one pass (shorter ones); an
// unordered list whose ids lie in a modest range goes into a bitset over ids. A slot is
// allowed when its id is (while ids are the slots and none is removed, the slot itself is
// tested without reading its id).
class AllowedIds final : public RowFilter {
 public:
  // n: the structure's slot count; labels_are_slots: the id map is the identity;
  // removed_rows: some slot is hidden (its label is negative).
  // may_search: a long increasing list may be searched in place (else it goes into a bitset
  // whenever its ids' range allows one).
  AllowedIds(const IdFilter& f, const ListShape& shape, const IdMap& ids, size_t n, bool labels_are_slots,
             bool removed_rows, bool may_search)
      : ids_(ids),
        n_(n),
        list_(f.allowed),
        list_end_(f.allowed + f.allowed_count),
        increasing_(shape.increasing),
        labels_are_slots_(labels_are_slots),
        read_labels_(!labels_are_slots || removed_rows) {
    const size_t bits_size = labels_are_slots ? n : static_cast<size_t>(shape.largest) + 1;
    const bool bits_fit = bits_size <= kIdRangeFactor * n + 64;
    if (f.allowed_bits) {  // prepared: the caller's bitset, read in place
      bits_ = IdBits::view(f.allowed_bits, f.allowed_bits_size);
    } else {
      searched_ = increasing_ && (!bits_fit || (may_search && f.allowed_count * kSearchAbove > n));
      if (!searched_) {
        bits_ = IdBits(bits_size);
        bits_.set(list_, list_end_, increasing_);
      }
    }
    if (!read_labels_)
      count_ = increasing_ ? std::lower_bound(list_, list_end_, static_cast<int64_t>(n)) - list_ : bits_.count();
  }
  bool allows_slot(uint32_t slot) const override {
    if (!read_labels_) return allows_label(slot);
    return allows_label(ids_.label(slot));
  }
  bool allows_label(int64_t id) const override {
    if (searched_) return holds(list_, static_cast<size_t>(list_end_ - list_), id);
    return id >= 0 && bits_.test(static_cast<uint64_t>(id));
  }
  size_t allowed_count() const override { return count_; }
  bool list_slots(std::vector<uint32_t>& out) const override {
    out.clear();
    if (labels_are_slots_) {
      if (increasing_) {
        const int64_t* end = std::lower_bound(list_, list_end_, static_cast<int64_t>(n_));
        for (const int64_t* id = list_; id != end; ++id) {
          // Only a broken promise of order (IdFilter::allowed_sorted) leaves an id outside
          // [0, n) here: skipped, so that no slot past the index is read.
          if (*id < 0 || static_cast<uint64_t>(*id) >= n_) continue;
          if (!read_labels_ || ids_.label(static_cast<uint32_t>(*id)) >= 0) out.push_back(static_cast<uint32_t>(*id));
        }
        return true;
      }
      bits_.for_each([&](size_t s) {
        if (ids_.label(static_cast<uint32_t>(s)) >= 0) out.push_back(static_cast<uint32_t>(s));
      });
      return true;
    }
    for (const int64_t* id = list_; id != list_end_; ++id) {
      const int64_t slot = ids_.slot_of(*id);
      if (slot >= 0) out.push_back(static_cast<uint32_t>(slot));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return true;
  }

 private:
  const IdMap& ids_;
  size_t n_;
  const int64_t* list_;  // the caller's ids, alive for the call
  const int64_t* list_end_;
  bool increasing_;
  bool labels_are_slots_;
  bool read_labels_;      // ask the id map for the slot's id (it differs from the slot, or the slot may be removed)
  bool searched_ = false;  // membership by binary search in the list, else by bitset
  size_t count_ = kUnknownCount;
  IdBits bits_;
};

// An allow-list of sparse ids (beyond kIdRangeFactor * slots): its slots through the id map,
// sorted, with a bitset over slots for membership when they are dense enough for one to beat
// a binary search.
class AllowedSlots final : public RowFilter {
 public:
  // n: the structure's slot count.
  AllowedSlots(const IdFilter& f, const IdMap& ids, size_t n) : ids_(ids) {
    slots_.reserve(f.allowed_count);
    for (const int64_t* id = f.allowed; id != f.allowed + f.allowed_count; ++id) {
      const int64_t slot = ids.slot_of(*id);
      if (slot >= 0 && ids.label(static_cast<uint32_t>(slot)) >= 0) slots_.push_back(static_cast<uint32_t>(slot));
    }
    if (!std::is_sorted(slots_.begin(), slots_.end())) std::sort(slots_.begin(), slots_.end());
    slots_.erase(std::unique(slots_.begin(), slots_.end()), slots_.end());
    // 64 slots per word: a bitset over n slots costs n/8 bytes; worth it above ~1/64 density.
    if (!slots_.empty() && slots_.size() * 64 >= n) {
      bits_ = std::make_unique<IdBits>(n);
      for (uint32_t s : slots_) bits_->set_one(s);
    }
  }
  bool allows_slot(uint32_t slot) const override {
    if (bits_) return bits_->test(slot);
    return std::binary_search(slots_.begin(), slots_.end(), slot);
  }
  bool allows_label(int64_t id) const override {
    const int64_t slot = ids_.slot_of(id);
    return slot >= 0 && allows_slot(static_cast<uint32_t>(slot));
  }
  size_t allowed_count() const override { return slots_.size(); }
  bool list_slots(std::vector<uint32_t>& out) const override {
    out = slots_;
    return true;
  }

 private:
  const IdMap& ids_;
  std::vector<uint32_t> slots_;
  std::unique_ptr<IdBits> bits_;
};

// An allow-list for a kind that stores ids itself: the ids, sorted (read in place when the
// caller's list already is).
class AllowedLabels final : public RowFilter {
 public:
  AllowedLabels(const IdFilter& f, const ListShape& shape) {
    if (shape.increasing) {
      first_ = f.allowed;
      last_ = f.allowed + f.allowed_count;
      return;
    }
    sorted_.assign(f.allowed, f.allowed + f.allowed_count);
    std::sort(sorted_.begin(), sorted_.end());
    sorted_.erase(std::unique(sorted_.begin(), sorted_.end()), sorted_.end());
    first_ = sorted_.data();
    last_ = sorted_.data() + sorted_.size();
  }
  bool allows_slot(uint32_t slot) const override { return allows_label(slot); }
  bool allows_label(int64_t id) const override { return std::binary_search(first_, last_, id); }
  // Listed ids need not be stored: the count of stored ones is unknown without a lookup each.
  size_t allowed_count() const override { return kUnknownCount; }
  bool list_slots(std::vector<uint32_t>&) const override { return false; }

 private:
  const int64_t* first_ = nullptr;
  const int64_t* last_ = nullptr;
  std::vector<int64_t> sorted_;  // a sorted copy, when the caller's list is not
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

const float* checked_queries(Metric metric, const float* queries, size_t nq, size_t dim,
                             std::unique_ptr<float[]>& normalized, ThreadPool& pool, float row_scale) {
  // Rows a worker takes at a time; calls with fewer than two such groups stay on the caller's thread.
  constexpr size_t kRowsPerTask = 64;
  const bool cosine = metric == Metric::Cosine, scaled = row_scale != 1.f;
  if (cosine || scaled) normalized.reset(new float[nq * dim]);  // not zeroed: every row is written below
  const auto check_rows = [&](size_t first, size_t n) {
    // Scaled queries are held to the bounds stored rows are (so that distances fit in float32).
    check_vectors(metric, queries + first * dim, n, dim, "query", std::numeric_limits<float>::infinity(), "", first,
                  false, row_scale);
    if (!cosine && !scaled) return;
    float* out = normalized.get() + first * dim;
    if (cosine) {
      std::memcpy(out, queries + first * dim, n * dim * sizeof(float));
      for (size_t r = 0; r < n; ++r) normalize_in_place(out + r * dim, dim);
      return;
    }
    const float* in = queries + first * dim;
    for (size_t i = 0; i < n * dim; ++i) out[i] = in[i] * row_scale;
  };
  const size_t tasks = (nq + kRowsPerTask - 1) / kRowsPerTask;
  if (tasks < 2 || pool.size() < 2) {
    check_rows(0, nq);
  } else {
    try {
      pool.parallel_for(tasks, [&](size_t t, size_t) {
        const size_t first = t * kRowsPerTask;
        check_rows(first, std::min(kRowsPerTask, nq - first));
      });
    } catch (const InvalidArgument&) {
      // The workers stop at whichever bad row they met first; one pass names the first in row order.
      check_rows(0, nq);
      throw;
    }
  }
  return cosine || scaled ? normalized.get() : queries;
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
    if (!f.allowed && (f.allowed_bits || f.allowed_sorted))
      throw InvalidArgument(which + ": allowed_bits or allowed_sorted is set but allowed is null (a prepared "
                                    "allow-list passes its ids too)");
  }
}

CallFilters::CallFilters(const SearchParams& params, size_t nq, const IdMap* ids, size_t slots, bool removed_rows)
    : ids_(ids), slots_(slots), removed_rows_(removed_rows && ids) {
  if (params.filter_count == 0) {
    if (removed_rows_) filters_.shared = live_rows();
    return;
  }
  if (params.filter_count == 1) {
    filters_.shared = convert(params.filters[0], "the filter");
    return;
  }
  // A batch converts every query's list before the first query runs: by its turn a list has
  // left the caches, and a binary search in it misses on most steps. Compact bitsets (n/8
  // bytes each) miss once per test: they are used while all of them fit in kBatchBitsBytes.
  // (fashion-mnist, 600 queries with 50/10/1% lists, default ef: bitsets 1.89 s, searched
  // lists 2.10 s, one call per query 1.95 s.)
  search_lists_ = nq * (slots / 8 + 8) > kBatchBitsBytes;
  filters_.per_query.resize(nq);
  for (size_t q = 0; q < nq; ++q) filters_.per_query[q] = convert(params.filters[q], "filter", q);
}

const RowFilter* CallFilters::live_rows() {
  if (!live_rows_) {
    owned_.push_back(std::make_unique<LiveRows>(*ids_));
    live_rows_ = owned_.back().get();
  }
  return live_rows_;
}

const RowFilter* CallFilters::convert(const IdFilter& f, const char* which, size_t q) {
  if (is_unfiltered(f)) return removed_rows_ ? live_rows() : nullptr;
  // While ids are the slots and none is removed, filters are read by slot directly.
  const bool labels_are_slots = ids_ && ids_->identity();
  const bool slots_are_ids = !ids_ || (labels_are_slots && !removed_rows_);
  if (f.allowed) {
    const ListShape shape = f.allowed_sorted ? sorted_shape(f.allowed, f.allowed_count)
                                             : shape_of(f.allowed, f.allowed_count);
    if (shape.negative) {
      const int64_t bad = *std::find_if(f.allowed, f.allowed + f.allowed_count, [](int64_t id) { return id < 0; });
      const std::string name = q == kSharedFilter ? which : std::string(which) + " " + std::to_string(q);
      throw InvalidArgument(name + " allows id " + std::to_string(bad) + ": ids are >= 0");
    }
    if (!ids_)
      owned_.push_back(std::make_unique<AllowedLabels>(f, shape));
    else if (labels_are_slots || shape.increasing || static_cast<uint64_t>(shape.largest) < kIdRangeFactor * slots_ + 64)
      owned_.push_back(
          std::make_unique<AllowedIds>(f, shape, *ids_, slots_, labels_are_slots, removed_rows_, search_lists_));
    else
      owned_.push_back(std::make_unique<AllowedSlots>(f, *ids_, slots_));
  } else {
    owned_.push_back(std::make_unique<ByLabel>(f, ids_, slots_are_ids));
  }
  return owned_.back().get();
}

}  // namespace vidx
