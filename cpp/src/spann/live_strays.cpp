// Strays: rows stored far from every head of their lists, because they were added outside the
// region the heads cover (new kinds of data arriving after the build). Such a row is found
// only while no head is much nearer to it than its own lists' heads: the eps pruning skips a
// list whose head is more than (1 + eps) times as far (squared) as the nearest. A later split
// that makes a head near it would hide it at any nprobe (2.3% of rows 5 sigma off the build,
// added 100 at a time). So the open index remembers its strays, and each new head takes in
// those it would otherwise hide. The index file keeps them, so they outlive a load.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "build_phases.hpp"
#include "live_state.hpp"

namespace vidx::spann {
namespace {

// A row is a stray when every head of its lists is farther than this many times the typical
// squared distance of a member to its head.
constexpr float kStrayScale = 4.0f;
// Their vectors stay in memory, at most this many bytes of them; later strays are not noted.
constexpr size_t kMaxStrayBytes = size_t{32} << 20;
// Lists sampled for the typical member distance.
constexpr size_t kReachSampleLists = 16;

}  // namespace

float SpannIndex::typical_reach(Live& live) const {
  if (live.typical_reach > 0) return live.typical_reach;
  const size_t lists = postings_->lists().size(), d = dim();
  std::vector<float> reach, v(d);
  ListBuffer b;
  const auto& kt = simd::kernels();
  for (size_t s = 0; s < kReachSampleLists; ++s) {
    const uint32_t h = static_cast<uint32_t>(s * lists / kReachSampleLists);
    if (postings_->lists()[h].count == 0) continue;
    read_list(h, b);
    const float* c = live.head_vectors.data() + size_t(h) * d;
    for (size_t e = 0; e < b.count; ++e) {
      codec_->decode_split(b.entries.data() + e * b.E + 8, b.T ? b.tails.data() + e * b.T : nullptr, v.data());
      reach.push_back(kt.l2sq(v.data(), c, d));
    }
  }
  if (reach.empty()) return 0;  // nothing stored yet: no scale, no strays
  std::nth_element(reach.begin(), reach.begin() + reach.size() / 2, reach.end());
  live.typical_reach = std::max(reach[reach.size() / 2], std::numeric_limits<float>::min());
  return live.typical_reach;
}

float SpannIndex::row_reach(const Live& live, const float* row, const uint32_t* lists) const {
  const size_t R = options().spann.replicas, d = dim();
  const auto& kt = simd::kernels();
  auto to_head = [&](uint32_t l) { return kt.l2sq(row, live.head_vectors.data() + size_t(l) * d, d); };
  float reach = std::numeric_limits<float>::infinity();
  for (size_t r = 0; r < R && lists[r] != kNoList; ++r) {
    float to_list = to_head(lists[r]);
    // A list the running add split holds the row in one of its two parts: count the farther.
    for (const auto& [from, to] : live.split_into)
      if (from == lists[r]) to_list = std::max(to_list, to_head(to));
    reach = std::min(reach, to_list);
  }
  return reach;
}

void SpannIndex::note_strays(Live& live, const float* x, size_t n, const int64_t* labels,
                             const std::vector<uint32_t>& lists) {
  if (head_->metric() != Metric::L2 || !std::isfinite(options().spann.eps)) return;  // no ratio to break
  const float limit = kStrayScale * typical_reach(live);
  if (limit <= 0) return;
  const size_t R = options().spann.replicas, d = dim();
  const size_t most = kMaxStrayBytes / (d * sizeof(float));
  for (size_t i = 0; i < n && live.strays.ids.size() < most; ++i) {
    const float reach = row_reach(live, x + i * d, lists.data() + i * R);
    if (reach <= limit) continue;
    live.strays.ids.push_back(labels[i]);
    live.strays.vectors.insert(live.strays.vectors.end(), x + i * d, x + (i + 1) * d);
    live.strays.reach.push_back(reach);
  }
}

void SpannIndex::rehome_strays(Live& live, uint32_t g, ListBuffer& b) {
  Strays& s = live.strays;
  if (s.ids.empty()) return;
  const size_t d = dim();
  const double ratio = 1.0 + options().spann.eps;
  const float limit = kStrayScale * live.typical_reach;
  const float* cg = live.head_vectors.data() + size_t(g) * d;
  const auto& kt = simd::kernels();
  std::vector<uint8_t> code(codec_->code_size());
  const size_t E = b.E, head_bytes = codec_->head_size();
  std::vector<uint8_t> entry(E);
  IdTable held;
  for (size_t e = 0; e < b.count; ++e) held.set(entry_id(b.raw_id(e)), 0);
  size_t kept = 0;
  for (size_t i = 0; i < s.ids.size(); ++i) {
    const int64_t id = s.ids[i];
    if (!live.where.contains(id)) continue;  // removed: forget it
    const float* v = s.vectors.data() + i * d;
    float reach = s.reach[i];
    const float to_g = kt.l2sq(v, cg, d);
    if (reach > ratio * to_g && !held.contains(id)) {
      // The entry as stored: the id's current version, and the codes its add encoded (the
      // codec is deterministic once trained).
      const uint32_t* version = live.liveness.table().find(id);
      const int64_t raw = id | (int64_t(version ? *version & kVersionMask : 0) << kVersionShift);
      codec_->encode(v, code.data());
      std::fill(entry.begin(), entry.end(), uint8_t{0});
      std::memcpy(entry.data(), &raw, 8);
      std::memcpy(entry.data() + 8, code.data(), head_bytes);
      b.push(entry.data(), b.T ? code.data() + head_bytes : nullptr);
      ++live.reassigned;
      reach = to_g;
    }
    if (reach <= limit) continue;  // a head is near it now
    s.ids[kept] = id;
    std::copy(v, v + d, s.vectors.begin() + kept * d);
    s.reach[kept] = reach;
    ++kept;
  }
  s.ids.resize(kept);
  s.vectors.resize(kept * d);
  s.reach.resize(kept);
}

}  // namespace vidx::spann
