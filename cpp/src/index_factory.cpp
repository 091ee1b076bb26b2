#include "vidx/common/error.hpp"
#include "vidx/flat/flat_index.hpp"
#include "vidx/hnsw/hnsw_index.hpp"
#include "vidx/index.hpp"

namespace vidx {

std::unique_ptr<VectorIndex> make_index(const std::string& kind, size_t dim, Metric metric,
                                        const IndexOptions& options) {
  if (kind == "hnsw") return std::make_unique<HnswIndex>(dim, metric, options);
  if (kind == "flat") return std::make_unique<FlatIndex>(dim, metric, options);
  if (kind == "spann")
    throw InvalidArgument("a SPANN index keeps its postings on disk and is not built through make_index: use "
                          "vidx::spann::SpannIndex (vidx/spann/spann_index.hpp) and SpannIndex::load");
  throw InvalidArgument("unknown index kind '" + kind + "' (expected 'hnsw' or 'flat')");
}

}  // namespace vidx
