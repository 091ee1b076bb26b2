// The C++ API that programs embedding vidx use, and that the Python bindings wrap.
//
//   auto index = vidx::make_index("hnsw", 128, vidx::Metric::L2, vidx::IndexOptions{});
//   index->add(data, n, nullptr);                 // ids assigned 0..n-1
//   index->search(queries, nq, 10, 0, D, I);      // D: nq*10 floats, I: nq*10 ids (-1 = none)
//   index->save("my.vidx");  auto again = vidx::load_index("my.vidx");
//
// Thread safety: any number of concurrent searches; add() excludes searches while it runs.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/common/id_map.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/common/writer_first_mutex.hpp"

namespace vidx {

namespace io {
class IndexFileWriter;
class IndexFileReader;
}  // namespace io

// Construction parameters shared by all kinds; each kind reads the ones it knows.
struct IndexOptions {
  size_t M = 16;                 // HNSW: links per node (2M on level 0)
  size_t ef_construction = 200;  // HNSW: beam width while building
  size_t ef_search = 64;         // HNSW: default beam width of search() when ef == 0
  uint64_t seed = 0;             // everything random is derived from it
  size_t threads = 0;            // 0 = all cores
  std::string quantization = "none";  // codec: "none" (float32), "lvq8", "lvq4x8", ...
  // Candidates re-scored with precise distances after a compressed traversal; 0 = all of
  // the beam (max(ef, k)). Used when the codec has a precise level or vectors are kept.
  size_t rerank = 0;
  bool keep_vectors = false;  // also keep float32 vectors beside the codes, to re-rank with
};

// Per-call search settings; 0 takes the index default.
struct SearchParams {
  size_t ef = 0;
  size_t rerank = 0;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  virtual std::string kind() const = 0;
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t size() const;
  const IndexOptions& options() const { return options_; }

  // Adds n vectors (row-major n x dim floats). ids: n user ids or nullptr to assign them.
  // Validates everything first (finite values, unique ids): on error nothing is changed.
  void add(const float* x, size_t n, const int64_t* ids);

  // k nearest for each of nq queries. distances/ids: nq*k, nearest first; slots that could
  // not be filled hold +inf / -1. ef = 0 uses the index default.
  void search(const float* queries, size_t nq, size_t k, size_t ef, float* distances, int64_t* ids) const {
    search(queries, nq, k, SearchParams{ef, 0}, distances, ids);
  }
  void search(const float* queries, size_t nq, size_t k, const SearchParams& params, float* distances,
              int64_t* ids) const;

  void save(const std::string& path) const;
  size_t memory_usage() const;
  // memory_usage() by part, summing to it. Structures name theirs: HNSW and flat give "codes"
  // (what a search walks with: float32, LVQ primary codes, 1-bit codes), "rerank_codes"
  // (LVQ residuals, binary's LVQ-8 level), "graph", "kept_vectors", "codec" (mean,
  // rotation), "scratch"; the base adds "ids" and "other".
  std::map<std::string, size_t> memory_breakdown() const;

  size_t threads() const { return options_.threads; }
  void set_threads(size_t threads);

 protected:
  VectorIndex(size_t dim, Metric metric, IndexOptions options);

  // Structure hooks. Rows reach them already normalised for cosine; the caller holds the
  // write lock (add) or a read lock (search, save, memory).
  virtual void add_rows(const float* x, size_t n, ThreadPool& pool) = 0;
  // Writes slot numbers (or -1) into `slots` as int64; the base maps them to user ids.
  // params.ef is already resolved (never 0); params.rerank may be 0 (automatic).
  virtual void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                           int64_t* slots, ThreadPool& pool) const = 0;
  virtual size_t structure_size() const = 0;
  virtual size_t structure_memory() const = 0;
  // structure_memory() by part; one "structure" entry unless a structure says more.
  virtual std::map<std::string, size_t> structure_memory_parts() const { return {{"structure", structure_memory()}}; }
  virtual void write_sections(io::IndexFileWriter& out) const = 0;
  virtual void read_sections(const io::IndexFileReader& in) = 0;

  friend std::unique_ptr<VectorIndex> load_index(const std::string& path);

 private:
  ThreadPool& pool() const;

  size_t dim_;
  Metric metric_;
  IndexOptions options_;
  IdMap ids_;
  mutable WriterFirstMutex rw_;  // add() is not starved by a stream of searches
  mutable std::mutex pool_mutex_;
  mutable std::unique_ptr<ThreadPool> pool_;
};

// kind: "hnsw" or "flat". Throws InvalidArgument for unknown kinds or bad parameters.
std::unique_ptr<VectorIndex> make_index(const std::string& kind, size_t dim, Metric metric,
                                        const IndexOptions& options);
// Verifies the whole file (magic, version, checksums, structure) before using it.
std::unique_ptr<VectorIndex> load_index(const std::string& path);

}  // namespace vidx
