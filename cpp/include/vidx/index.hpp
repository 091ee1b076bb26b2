// The C++ API that programs embedding vidx use, and that the Python bindings wrap.
//
//   auto index = vidx::make_index("hnsw", 128, vidx::Metric::L2, vidx::IndexOptions{});
//   index->add(data, n, nullptr);                 // ids assigned 0..n-1
//   index->search(queries, nq, 10, 0, D, I);      // D: nq*10 floats, I: nq*10 ids (-1 = none)
//   index->save("my.vidx");  auto again = vidx::load_index("my.vidx");
//
// Thread safety: any number of concurrent searches; add() excludes searches while it runs
// (a SPANN build runs without the lock: searches see an empty index until it is done).
// Structures that say concurrent_writes() let add/remove/upsert run beside searches.
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/common/id_filter.hpp"
#include "vidx/common/id_map.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/common/writer_first_mutex.hpp"
#include "vidx/io/vector_source.hpp"
#include "vidx/options.hpp"

namespace vidx {

namespace io {
class IndexFileWriter;
class IndexFileReader;
}  // namespace io

// Per-call search settings; 0 (eps: a negative value) takes the index default. A setting
// the kind does not use (nprobe for HNSW, keep ef for flat...) is refused, see search().
struct SearchParams {
  size_t ef = 0;      // graph beam width (HNSW; SPANN: its head graph)
  size_t rerank = 0;  // candidates re-scored precisely (compressed codes)
  size_t nprobe = 0;  // SPANN: posting lists read
  double eps = -1;    // SPANN: skip head i when d(q, h_i) > (1 + eps) d(q, h_1); inf: never
  // Filters over user ids: filter_count 0 = none, 1 = the same for every query, nq = one per query.
  const IdFilter* filters = nullptr;
  size_t filter_count = 0;
  // Set by the base for the structure (callers leave it null): the filters above as RowFilters,
  // plus rows removed but not yet reclaimed. Null when nothing is filtered.
  const RowFilters* row_filters = nullptr;
};

// What load_index may override in a saved index (SPANN: where its posting file is).
struct LoadOptions {
  std::string posting_path;  // empty: where it was built, else beside the index file
  int direct_io = -1;        // -1: as saved, 0: off, 1: on
};

// Where a long add() is: phase ("add"; SPANN: "sample", "heads", "head index", "assign",
// "write"), done, total. Called from the adding thread with no lock held.
using ProgressFn = std::function<void(const std::string&, size_t, size_t)>;

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  virtual std::string kind() const = 0;
  // Where the structure runs: "cpu", or "cuda:N" for one built by vidx::gpu (cuda/cuda.hpp).
  virtual std::string device() const { return "cpu"; }
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t size() const;
  const IndexOptions& options() const { return options_; }

  // Adds n vectors (row-major n x dim floats). ids: n user ids or nullptr to assign them.
  // Validates everything first (finite values, unique ids): on error nothing is changed.
  void add(const float* x, size_t n, const int64_t* ids);
  // Adds every row of `source` (ids: one per row or nullptr), read a block at a time, with no
  // lock held while it reads. Kinds built in one pass (SPANN) build from it; the others add
  // each block as add() does (an error leaves the blocks before it added).
  void add(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress = {});

  // k nearest for each of nq queries. distances/ids: nq*k, nearest first; slots that could
  // not be filled hold +inf / -1. ef = 0 uses the index default.
  void search(const float* queries, size_t nq, size_t k, size_t ef, float* distances, int64_t* ids) const {
    SearchParams params;
    params.ef = ef;
    search(queries, nq, k, params, distances, ids);
  }
  void search(const float* queries, size_t nq, size_t k, const SearchParams& params, float* distances,
              int64_t* ids) const;

  // ---- a living index: every kind, the same API (kinds that cannot throw InvalidArgument) ----
  // Removes the vectors with these ids; they leave search results before it returns. An id
  // not in the index throws (nothing removed) unless ignore_missing. Returns how many went.
  size_t remove(const int64_t* ids, size_t n, bool ignore_missing = false);
  // Adds the vectors, replacing those whose ids are already present.
  void upsert(const float* x, size_t n, const int64_t* ids);
  // The stored vectors of `ids` into out (n x dim); an unknown id throws. Returns true when
  // they are exact (float32 storage or keep_vectors), false when decoded from lossy codes.
  bool get(const int64_t* ids, size_t n, float* out) const;
  bool contains(int64_t id) const;
  std::vector<int64_t> ids() const;
  // Gives back the memory of removed rows (renumbers slots; ids are unchanged).
  void compact();
  // Every stored vector within `radius` of each query (distance < radius, in search()'s
  // distance), CSR style. Graph kinds find them with a search widened while it finds more.
  void range_search(const float* queries, size_t nq, float radius, const SearchParams& params,
                    RangeResult& out) const;

  void save(const std::string& path) const;
  size_t memory_usage() const;
  // Counters a kind keeps (SPANN: build figures, and posting reads since reset_stats()).
  virtual std::map<std::string, double> stats() const { return {}; }
  virtual void reset_stats() {}
  // memory_usage() by part, summing to it. Structures name theirs: HNSW and flat give "codes"
  // (what a search walks with: float32, LVQ primary codes, 1-bit codes), "rerank_codes"
  // (LVQ residuals, binary's LVQ-8 level), "graph", "kept_vectors", "codec" (mean,
  // rotation), "scratch"; the base adds "ids" and "other".
  std::map<std::string, size_t> memory_breakdown() const;

  // Kinds built in one pass over all their vectors (SPANN) return true and implement build();
  // add() then calls build() once, without holding the index lock, and refuses a second add.
  virtual bool builds_once() const { return false; }

  size_t threads() const { return options_.threads; }
  void set_threads(size_t threads);

 protected:
  VectorIndex(size_t dim, Metric metric, IndexOptions options);

  // Structure hooks. Rows reach them already normalised for cosine; the caller holds the
  // write lock (add) or a read lock (search, save, memory).
  // Row i of x goes to slot slots[i]: the base hands out slots freed by remove (reclaimed by
  // remove_rows) first, then structure_size(), structure_size() + 1, ... (structure_size()
  // counts every slot, removed ones included).
  virtual void add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool) = 0;
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

  // Rows are raw (not normalised). The structure installs its result under lock_exclusive().
  virtual void build(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress) {}
  // True where the structure stores user ids itself (SPANN keeps them in its posting file):
  // search_rows then writes user ids, and the base keeps no id map.
  virtual bool stores_labels() const { return false; }
  // The SearchParams fields the kind uses (kSearchEf | ...); others are refused.
  static constexpr unsigned kSearchEf = 1, kSearchRerank = 2, kSearchNprobe = 4, kSearchEps = 8;
  virtual unsigned search_settings() const { return kSearchEf | kSearchRerank; }
  // ---- living-index hooks. The defaults refuse: "<what> is not supported by a '<kind>' index".
  // True where add_rows/remove_rows synchronise themselves (per-node locks), so the base calls
  // them under a shared lock and searches keep running.
  virtual bool concurrent_writes() const { return false; }
  // Slot-addressed kinds: drop these slots (already hidden from searches by the base).
  virtual void remove_rows(const uint32_t* slots, size_t n, ThreadPool& pool);
  // stores_labels() kinds (SPANN): add after the first build / remove by user id. remove_labels
  // returns how many of the ids were present.
  virtual void add_labelled(const float* x, size_t n, const int64_t* ids, ThreadPool& pool);
  virtual size_t remove_labels(const int64_t* ids, size_t n, ThreadPool& pool);
  // Decoded vectors of slots (or, for stores_labels() kinds, of user ids); returns whether exact.
  virtual bool decode_rows(const uint32_t* slots, size_t n, float* out) const;
  virtual bool decode_labels(const int64_t* ids, size_t n, float* out) const;
  // stores_labels() kinds: whether an id is stored, and every stored id.
  virtual bool has_label(int64_t id) const;
  virtual std::vector<int64_t> stored_labels() const;
  // Packs live rows; returns, for each old slot, its new slot (or UINT32_MAX if it was removed).
  virtual std::vector<uint32_t> compact_rows(ThreadPool& pool);
  // range_search over stored rows; ids as search_rows writes them (slots, or labels).
  virtual void range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params,
                                 RangeResult& out, ThreadPool& pool) const;
  // After read_sections: open what lives beside the index file (SPANN's posting file).
  virtual void attach_storage(const std::string& index_path, const LoadOptions& load) {}

  // Refuses a path the index cannot be saved to (SPANN: its own posting file), before writing.
  virtual void check_save_path(const std::string& path) const {}

  std::unique_lock<WriterFirstMutex> lock_exclusive() const { return std::unique_lock<WriterFirstMutex>(rw_); }
  std::shared_lock<WriterFirstMutex> lock_shared() const { return std::shared_lock<WriterFirstMutex>(rw_); }

  friend std::unique_ptr<VectorIndex> load_index(const std::string& path, const LoadOptions& load);

 private:
  ThreadPool& pool() const;
  void build_once(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress);
  void check_search_params(const SearchParams& params) const;
  // params with index defaults filled in and widths clamped to the index (see clamp_width).
  SearchParams resolve(const SearchParams& params, size_t k) const;
  // Whether some slot holds a removed row (id -1) that searches must hide.
  bool has_removed_rows() const;

  size_t dim_;
  Metric metric_;
  IndexOptions options_;
  IdMap ids_;
  mutable WriterFirstMutex rw_;  // add() is not starved by a stream of searches
  mutable std::mutex pool_mutex_;
  mutable std::unique_ptr<ThreadPool> pool_;
  std::atomic<bool> building_{false};
};

// kind: "hnsw", "flat" or "spann" (options.spann.path names its posting file). Throws
// InvalidArgument for unknown kinds or bad parameters.
std::unique_ptr<VectorIndex> make_index(const std::string& kind, size_t dim, Metric metric,
                                        const IndexOptions& options);
// Verifies the whole file (magic, version, checksums, structure) before using it.
// The kind is read from the file; each kind registers how it is made (index_factory.cpp).
std::unique_ptr<VectorIndex> load_index(const std::string& path, const LoadOptions& load = {});

}  // namespace vidx
