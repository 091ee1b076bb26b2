// The living-index reads of VectorIndex (get, contains, ids) and the hooks' defaults (a kind
// that does not implement a hook refuses it by name). The writes are in index_write.cpp.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "search_filter.hpp"
#include "vidx/common/error.hpp"
#include "vidx/index.hpp"

namespace vidx {
namespace {

[[noreturn]] void refuse(const std::string& what, const VectorIndex& index) {
  const std::string where = index.device() == "cpu" ? "" : " on " + index.device();
  throw InvalidArgument(what + " is not supported by a '" + index.kind() + "' index" + where);
}

}  // namespace

void VectorIndex::remove_rows(const uint32_t*, size_t, ThreadPool&) { refuse("remove", *this); }
void VectorIndex::add_labelled(const float*, size_t, const int64_t*, ThreadPool&) {
  refuse("add after the build (this index is already built)", *this);
}
size_t VectorIndex::remove_labels(const int64_t*, size_t, ThreadPool&) { refuse("remove", *this); }
void VectorIndex::upsert_labelled(const float*, size_t, const int64_t*, const std::vector<int64_t>&, ThreadPool&) {
  refuse("upsert", *this);
}
bool VectorIndex::decode_rows(const uint32_t*, size_t, float*) const { refuse("get", *this); }
bool VectorIndex::decode_labels(const int64_t*, size_t, float*) const { refuse("get", *this); }
bool VectorIndex::has_label(int64_t) const { refuse("contains", *this); }
std::vector<int64_t> VectorIndex::stored_labels() const { refuse("ids", *this); }
std::vector<uint32_t> VectorIndex::compact_rows(ThreadPool&) { refuse("compact", *this); }
void VectorIndex::range_search_rows(const float*, size_t, float, const SearchParams&, RangeResult&, ThreadPool&) const {
  refuse("range_search", *this);
}

bool VectorIndex::get(const int64_t* ids, size_t n, float* out) const {
  require_data(ids, n, "get: ids");
  require_data(out, n, dim_, "get: out");
  if (stores_labels()) {
    auto lock = lock_shared();
    for (size_t i = 0; i < n; ++i)
      if (!has_label(ids[i])) throw InvalidArgument("id " + std::to_string(ids[i]) + " is not in the index");
    const bool exact = decode_labels(ids, n, out);
    scale_.undo(out, n * dim_);
    return exact;
  }
  std::vector<uint32_t> slots(n);
  // Holding the write mutex, no slot changes hands (removed, then reused) while it is read.
  WriteGuard writing = lock_writes();
  for (size_t i = 0; i < n; ++i) {
    const int64_t slot = ids_.slot_of(ids[i]);
    if (slot < 0) throw InvalidArgument("id " + std::to_string(ids[i]) + " is not in the index");
    slots[i] = static_cast<uint32_t>(slot);
  }
  auto lock = lock_shared();
  const bool exact = decode_rows(slots.data(), n, out);
  if (keeps_norms()) norms_.scale(slots.data(), n, dim_, out);  // the vectors as added
  scale_.undo(out, n * dim_);
  return exact;
}

std::vector<size_t> VectorIndex::slots_to_labels(float* distances, int64_t* ids, size_t nq, size_t k) const {
  // A structure checks slot_is_live while it searches, but with concurrent writes a slot may
  // be removed (label -1) or removed and reserved again (-2) before its label is read here:
  // such results are dropped and the row closes up, so that padding stays at the tail.
  std::vector<size_t> lost;
  for (size_t q = 0; q < nq; ++q) {
    float* d = distances + q * k;
    int64_t* row = ids + q * k;
    size_t kept = 0, found = 0;
    for (size_t j = 0; j < k; ++j) {
      if (row[j] < 0) continue;
      ++found;
      const int64_t label = ids_.label(static_cast<uint32_t>(row[j]));
      if (label < 0) continue;
      d[kept] = d[j];
      row[kept++] = label;
    }
    if (kept < found) lost.push_back(q);
    std::fill(d + kept, d + k, std::numeric_limits<float>::infinity());
    std::fill(row + kept, row + k, int64_t{-1});
  }
  return lost;
}

void VectorIndex::labels_for_results(const float* q, size_t nq, size_t k, const SearchParams& params,
                                     float* distances, int64_t* ids) const {
  // A query whose results a concurrent remove thinned is searched again: the removed rows are
  // hidden by then, and other rows take their places (dropped, a search beside removes came
  // back short of k while thousands of rows were live). Its filter is made again, as one that
  // hides removed rows: one made while none was removed may read allowed ids as slots without
  // asking whether they are live, and a flat scan would find the removed row again. Removes
  // that keep coming could thin every try, so the tries are bounded; the last one's results stand.
  constexpr int kTries = 4;
  std::vector<size_t> lost = slots_to_labels(distances, ids, nq, k);
  for (int attempt = 0; attempt < kTries && !lost.empty(); ++attempt) {
    std::vector<size_t> still;
    for (const size_t i : lost) {
      SearchParams again = params;  // query i's filter, as the query of a search of one
      again.filters = params.filter_count > 1 ? params.filters + i : params.filters;
      again.filter_count = params.filter_count ? 1 : 0;
      const CallFilters filters(again, 1, &ids_, structure_size(), true);
      again.row_filters = filters.get();
      search_rows(q + i * dim_, 1, k, again, distances + i * k, ids + i * k, pool());
      if (!slots_to_labels(distances + i * k, ids + i * k, 1, k).empty()) still.push_back(i);
    }
    lost.swap(still);
  }
}

bool VectorIndex::contains(int64_t id) const {
  auto lock = lock_shared();
  return stores_labels() ? has_label(id) : ids_.contains(id);
}

std::vector<int64_t> VectorIndex::ids() const {
  auto lock = lock_shared();
  return stores_labels() ? stored_labels() : ids_.live_labels();
}

}  // namespace vidx
