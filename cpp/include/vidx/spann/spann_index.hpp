// SPANN (Chen et al., NeurIPS 2021): a memory-disk index. Only a small set of "head" vectors
// (real data vectors chosen by hierarchical balanced k-means) and an HNSW graph over them live
// in memory; every vector is stored, with up to `replicas` copies near cluster boundaries, in
// the posting lists of one file on disk (see posting_file.hpp).
//
//   vidx::spann::SpannOptions o;                      // head_ratio, replicas, memory_budget...
//   vidx::spann::SpannIndex index(128, vidx::Metric::L2, "/data/big.postings", o);
//   vidx::spann::FileSource src("/data/big.fvecs", 0, n, 128, 4 + 512, 4, ElementType::Float32);
//   index.build(src, nullptr, nullptr);                // streams the data, writes the postings
//   index.search(q, nq, 10, 0, -1, D, I);              // nprobe 0 / eps < 0: the defaults
//   index.save("/data/big.spann");                     // small: heads, graph, options
//   auto again = vidx::spann::SpannIndex::load("/data/big.spann");
//
// Build (one call; the index is static): 1. read a sample (as large as the memory budget
// allows, all rows when they fit); 2. choose heads by hierarchical balanced k-means;
// 3. index the heads with HNSW; 4. stream all rows: for each, take the `candidates` nearest
// heads and accept, nearest first, a head only if it is not closer to an already accepted head
// than to the row (the RNG rule), up to `replicas`; 5. bound every list to `posting_limit`
// entries (dropping the farthest members, never a row's last list); 6. lay the lists out in
// 4 KiB pages and stream the rows again to fill the file, one memory-budget-sized region of it
// per pass. At no time are all vectors and all postings in memory.
//
// Search: nprobe nearest heads from the graph; drop head i when d(q,h_i) > (1+eps) d(q,h_1);
// read all their lists at once (thread pool of preads, O_DIRECT by default), verify each
// list's checksum, deduplicate ids, score the entries with the codec's batch distance (exact
// for f32; LVQ-8 entries are about 4x smaller, so a query reads about 4x fewer bytes), top-k.
//
// Thread safety: any number of concurrent searches; build() excludes everything else.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/common/thread_pool.hpp"
#include "vidx/index.hpp"
#include "vidx/spann/async_reader.hpp"
#include "vidx/spann/posting_file.hpp"
#include "vidx/spann/vector_source.hpp"

namespace vidx::spann {

struct SpannOptions {
  double head_ratio = 0;            // heads as a fraction of the vectors; 0 = auto_head_ratio(dim)
  std::string codec = "f32";        // posting entries: "f32", "f16" or "lvq8" (4x smaller lists)
  size_t replicas = 8;              // most posting lists a vector goes into
  size_t candidates = 64;           // nearest heads considered for the replicas
  double rng_factor = 1.0;          // RNG rule: reject head h if rng_factor * d(h, a) < d(x, h)
  size_t posting_limit = 0;         // most entries per list; 0 = 3x the mean list length
  size_t branch = 16;               // balanced k-means fan-out of the head tree
  size_t kmeans_iters = 10;
  size_t head_M = 16;               // HNSW over the heads
  size_t head_ef_construction = 200;
  size_t head_ef_search = 64;       // head search beam: max(nprobe, this)
  size_t nprobe = 32;               // default lists probed per query
  double eps = 10.0;                // default pruning: skip head i if d_i > (1 + eps) d_1
  bool direct_io = true;            // O_DIRECT reads (falls back to buffered where refused)
  size_t io_threads = 16;           // pread threads; 0 = reads on the searching thread
  size_t threads = 0;               // build and batch-search threads; 0 = all cores
  uint64_t seed = 0;
  uint64_t memory_budget = 0;       // bytes the build may hold; 0 = half the physical memory
  size_t sample = 0;                // rows clustered for the heads; 0 = as many as the budget allows
};

// The default head ratio for vectors of `dim` dimensions and a head graph of degree M: 5%,
// lowered for short vectors, whose head graph costs more than the vectors themselves, so that
// the resident part (head vectors, graph, list directory) is estimated at 6.5% of the raw
// float32 bytes of the collection (50-d GloVe: 5.5% resident, against 11.5% at 5% heads;
// the margin absorbs the 2 MiB steps of huge-page-backed buffers).
double auto_head_ratio(size_t dim, size_t head_M);

// Where the build is: phase ("sample", "heads", "head index", "assign", "write"), done, total.
using ProgressFn = std::function<void(const std::string&, size_t, size_t)>;

struct BuildStats {
  uint64_t vectors = 0;
  uint64_t heads = 0;
  uint64_t entries = 0;            // with replicas, after the length bound
  uint64_t dropped_replicas = 0;   // removed by the length bound
  uint64_t posting_limit = 0;
  uint64_t sample = 0;
  uint64_t write_passes = 0;       // passes over the data to fill the posting file
  uint64_t posting_file_bytes = 0;
  uint64_t peak_tracked_bytes = 0; // largest sum of the build's own allocations
};

struct IoStats {
  uint64_t queries = 0;
  uint64_t lists = 0;
  uint64_t bytes = 0;
  uint64_t entries = 0;
};

class SpannIndex {
 public:
  SpannIndex(size_t dim, Metric metric, std::string posting_path, SpannOptions options);
  ~SpannIndex();
  SpannIndex(const SpannIndex&) = delete;
  SpannIndex& operator=(const SpannIndex&) = delete;

  // Loads an index written by save(). The posting file is found at the path recorded in it,
  // else beside `path` under the same name; posting_path overrides both. Verifies that the
  // posting file is the one the index was built with.
  static std::unique_ptr<SpannIndex> load(const std::string& path, const std::string& posting_path = "",
                                          int direct_io = -1 /* -1: as saved, 0: off, 1: on */);

  // Builds the index from all rows of `source` (ids: one per row, or nullptr for 0..n-1) and
  // writes the posting file. InvalidArgument for bad input (NaN, duplicate ids, a budget too
  // small), leaving the index empty.
  void build(VectorSource& source, const int64_t* ids, const ProgressFn& progress);

  // nprobe 0 and eps < 0 take the defaults. distances/ids: nq * k, -1 / +inf padded.
  void search(const float* queries, size_t nq, size_t k, size_t nprobe, double eps, float* distances,
              int64_t* ids) const;

  void save(const std::string& path) const;

  bool built() const;
  size_t size() const;
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t heads() const;
  const SpannOptions& options() const { return options_; }
  const std::string& posting_path() const { return posting_path_; }
  // The posting entries' codec ("f32", "f16", "lvq8").
  const std::string& codec() const { return options_.codec; }
  // head_ratio, or auto_head_ratio where it is 0.
  double effective_head_ratio() const;
  bool direct_io() const;
  size_t memory_usage() const;
  BuildStats build_stats() const;
  IoStats io_stats() const;
  void reset_io_stats();

  struct Context;

 private:
  void search_one(const float* q, size_t k, size_t nprobe, double eps, float* distances, int64_t* ids,
                  Context& ctx) const;
  std::unique_ptr<Context> acquire_context() const;
  void release_context(std::unique_ptr<Context> ctx) const;
  void open_postings(bool direct);
  static std::unique_ptr<SpannIndex> load_impl(const std::string& path, const std::string& posting_path,
                                               int direct_io);

  size_t dim_;
  Metric metric_;
  std::string posting_path_;
  SpannOptions options_;
  BuildStats build_stats_;
  uint64_t count_ = 0;

  uint32_t codec_id_ = 0;                 // the posting file header's codec field
  std::unique_ptr<Codec> codec_;          // encodes entries, scores them at search time
  std::unique_ptr<VectorIndex> head_;      // HNSW over the heads; its ids are list numbers
  std::unique_ptr<PostingFile> postings_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<PreadPool> io_;

  mutable std::shared_mutex rw_;
  mutable std::mutex contexts_mutex_;
  mutable std::vector<std::unique_ptr<Context>> free_contexts_;
  mutable std::atomic<uint64_t> stat_queries_{0}, stat_lists_{0}, stat_bytes_{0}, stat_entries_{0};
};

}  // namespace vidx::spann
