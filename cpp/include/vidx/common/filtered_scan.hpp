// Exhaustive scans under a filter, shared by flat search and HNSW's exact-scan fallback:
// distances from a query to every row a RowFilter allows, computed a block at a time with the
// codec's batch kernel. Rows are codes at base + slot * stride.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/common/id_filter.hpp"
#include "vidx/common/topk.hpp"

namespace vidx {

// Calls take(slot) for every slot in [0, count) that `filter` allows (every slot when filter
// is null), in slot order. When the filter lists its slots (an allow-list), only those are
// visited; otherwise each slot is tested.
template <class Take>
void for_each_allowed_slot(const RowFilter* filter, size_t count, Take take) {
  std::vector<uint32_t> listed;
  if (filter && filter->list_slots(listed)) {
    for (uint32_t s : listed)
      if (s < count) take(s);
  } else {
    for (size_t s = 0; s < count; ++s)
      if (!filter || filter->allows_slot(static_cast<uint32_t>(s))) take(static_cast<uint32_t>(s));
  }
}

// Calls emit(distance, slot) for every slot in [0, count) that `filter` allows (every slot
// when filter is null). When the filter lists its slots (an allow-list), only those are read;
// otherwise each slot is tested and only allowed ones are scored. bound() (called before
// each block of rows): a distance from which on a row is of no interest, so it may be emitted
// with any value at least that instead (QueryDistance::batch_bounded_exact); infinity: none.
template <class Emit, class Bound>
void scan_allowed_rows(const QueryDistance& query, const uint8_t* base, size_t stride, size_t count,
                       const RowFilter* filter, Emit emit, Bound bound) {
  constexpr size_t kBlock = 256;  // codes per batch-kernel call
  const uint8_t* codes[kBlock];
  uint32_t slots[kBlock];
  float dist[kBlock];
  size_t n = 0;
  auto flush = [&] {
    const float b = bound();
    if (b < std::numeric_limits<float>::infinity()) query.batch_bounded_exact(codes, n, b, dist);
    else query.batch(codes, n, dist);
    for (size_t j = 0; j < n; ++j) emit(dist[j], slots[j]);
    n = 0;
  };
  for_each_allowed_slot(filter, count, [&](uint32_t slot) {
    slots[n] = slot;
    codes[n] = base + static_cast<size_t>(slot) * stride;
    if (++n == kBlock) flush();
  });
  if (n) flush();
}

template <class Emit>
void scan_allowed_rows(const QueryDistance& query, const uint8_t* base, size_t stride, size_t count,
                       const RowFilter* filter, Emit emit) {
  scan_allowed_rows(query, base, stride, count, filter, emit, [] { return std::numeric_limits<float>::infinity(); });
}

// The `width` nearest allowed rows, nearest first.
inline std::vector<Neighbor> nearest_allowed_rows(const QueryDistance& query, const uint8_t* base, size_t stride,
                                                  size_t count, const RowFilter* filter, size_t width) {
  TopK top(width);
  // Once the top is full, a row at or beyond its worst cannot enter (the next float up, so a
  // row at exactly the worst is still computed and offered, as without a bound): bounded
  // kernels stop reading such rows early (float32 and float16 L2, f32_pca's rotated basis
  // most of all).
  scan_allowed_rows(
      query, base, stride, count, filter, [&](float d, uint32_t s) { if (d <= top.threshold()) top.push(d, s); },
      [&] { return std::nextafter(top.threshold(), std::numeric_limits<float>::infinity()); });
  return std::move(top.sorted());
}

// Joins per-query results (each nearest first) into a RangeResult's CSR arrays.
inline void append_range_results(const std::vector<std::vector<Neighbor>>& per_query, RangeResult& out) {
  out.lims.assign(per_query.size() + 1, 0);
  for (size_t q = 0; q < per_query.size(); ++q) out.lims[q + 1] = out.lims[q] + per_query[q].size();
  out.distances.resize(out.lims.back());
  out.ids.resize(out.lims.back());
  size_t at = 0;
  for (const auto& results : per_query)
    for (const Neighbor& r : results) {
      out.distances[at] = r.distance;
      out.ids[at++] = r.slot;
    }
}

}  // namespace vidx
