#include "vidx/common/error.hpp"
#include "vidx/flat/flat_index.hpp"
#include "vidx/hnsw/hnsw_index.hpp"
#include "vidx/index.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx {

// The registry of kinds: make_index builds every kind, and load_index makes the kind a file
// names through it before the kind reads its sections.
std::unique_ptr<VectorIndex> make_index(const std::string& kind, size_t dim, Metric metric,
                                        const IndexOptions& options) {
  if (kind == "hnsw") return std::make_unique<HnswIndex>(dim, metric, options);
  if (kind == "flat") return std::make_unique<FlatIndex>(dim, metric, options);
  if (kind == "spann") return std::make_unique<spann::SpannIndex>(dim, metric, options);
  throw InvalidArgument("unknown index kind '" + kind + "' (expected 'hnsw', 'flat' or 'spann')");
}

}  // namespace vidx
