// The living-index reads of VectorIndex (get, contains, ids) and the hooks' defaults (a kind
// that does not implement a hook refuses it by name). The writes are in index_write.cpp.
#include <string>

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
bool VectorIndex::decode_rows(const uint32_t*, size_t, float*) const { refuse("get", *this); }
bool VectorIndex::decode_labels(const int64_t*, size_t, float*) const { refuse("get", *this); }
bool VectorIndex::has_label(int64_t) const { refuse("contains", *this); }
std::vector<int64_t> VectorIndex::stored_labels() const { refuse("ids", *this); }
std::vector<uint32_t> VectorIndex::compact_rows(ThreadPool&) { refuse("compact", *this); }
void VectorIndex::range_search_rows(const float*, size_t, float, const SearchParams&, RangeResult&, ThreadPool&) const {
  refuse("range_search", *this);
}

bool VectorIndex::get(const int64_t* ids, size_t n, float* out) const {
  if (stores_labels()) {
    auto lock = lock_shared();
    for (size_t i = 0; i < n; ++i)
      if (!has_label(ids[i])) throw InvalidArgument("id " + std::to_string(ids[i]) + " is not in the index");
    return decode_labels(ids, n, out);
  }
  std::vector<uint32_t> slots(n);
  // Holding the write mutex, no slot changes hands (removed, then reused) while it is read.
  std::unique_lock<std::mutex> writing(write_mutex_);
  for (size_t i = 0; i < n; ++i) {
    const int64_t slot = ids_.slot_of(ids[i]);
    if (slot < 0) throw InvalidArgument("id " + std::to_string(ids[i]) + " is not in the index");
    slots[i] = static_cast<uint32_t>(slot);
  }
  auto lock = lock_shared();
  return decode_rows(slots.data(), n, out);
}

bool VectorIndex::contains(int64_t id) const {
  auto lock = lock_shared();
  return stores_labels() ? has_label(id) : ids_.contains(id);
}

std::vector<int64_t> VectorIndex::ids() const {
  auto lock = lock_shared();
  return stores_labels() ? stored_labels() : ids_.live_labels();
}

// Placeholder until the filters work lands (issue 10).
void VectorIndex::range_search(const float*, size_t, float, const SearchParams&, RangeResult&) const {
  refuse("range_search", *this);
}

}  // namespace vidx
