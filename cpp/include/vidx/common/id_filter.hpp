// Search filters: which results a search may return.
//
// IdFilter is what callers pass (user ids; SearchParams::filters). The base turns each into a
// RowFilter, which also hides rows removed but not yet reclaimed, and structures ask it while
// they search: HNSW and flat by slot, SPANN (which stores user ids itself) by id.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace vidx {

// Exactly one form is set: an allow-list of ids, a mask indexed by id (mask[id] != 0: allowed;
// ids >= mask_size are not), or a predicate (for embedders; called from search threads, so it
// must be thread-safe and must not call back into the index). A filter with none set allows
// every id (a query of a batch left unfiltered): an empty allow-list, which allows none, needs a
// non-null `allowed` with allowed_count 0 (an empty std::vector's data() may be null), which
// allow_only() sees to.
struct IdFilter {
  // An allow-list of `ids` (kept by the caller until the search returns). Empty, it allows no
  // id: setting `allowed = ids.data()` by hand would leave a null pointer, read as no filter.
  static IdFilter allow_only(const int64_t* ids, size_t count) {
    static const int64_t none = 0;
    IdFilter filter;
    filter.allowed = count > 0 ? ids : &none;
    filter.allowed_count = count;
    return filter;
  }
  static IdFilter allow_only(const std::vector<int64_t>& ids) { return allow_only(ids.data(), ids.size()); }

  const int64_t* allowed = nullptr;
  size_t allowed_count = 0;
  // A prepared allow-list (vidx.IdSet) sets these to skip the pass a search otherwise makes
  // over the list on every call; they are the caller's promise, not checked:
  //   allowed_sorted: `allowed` is strictly increasing and holds no negative id;
  //   allowed_bits:   with allowed_sorted, the same ids as a bitset over [0, allowed_bits_size)
  //                   (bit id % 64 of word id / 64), read instead of searching the list.
  bool allowed_sorted = false;
  const uint64_t* allowed_bits = nullptr;
  size_t allowed_bits_size = 0;
  const uint8_t* mask = nullptr;
  size_t mask_size = 0;
  std::function<bool(int64_t)> predicate;
};

class RowFilter {
 public:
  static constexpr size_t kUnknownCount = static_cast<size_t>(-1);
  virtual ~RowFilter() = default;
  virtual bool allows_slot(uint32_t slot) const = 0;
  virtual bool allows_label(int64_t id) const = 0;
  // How many stored rows it allows, when known without a scan (an allow-list), else kUnknownCount.
  virtual size_t allowed_count() const = 0;
  // The allowed slots in increasing order, when listing them needs no scan of every slot
  // (an allow-list); returns false otherwise.
  virtual bool list_slots(std::vector<uint32_t>& out) const = 0;
  // True for the filter an unfiltered query gets while removed (or not yet published) rows
  // exist: it allows every live row. A structure that already skips such rows when it
  // collects results (HNSW's node states) may then search as if unfiltered.
  virtual bool hides_removed_only() const { return false; }
};

// The filters of one search call. of(q) is nullptr where query q is unfiltered.
struct RowFilters {
  const RowFilter* shared = nullptr;            // one filter for every query
  std::vector<const RowFilter*> per_query;      // or one per query (empty: use `shared`)
  const RowFilter* of(size_t q) const { return per_query.empty() ? shared : per_query[q]; }
  bool any() const { return shared != nullptr || !per_query.empty(); }
};

// range_search() output, CSR style like faiss: the results of query q are
// ids[lims[q] .. lims[q+1]) and distances[same], nearest first.
struct RangeResult {
  std::vector<size_t> lims;
  std::vector<float> distances;
  std::vector<int64_t> ids;
  // With VectorIndex::range_search's `precise`: the distances in float64, as exactly as the index
  // compared them (they differ only where it scales its rows: see VectorIndex::search).
  std::vector<double> precise;
};

}  // namespace vidx
