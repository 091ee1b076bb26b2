// VectorIndex::range_search, and what search() and range_search() share about filters.
#include <cmath>
#include <limits>
#include <string>

#include "search_filter.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/index.hpp"

namespace vidx {

bool VectorIndex::has_removed_rows() const { return !stores_labels() && removed_unreclaimed() != 0; }

void VectorIndex::range_search(const float* queries, size_t nq, float radius, const SearchParams& params,
                               RangeResult& out, bool precise) const {
  check_search_params(params);
  require_data(queries, nq, dim_, "range_search: queries");
  if (std::isnan(radius)) throw InvalidArgument("radius must be a number, got nan");
  out.lims.assign(nq + 1, 0);
  out.distances.clear();
  out.ids.clear();
  out.precise.clear();
  if (nq == 0) return;
  check_filters(params, nq);
  auto lock = lock_shared();
  // From the filters' slots to the results' ids, no slot removed meanwhile holds another row.
  const RetiredSlots::Call call(retired_);
  std::unique_ptr<float[]> normalized;
  const float* q = checked_queries(metric_, queries, nq, dim_, normalized, pool(), scale_.factor());
  SearchParams resolved = resolve(params, 1);
  const CallFilters filters(params, nq, stores_labels() ? nullptr : &ids_, structure_size(), has_removed_rows());
  resolved.row_filters = filters.get();
  range_search_rows(q, nq, scale_.index_radius(radius, metric_), resolved, out, pool());
  if (precise) {
    out.precise.resize(out.distances.size());
    for (size_t i = 0; i < out.distances.size(); ++i)
      out.precise[i] = scale_.precise_user_distance(out.distances[i], metric_);
  }
  if (scale_.scaled())
    for (float& d : out.distances) {
      // Rows inside the radius whose float32 distance rounds up to it still report one under it.
      d = scale_.user_distance(d, metric_);
      if (d >= radius) d = std::nextafter(radius, -std::numeric_limits<float>::infinity());
    }
  if (stores_labels()) return;
  // Slots to ids. A slot removed by a concurrent writer after the structure saw it live reads
  // as a negative label: that result is dropped and the arrays close up.
  size_t kept = 0, start = 0;
  for (size_t i = 0; i < nq; ++i) {
    const size_t end = out.lims[i + 1];
    for (size_t j = start; j < end; ++j) {
      const int64_t label = ids_.label(static_cast<uint32_t>(out.ids[j]));
      if (label < 0) continue;
      out.distances[kept] = out.distances[j];
      if (precise) out.precise[kept] = out.precise[j];
      out.ids[kept++] = label;
    }
    start = end;
    out.lims[i + 1] = kept;
  }
  out.distances.resize(kept);
  out.ids.resize(kept);
  if (precise) out.precise.resize(kept);
}

}  // namespace vidx
