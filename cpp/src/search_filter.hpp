// The base's half of search filters: the caller's IdFilters (by user id) turned into the
// RowFilters a structure asks while it searches (by slot, or by id for kinds that store ids),
// for one search call. Private to the core sources.
#pragma once
#include <memory>
#include <vector>

#include "vidx/common/id_filter.hpp"
#include "vidx/common/id_map.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/index.hpp"

namespace vidx {

// Refuses malformed filters before any lock is taken: filter_count must be 0, 1 or nq; each
// IdFilter sets at most one form. (Negative ids in allow-lists are refused by CallFilters, in
// the one pass it makes over each list anyway.) An IdFilter with no form
// set filters nothing (a per-query list may leave some queries unfiltered). Ids of an
// allow-list that are not in the index are simply not allowed (no error: the list may name
// ids removed meanwhile).
void check_filters(const SearchParams& params, size_t nq);

// What search() and range_search() check of a call's queries (check_vectors), then the queries
// as the structure compares them: cosine queries are normalised into `normalized`, the others
// returned as given. Many queries are checked and normalised by the index's threads (`pool`),
// which take the copy's first page faults too: done by the calling thread alone it was ~7% of a
// 2-thread batch search's perf samples while the other thread waited (graph.md section 32). A bad
// row is named as a single pass names it (the first in row order). An index that scales its rows
// (row_scale != 1, RowScale) compares queries scaled the same way, into `normalized` too.
const float* checked_queries(Metric metric, const float* queries, size_t nq, size_t dim,
                             std::unique_ptr<float[]>& normalized, ThreadPool& pool, float row_scale = 1.f);

// Owns the RowFilters of one search call. Rows removed but not reclaimed (label -1 in the id
// map) are hidden from every query, also when the caller passed no filter.
class CallFilters {
 public:
  // ids: the index's id map, or nullptr for kinds that store user ids themselves (SPANN);
  // slots: the structure's slot count; removed_rows: whether any slot is hidden (label < 0).
  // Throws InvalidArgument for an allow-list holding a negative id.
  CallFilters(const SearchParams& params, size_t nq, const IdMap* ids, size_t slots, bool removed_rows);
  // What SearchParams::row_filters gets: nullptr when nothing is filtered.
  const RowFilters* get() const { return filters_.any() ? &filters_ : nullptr; }

 private:
  static constexpr size_t kSharedFilter = static_cast<size_t>(-1);
  // which / q name the filter in errors (q: its query, or kSharedFilter). A negative id in an
  // allow-list throws InvalidArgument here, in the same pass that reads the list's shape.
  const RowFilter* convert(const IdFilter& filter, const char* which, size_t q = kSharedFilter);
  const RowFilter* live_rows();

  static constexpr size_t kBatchBitsBytes = size_t{64} << 20;

  const IdMap* ids_;
  size_t slots_;
  bool search_lists_ = true;  // long increasing allow-lists are searched in place, not copied into bitsets
  bool removed_rows_;
  const RowFilter* live_rows_ = nullptr;  // made once, shared by every unfiltered query
  std::vector<std::unique_ptr<RowFilter>> owned_;
  RowFilters filters_;
};

}  // namespace vidx
