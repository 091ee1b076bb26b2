// The living-index half of VectorIndex: remove, upsert, get, ids, compact, and the hooks'
// defaults (a kind that does not implement a hook refuses it by name).
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/index.hpp"

namespace vidx {
namespace {

[[noreturn]] void refuse(const std::string& what, const std::string& kind) {
  throw InvalidArgument(what + " is not supported by a '" + kind + "' index");
}

}  // namespace

void VectorIndex::remove_rows(const uint32_t*, size_t, ThreadPool&) { refuse("remove", kind()); }
void VectorIndex::add_labelled(const float*, size_t, const int64_t*, ThreadPool&) { refuse("add after the build", kind()); }
size_t VectorIndex::remove_labels(const int64_t*, size_t, ThreadPool&) { refuse("remove", kind()); }
bool VectorIndex::decode_rows(const uint32_t*, size_t, float*) const { refuse("get", kind()); }
bool VectorIndex::decode_labels(const int64_t*, size_t, float*) const { refuse("get", kind()); }
bool VectorIndex::has_label(int64_t) const { refuse("contains", kind()); }
std::vector<int64_t> VectorIndex::stored_labels() const { refuse("ids", kind()); }
std::vector<uint32_t> VectorIndex::compact_rows(ThreadPool&) { refuse("compact", kind()); }
void VectorIndex::range_search_rows(const float*, size_t, float, const SearchParams&, RangeResult&, ThreadPool&) const {
  refuse("range_search", kind());
}

// Placeholders until the living-index work lands (issue 10): each refuses by name.
// Every public write starts with check_writable (an index loaded with mmap is read-only).
size_t VectorIndex::remove(const int64_t*, size_t, bool) {
  check_writable("remove");
  refuse("remove", kind());
}
void VectorIndex::upsert(const float*, size_t, const int64_t*) {
  check_writable("upsert");
  refuse("upsert", kind());
}
bool VectorIndex::get(const int64_t*, size_t, float*) const { refuse("get", kind()); }
bool VectorIndex::contains(int64_t id) const {
  auto lock = lock_shared();
  return stores_labels() ? has_label(id) : ids_.contains(id);
}
std::vector<int64_t> VectorIndex::ids() const {
  auto lock = lock_shared();
  return stores_labels() ? stored_labels() : ids_.labels();
}
void VectorIndex::compact() {
  check_writable("compact");
  refuse("compact", kind());
}
void VectorIndex::range_search(const float*, size_t, float, const SearchParams&, RangeResult&) const {
  refuse("range_search", kind());
}

}  // namespace vidx
