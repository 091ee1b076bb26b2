// SPANN lookups by id: contains, ids, get. The id -> list map (live_state.hpp) is built by one
// scan of the posting file on first need, then kept up to date by adds, removes and splits.
#include <algorithm>
#include <string>

#include "live_state.hpp"
#include "vidx/common/error.hpp"

namespace vidx::spann {

bool SpannIndex::has_label(int64_t id) const {
  if (!head_) return false;
  Live& live = this->live();
  ensure_where(live);
  return live.where.contains(id);
}

std::vector<int64_t> SpannIndex::stored_labels() const {
  if (!head_) return {};
  Live& live = this->live();
  ensure_where(live);
  std::vector<int64_t> out;
  out.reserve(live.where.size());
  live.where.for_each([&](int64_t id, uint32_t) { out.push_back(id); });
  std::sort(out.begin(), out.end());
  return out;
}

bool SpannIndex::decode_labels(const int64_t* ids, size_t n, float* out) const {
  if (n == 0) return codec_->decodes_exactly();
  if (!head_) throw InvalidArgument("id " + std::to_string(ids[0]) + " is not in the index");
  Live& live = this->live();
  ensure_where(live);
  std::vector<std::pair<uint32_t, size_t>> by_list(n);  // (list, request)
  for (size_t i = 0; i < n; ++i) {
    const uint32_t* list = live.where.find(ids[i]);
    if (!list) throw InvalidArgument("id " + std::to_string(ids[i]) + " is not in the index");
    by_list[i] = {*list, i};
  }
  std::sort(by_list.begin(), by_list.end());
  ListBuffer b;
  IdTable wanted;  // id -> request, for one list
  for (size_t a = 0; a < n;) {
    const uint32_t h = by_list[a].first;
    wanted.clear();
    size_t z = a;
    for (; z < n && by_list[z].first == h; ++z) wanted.set(ids[by_list[z].second], static_cast<uint32_t>(z));
    read_list(h, b);
    size_t found = 0;
    for (size_t e = 0; e < b.count; ++e) {
      const int64_t raw = b.raw_id(e);
      const uint32_t* at = wanted.find(entry_id(raw));
      if (!at || !live.liveness.live(raw)) continue;
      // Requests may name an id twice: every one of them gets it.
      for (size_t j = a; j < z; ++j)
        if (ids[by_list[j].second] == entry_id(raw)) {
          codec_->decode_split(b.entries.data() + e * b.E + 8, b.T ? b.tails.data() + e * b.T : nullptr,
                               out + by_list[j].second * dim());
          ++found;
        }
      wanted.erase(entry_id(raw));
    }
    if (found != z - a) throw std::logic_error("vidx::spann: an id's list does not hold it");
    a = z;
  }
  return codec_->decodes_exactly();
}

}  // namespace vidx::spann
