#include <string>

#include "vidx/common/error.hpp"
#include "vidx/flat/flat_index.hpp"
#include "vidx/hnsw/hnsw_index.hpp"
#include "vidx/index.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx {
namespace {

[[noreturn]] void unknown_kind(const std::string& kind) {
  throw InvalidArgument("unknown index kind '" + kind + "' (expected 'hnsw', 'flat' or 'spann')");
}

}  // namespace

// The registry of kinds: make_index builds every kind, and load_index makes the kind a file
// names through it before the kind reads its sections.
std::unique_ptr<VectorIndex> make_index(const std::string& kind, size_t dim, Metric metric,
                                        const IndexOptions& options) {
  // A value cast from an integer the enum does not name: it would build and search, then save a
  // file that no load accepts.
  if (metric != Metric::L2 && metric != Metric::IP && metric != Metric::Cosine)
    throw InvalidArgument("unknown metric code " + std::to_string(static_cast<uint32_t>(metric)) +
                          " (expected Metric::L2, Metric::IP or Metric::Cosine)");
  if (kind == "hnsw") return std::make_unique<HnswIndex>(dim, metric, options);
  if (kind == "flat") return std::make_unique<FlatIndex>(dim, metric, options);
  if (kind == "spann") return std::make_unique<spann::SpannIndex>(dim, metric, options);
  unknown_kind(kind);
}

bool kind_keeps_norms(const std::string& kind, Metric metric) {
  if (kind == "hnsw") return VectorIndex::keeps_norms_for(metric, HnswIndex::kStoresLabels);
  if (kind == "flat") return VectorIndex::keeps_norms_for(metric, FlatIndex::kStoresLabels);
  if (kind == "spann") return VectorIndex::keeps_norms_for(metric, spann::SpannIndex::kStoresLabels);
  unknown_kind(kind);
}

void check_ids_for(const std::string& kind, const int64_t* ids, size_t n) {
  if (kind == "hnsw" || kind == "flat") return;  // any int64 id >= 0 (checked where ids are read)
  if (kind != "spann") unknown_kind(kind);
  for (size_t i = 0; i < n; ++i) spann::SpannIndex::check_id(ids[i]);
}

}  // namespace vidx
