// SPANN build phases 4-5: every row into up to `replicas` lists (RNG rule), then every list
// bounded to `posting_limit` entries and every entry given its position.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "build_phases.hpp"

namespace vidx::spann {
namespace {

// Phase 4: list numbers into a.list, distances (as bits) into a.position.
void assign_replicas(BuildContext& b, Heads& heads, Assignment& a) {
  const size_t R = a.replicas, dim = b.dim;
  const size_t C = std::min(std::min(b.options.spann.candidates, b.heads_target), heads.index->size());
  const double rng_factor = b.options.spann.rng_factor;
  const HeadDistance head_distance{heads.vectors.data(), dim, heads.index->metric()};
  std::vector<float> buf(b.chunk * dim), cd(b.chunk * C);
  std::vector<int64_t> ci(b.chunk * C);
  b.mem.add(b.chunk * (dim * 4 + C * 12));
  SearchParams sp;
  sp.ef = std::max(C, b.options.ef_search);
  for (size_t begin = 0; begin < b.n; begin += b.chunk) {
    const size_t c = std::min(b.chunk, b.n - begin);
    b.read_rows(begin, c, buf.data());
    heads.index->search(buf.data(), c, C, sp, cd.data(), ci.data());
    b.pool.parallel_for(
        c,
        [&](size_t i, size_t) {
          uint32_t* acc = a.list.data() + (begin + i) * R;
          std::vector<float> dist(R);
          const size_t cnt =
              accept_replicas(cd.data() + i * C, ci.data() + i * C, C, R, rng_factor, head_distance, acc, dist.data());
          std::memcpy(a.position.data() + (begin + i) * R, dist.data(), cnt * 4);  // distances as bits
        },
        64);
    b.report("assign", begin + c, b.n);
  }
  b.mem.sub(b.chunk * (dim * 4 + C * 12));
}

// Phase 5: drops the farthest members of lists over the limit (never a row's last list),
// then numbers each list's entries.
void bound_lists(BuildContext& b, Assignment& a) {
  const size_t R = a.replicas, H = a.counts.size();
  std::vector<uint64_t> offsets(H + 1, 0);
  for (size_t h = 0; h < H; ++h) offsets[h + 1] = offsets[h] + a.counts[h];
  std::vector<uint64_t> members(a.entries);
  std::vector<uint8_t> remaining(b.n, 0);
  b.mem.add(a.entries * 8 + b.n + H * 8);
  std::vector<uint64_t> fill(offsets.begin(), offsets.end() - 1);
  for (size_t slot = 0; slot < b.n * R; ++slot)
    if (a.list[slot] != kNoList) {
      members[fill[a.list[slot]]++] = slot;
      ++remaining[slot / R];
    }
  auto dist_of = [&](uint64_t slot) {
    float d;
    std::memcpy(&d, &a.position[slot], 4);
    return d;
  };
  for (size_t h = 0; h < H; ++h) {
    if (a.counts[h] <= a.limit) continue;
    uint64_t* first = members.data() + offsets[h];
    uint64_t* last = members.data() + offsets[h + 1];
    std::sort(first, last, [&](uint64_t x, uint64_t y) {
      const float dx = dist_of(x), dy = dist_of(y);
      return dx < dy || (dx == dy && x < y);
    });
    for (uint64_t* p = first + a.limit; p < last; ++p)
      if (remaining[*p / R] > 1) {
        a.list[*p] = kNoList;
        --remaining[*p / R];
        ++a.dropped;
      }
  }
  for (size_t h = 0; h < H; ++h) {
    uint32_t pos = 0;
    for (uint64_t j = offsets[h]; j < offsets[h + 1]; ++j)
      if (a.list[members[j]] == h) a.position[members[j]] = pos++;
    a.counts[h] = pos;
  }
  b.mem.sub(a.entries * 8 + b.n + H * 8);
  a.entries -= a.dropped;
}

}  // namespace

Assignment assign_rows(BuildContext& b, Heads& heads) {
  Assignment a;
  a.replicas = b.options.spann.replicas;
  const size_t H = heads.index->size();
  a.list.assign(b.n * a.replicas, kNoList);
  a.position.assign(b.n * a.replicas, 0);
  b.mem.add(b.n * a.replicas * 8);
  assign_replicas(b, heads, a);
  b.mem.sub(heads.vectors.size() * 4);
  std::vector<float>().swap(heads.vectors);
  a.counts.assign(H, 0);
  for (uint32_t h : a.list)
    if (h != kNoList) {
      ++a.counts[h];
      ++a.entries;
    }
  const size_t limit = b.options.spann.posting_limit;
  a.limit = limit ? limit : std::max<size_t>(16, static_cast<size_t>(std::ceil(3.0 * a.entries / std::max<size_t>(H, 1))));
  bound_lists(b, a);
  return a;
}

}  // namespace vidx::spann
