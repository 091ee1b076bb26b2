// The C++ API that programs embedding vidx use, and that the Python bindings wrap.
//
//   auto index = vidx::make_index("hnsw", 128, vidx::Metric::L2, vidx::IndexOptions{});
//   index->add(data, n, nullptr);                 // ids assigned 0..n-1
//   index->search(queries, nq, 10, 0, D, I);      // D: nq*10 floats, I: nq*10 ids (-1 = none)
//   index->save("my.vidx");  auto again = vidx::load_index("my.vidx");
//
// Thread safety: any number of concurrent searches; add/remove/upsert exclude searches while
// they run (a SPANN build runs without the lock: searches see an empty index until it is
// done). Structures that say concurrent_writes() let add/remove/upsert run beside searches,
// several writers at once. The write protocol is described in src/index_write.cpp. A program
// that fork()s and uses an index in the child brackets the fork with ForkGate's close() and
// parent() / child() (vidx/common/fork_gate.hpp; Python's os.fork does it by itself).
#pragma once
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/common/fork_gate.hpp"
#include "vidx/common/id_filter.hpp"
#include "vidx/common/id_map.hpp"
#include "vidx/common/retired_slots.hpp"
#include "vidx/common/row_norms.hpp"
#include "vidx/common/row_scale.hpp"
#include "vidx/common/live_rows.hpp"
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
  // Map the file and search it in place (HNSW, flat) instead of reading it into memory: load
  // time and memory no longer grow with the file, only with the pages searches touch. The
  // index is read-only (writes throw InvalidArgument "read-only: ..."; save() copies it out).
  // Verified: the header, the section table and every section copied into memory (ids,
  // levels, upper links...) as it is read; the sections searched in place (HNSW level-0
  // records and code tails, flat codes, kept vectors) only with verify, which reads the whole
  // file once (see IndexFileReader::map). Without verify a corrupted record is not detected.
  bool mmap = false;
  bool verify = false;
};

// The index's write bookkeeping lock held (VectorIndex::lock_writes).
using WriteGuard = std::unique_lock<GatedMutex>;

// Where a long add() is: phase ("add"; SPANN: "sample", "heads", "head index", "assign",
// "write"; a built SPANN index's add: one "read" before it starts, then, where a rebuild makes
// it, "stored" as the stored vectors are read and the build's phases), done, total. Called from
// the adding thread. A function that throws stops the add (Ctrl-C in Python): the rows of that
// add are taken out again, as for any failed add. A SPANN build reports with no lock held; other
// adds report between steps while holding the index's locks, so a function that calls back into
// the same index gets InvalidArgument, not a hang.
using ProgressFn = std::function<void(const std::string&, size_t, size_t)>;

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  virtual std::string kind() const = 0;
  // Where the structure runs: "cpu", or "cuda:N" for one built by vidx::gpu (cuda/cuda.hpp, in
  // the source tree: the CUDA path is linked into the Python module, not installed for C++).
  virtual std::string device() const { return "cpu"; }
  size_t dim() const { return dim_; }
  Metric metric() const { return metric_; }
  size_t size() const;
  // The index's own code reads options() under the index's locks; another thread beside an add
  // (which may resolve an automatic M) or set_threads reads options_snapshot().
  const IndexOptions& options() const { return options_; }
  // A copy for callers outside the index's locks (Python's params): an add may resolve an
  // automatic M, and set_threads change the thread count, while it is read.
  IndexOptions options_snapshot() const {
    std::lock_guard<std::mutex> guard(options_mutex_);
    return options_;
  }

  // Adds n vectors (row-major n x dim floats). ids: n user ids or nullptr to assign them.
  // Validates everything first (finite values, unique ids): on error nothing is changed.
  // progress: see ProgressFn (HNSW reports as its insertion batches finish).
  void add(const float* x, size_t n, const int64_t* ids, const ProgressFn& progress = {});
  // Adds every row of `source` (ids: one per row or nullptr), with no lock held while it reads.
  // Kinds built in one pass (SPANN's first add) build from it a block at a time; the others
  // read every row into one float32 array (n x dim x 4 bytes, held until the add returns) and
  // add it as add() does, so an error leaves the index unchanged.
  void add(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress = {});

  // k nearest for each of nq queries. distances/ids: nq*k, nearest first; slots that could
  // not be filled hold +inf / -1. ef = 0 uses the index default.
  void search(const float* queries, size_t nq, size_t k, size_t ef, float* distances, int64_t* ids) const {
    SearchParams params;
    params.ef = ef;
    search(queries, nq, k, params, distances, ids);
  }
  // What the index multiplies its rows and queries by (RowScale; 1 for ordinary rows).
  float row_scale() const { return scale_.factor(); }
  // precise (nq*k, optional): the same distances in float64, as exactly as the index compared
  // them. They differ from `distances` only where rows are scaled (RowScale): "ip" distances of
  // short rows all round to 1 in float32, and a merge of several indexes' answers (the sharded
  // index) ranks by these instead.
  void search(const float* queries, size_t nq, size_t k, const SearchParams& params, float* distances,
              int64_t* ids, double* precise = nullptr) const;

  // ---- a living index: every kind, the same API (kinds that cannot throw InvalidArgument) ----
  // Removes the vectors with these ids; they leave search results before it returns. An id
  // not in the index throws (nothing removed) unless ignore_missing (then it is skipped); an
  // id repeated in the call counts once. Returns how many went. Their slots are reused by
  // later adds; compact() gives their memory back.
  size_t remove(const int64_t* ids, size_t n, bool ignore_missing = false);
  // Adds the vectors, replacing those whose ids are already present: remove (ignoring missing
  // ids) then add, after checking both. Not atomic: a search running beside it may briefly see
  // neither the old nor the new vector of an id, and a concurrent add of the same id may win
  // (upsert then throws "already in the index", with the old vector removed).
  void upsert(const float* x, size_t n, const int64_t* ids);
  // The stored vectors of `ids` into out (n x dim); an unknown id throws. Returns true when
  // they are exact (float32 storage or keep_vectors), false when decoded from lossy codes.
  // Cosine indexes store unit vectors and keep each one's length: flat and HNSW return the
  // vectors as added (exact ones within float32 rounding of that product); SPANN, and rows of
  // files saved before lengths were kept, return the unit vectors.
  bool get(const int64_t* ids, size_t n, float* out) const;
  bool contains(int64_t id) const;
  std::vector<int64_t> ids() const;
  // Gives back the memory of removed rows (renumbers slots; ids are unchanged). Waits for
  // writes in flight and excludes searches while it runs.
  void compact();
  // Every stored vector within `radius` of each query (distance < radius, in search()'s
  // distance), CSR style. Graph kinds find them with a search widened while it finds more.
  // precise: out.precise gets the distances in float64 too (as search()'s `precise`).
  void range_search(const float* queries, size_t nq, float radius, const SearchParams& params,
                    RangeResult& out, bool precise = false) const;

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
  // builds_once() kinds: whether that build has run. An index emptied by remove() stays built:
  // its next add() adds (ids continue), it does not build anew.
  virtual bool built() const { return true; }

  size_t threads() const {
    std::lock_guard<std::mutex> guard(options_mutex_);  // set_threads may run beside it
    return options_.threads;
  }
  void set_threads(size_t threads);

  // ---- persistence in memory ----
  // The bytes save() would write (the same verified format). SPANN: its small index (heads,
  // head graph, options); the posting file is not inside, the bytes refer to it by path.
  std::vector<uint8_t> to_bytes() const;
  // The same bytes written into the memory `allocate(size)` returns (every byte of it).
  void to_bytes(const std::function<uint8_t*(size_t)>& allocate) const;
  // True for an index loaded with LoadOptions::mmap: every write throws.
  bool read_only() const { return backing_ != nullptr; }
  // Only slot-addressed cosine indexes keep their rows' lengths (see RowNorms); add() then
  // refuses cosine rows longer than float32 holds.
  bool keeps_norms() const { return keeps_norms_for(metric_, stores_labels()); }
  static bool keeps_norms_for(Metric metric, bool stores_labels) { return metric == Metric::Cosine && !stores_labels; }
  static constexpr bool kStoresLabels = false;

 protected:
  VectorIndex(size_t dim, Metric metric, IndexOptions options);
  // An automatic M (0) resolved by the structure; options() reports it from then on.
  void record_degree(size_t M) {
    std::lock_guard<std::mutex> guard(options_mutex_);
    options_.M = M;
  }

  // Structure hooks. Rows reach them already normalised for cosine; the caller holds the
  // write lock (add, remove; a shared one when concurrent_writes()) or a read lock (search,
  // save, memory).
  // Row i of x goes to slot slots[i]: the base hands out slots freed by remove (reclaimed by
  // remove_rows) first, lowest first, then new ones after the highest slot handed out so far
  // (structure_size() counts every slot, removed ones included, and equals the base's slot
  // count whenever no write is in flight). With concurrent_writes(), several add_rows and
  // remove_rows calls may run at once, on disjoint slots, beside searches.
  // progress may be empty; a structure that calls it (through report()) and sees it throw
  // undoes what it did to these slots before passing the exception on.
  virtual void add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool,
                        const ProgressFn& progress) = 0;
  // After a failed add: the slots at and past slot_count were handed back (the base's slot
  // count fell to slot_count), so structure_size() must fall with it.
  virtual void forget_rows_from(size_t /*slot_count*/) {}
  // Calls progress (when set) marked as this index's report: the index's own calls made from
  // inside it are refused (check_not_reporting) instead of waiting on locks this add holds.
  void report(const ProgressFn& progress, const char* phase, size_t done, size_t total) const;
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
  virtual void build(io::VectorSource& /*source*/, const int64_t* /*ids*/, const ProgressFn& /*progress*/) {}
  // True where the structure stores user ids itself (SPANN keeps them in its posting file):
  // search_rows then writes user ids, and the base keeps no id map. Each kind's kStoresLabels
  // says it too, for the factory to tell before it makes one (kind_keeps_norms).
  virtual bool stores_labels() const { return kStoresLabels; }
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
  // returns how many of the ids were present. add_labelled gets ids the base checked (>= 0,
  // distinct) or nullptr (the kind assigns defaults after its largest id); it throws
  // InvalidArgument naming an id already stored, before changing anything. Both run under the
  // write mutex and the exclusive lock, or a shared one when concurrent_writes().
  virtual void add_labelled(const float* x, size_t n, const int64_t* ids, ThreadPool& pool);
  // stores_labels() kinds that re-cluster as they grow (SPANN): an add of n rows (normalised)
  // may be made as part of a rebuild of every row, reporting its phases to `progress`. True:
  // the add is done; false: add_labelled adds it as usual. Called with no lock held.
  virtual bool add_by_rebuild(const float* /*x*/, size_t /*n*/, const int64_t* /*ids*/, ThreadPool& /*pool*/,
                              const ProgressFn& /*progress*/) {
    return false;
  }
  virtual size_t remove_labels(const int64_t* ids, size_t n, ThreadPool& pool);
  // Replaces the rows of `ids` (distinct: `unique`) by x, or adds them: all or nothing (an add
  // refused after the remove puts the removed rows back). Same locks as add_labelled.
  virtual void upsert_labelled(const float* x, size_t n, const int64_t* ids, const std::vector<int64_t>& unique,
                               ThreadPool& pool);
  // Decoded vectors of slots (or, for stores_labels() kinds, of user ids); returns whether exact.
  virtual bool decode_rows(const uint32_t* slots, size_t n, float* out) const;
  virtual bool decode_labels(const int64_t* ids, size_t n, float* out) const;
  // stores_labels() kinds: whether an id is stored, and every stored id.
  virtual bool has_label(int64_t id) const;
  virtual std::vector<int64_t> stored_labels() const;
  // Packs live rows (slot_is_live) into slots 0, 1, ... in their order and gives back the
  // memory of the others; returns, for each old slot, its new slot (or UINT32_MAX if it was
  // removed). Called under the exclusive lock with no write in flight. stores_labels() kinds
  // compact their own way and return an empty vector.
  virtual std::vector<uint32_t> compact_rows(ThreadPool& pool);
  // concurrent_writes() kinds: make room for slots < slot_count, so that add_rows (called
  // under a shared lock, beside searches and other writers) never reallocates. Called under
  // the exclusive lock, rarely (the base grows the count geometrically).
  virtual void reserve_rows(size_t /*slot_count*/) {}
  // concurrent_writes() kinds: an add's rows (normalised), before the structure grows for them.
  // A layout that depends on the data (HNSW's automatic M) is worked out by plan_layout, under a
  // shared lock beside searches (write_mutex_ held: no other write starts meanwhile; writes in
  // flight may finish), and applied by settle_layout under the exclusive lock, so that searches
  // wait only for the layout to change and the add itself still runs beside them.
  virtual void plan_layout(const float* /*x*/, size_t /*n*/, ThreadPool& /*pool*/) {}
  virtual void settle_layout() {}
  // Whether an add of n rows plans and settles the layout even when the structure has room for
  // it (plan_layout and settle_layout otherwise come only with growth): asked under write_mutex_.
  virtual bool plans_layout_before(size_t /*n*/) const { return false; }
  // A structure whose codec learnt from far fewer rows than an add brings it to learns again
  // first (codec/relearning.hpp): relearns_codec_before says whether this add of n rows is due
  // to (asked under the write mutex, when no write is in flight). relearn_codec learns a codec
  // from the stored rows and x[0..n-1] and encodes every stored row with it into copies, under
  // the shared lock (the caller holds the write mutex with no write in flight, so nothing but
  // searches runs beside it); it returns what puts the codec and copies in place (empty where
  // the structure keeps its codec), which the caller runs under the exclusive lock.
  virtual bool relearns_codec_before(size_t /*n*/) const { return false; }
  virtual std::function<void()> relearn_codec(const float* /*x*/, size_t /*n*/, ThreadPool& /*pool*/) {
    return {};
  }

  // ---- what the base tells structures about removed rows (lock-free; slot-addressed kinds) ----
  // False for a slot whose row was removed (free, or not yet reclaimed by remove_rows) or is
  // still being added: a search must not return it. Hidden slots stay hidden until an add
  // reuses them, so flat (which reclaims nothing) skips them for as long as they are free.
  bool slot_is_live(uint32_t slot) const { return ids_.slot_is_live(slot); }
  // Starts loading what slot_is_live reads.
  void prefetch_slot_is_live(uint32_t slot) const { ids_.prefetch_label(slot); }
  // How many slots slot_is_live() calls false (0: nothing to hide, no filter needed).
  size_t removed_unreclaimed() const { return ids_.hidden(); }
  // How many slots slot_is_live() calls true: what a filter's share of allowed rows is taken
  // of (the slot count also holds removed rows, which under churn may outnumber the live).
  size_t live_slots() const { return ids_.size(); }
  // Allows exactly the slots slot_is_live() calls true (for a structure that finds rows hidden
  // after the base chose a query's filters, as flat's scans do).
  const RowFilter& live_rows() const { return live_rows_; }
  // A guard under which no write is in flight and none starts (a consistent snapshot for
  // save). Take it before lock_shared()/lock_exclusive(), never after.
  WriteGuard pause_writes() const;
  // range_search over stored rows; ids as search_rows writes them (slots, or labels).
  virtual void range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params,
                                 RangeResult& out, ThreadPool& pool) const;
  // After read_sections: open what lives beside the index file (SPANN's posting file). Kinds
  // with nothing beside it refuse the options that would choose or open such a file.
  virtual void attach_storage(const std::string& index_path, const LoadOptions& load);
  // After read_sections, once the ids are in: slot_is_live() now tells which slots the file
  // holds as free (removed, not compacted). Throws FileFormatError where the structure
  // contradicts them.
  virtual void adopt_loaded_ids(const std::string& /*path*/) {}

  // Refuses a path the index cannot be saved to (SPANN: its own posting file), before writing.
  virtual void check_save_path(const std::string& /*path*/) const {}
  // Called once a save's file is in place (in_file), or to_bytes has its bytes: the state they
  // hold is now one a later load may start from (SPANN stamps its posting file's write
  // generation, and keeps the pages that state uses). Not called when the save failed.
  virtual void snapshot_taken(bool /*in_file*/) const {}

  // Throws InvalidArgument "read-only: ..." naming `what` for an index loaded with mmap. Every
  // public write calls it before touching anything.
  void check_writable(const char* what) const;

  std::unique_lock<WriterFirstMutex> lock_exclusive() const {
    check_not_reporting();
    return std::unique_lock<WriterFirstMutex>(rw_);
  }
  std::shared_lock<WriterFirstMutex> lock_shared() const {
    check_not_reporting();
    return std::shared_lock<WriterFirstMutex>(rw_);
  }
  // The fork generation this index's locks were made in (ForkGate::Hold's argument).
  uint64_t lock_generation() const { return write_mutex_.born(); }
  WriteGuard lock_writes() const {
    check_not_reporting();
    return WriteGuard(write_mutex_);
  }
  // Throws InvalidArgument on the thread of an add of this index that is inside report().
  void check_not_reporting() const;

  friend std::unique_ptr<VectorIndex> load_index(const std::string& path, const LoadOptions& load);
  friend std::unique_ptr<VectorIndex> load_index_from_bytes(const void* data, size_t size);

 private:
  // The index file's sections as save() and to_bytes() write them.
  void write_file(io::IndexFileWriter& out) const;
  // Makes the index a file holds; `storage_path` is where what lives beside it is looked for.
  static std::unique_ptr<VectorIndex> from_reader(const io::IndexFileReader& in, const std::string& storage_path,
                                                  const LoadOptions& load);
  ThreadPool& pool() const;
  // The write protocol (index_write.cpp). `writing` holds write_mutex_ on entry and exit.
  // kReleased: a concurrent-writes kind lets it go while the structure works (other writers
  // run meanwhile); kHeld keeps it (upsert: no other writer may take an id between its remove
  // and its add).
  enum class WriteLock { kReleased, kHeld };
  // norms: the rows' lengths before normalising (cosine), or nullptr.
  void add_checked(const float* rows, const float* norms, size_t n, const int64_t* ids, WriteGuard& writing,
                   WriteLock hold = WriteLock::kReleased, const ProgressFn& progress = {});
  // Where normalized_if_cosine puts the rows' lengths, or nullptr where they are not kept.
  std::vector<float>* norms_to_keep(std::vector<float>& norms) const { return keeps_norms() ? &norms : nullptr; }
  // Loading: the NORM section, one float32 for each of slot_count slots (FileFormatError else).
  void read_norms(const uint8_t* data, size_t size, size_t slot_count, const std::string& path);
  // "ip" indexes (and "l2" ones of float16 codes) multiply short rows by a power of two chosen
  // by their first add, or by SPANN's build (see RowScale).
  bool scales_rows() const;
  // The rows add() and upsert() hand add_checked: checked (add()'s refusals) and, for cosine,
  // normalised (the lengths into `norms` where they are kept); x itself, or a copy in `buffer`.
  const float* rows_to_store(const float* x, size_t n, std::vector<float>& buffer, std::vector<float>& norms);
  // add_checked's rows as the structure stores them (scales_rows()): under write_mutex_, the
  // factor chosen again while no write is in flight and the index holds no slot (or only zero
  // rows), the rows checked against the bounds it narrows, then scaled into `buffer` (rows
  // itself at factor 1).
  const float* scaled_for_storage(const float* rows, size_t n, std::vector<float>& buffer);
  // Rows scaled by the factor as it stands (rows itself at 1), checked first against the bounds
  // it narrows. A built SPANN index's adds and upserts: its factor never changes after the build.
  const float* scaled_by_factor(const float* rows, size_t n, std::vector<float>& buffer) const;
  // Loading: the SCAL section (FileFormatError for a factor this library would not choose).
  void read_row_scale(io::ByteReader& in, const std::string& path);
  void add_after_build(const float* rows, size_t n, const int64_t* ids, WriteGuard& writing);
  size_t remove_checked(const int64_t* ids, size_t n, bool ignore_missing, WriteGuard& writing,
                        WriteLock hold = WriteLock::kReleased);
  size_t remove_stored_labels(const int64_t* ids, size_t n, bool ignore_missing);
  // The same under write_mutex_, which the caller holds.
  size_t remove_stored_labels_locked(const std::vector<int64_t>& distinct_ids, bool ignore_missing);
  void end_write(WriteGuard& writing);
  // Frees the removed slots no search call can still name (see retired_slots.hpp); under
  // write_mutex_. free_all_retired: the caller also holds the exclusive lock.
  void free_retired();
  void free_all_retired();
  // search(): slots -> user ids, dropping slots hidden meanwhile (see index_living.cpp);
  // returns the queries that lost a result so.
  std::vector<size_t> slots_to_labels(float* distances, int64_t* ids, size_t nq, size_t k) const;
  // search(): slots -> user ids, searching again the queries a concurrent remove took results from.
  void labels_for_results(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                          int64_t* ids) const;
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
  // Cosine, slot-addressed kinds: each slot's length as added. Read and written under
  // write_mutex_; resized under the exclusive lock too (memory_usage reads its size).
  RowNorms norms_;
  RowScale scale_;  // 1 unless scales_rows() and the first add's (SPANN: build's) rows were short
  RetiredSlots retired_;  // removed slots kept from reuse while a search call may name them
  LiveRows live_rows_{ids_};
  mutable WriterFirstMutex rw_;  // add() is not starved by a stream of searches
  // Write bookkeeping (ids, slots): one writer at a time. Taken before rw_ when both are held;
  // never taken while holding rw_.
  mutable GatedMutex write_mutex_;
  // Guards options_'s few changes (record_degree, set_threads) against options_snapshot.
  mutable std::mutex options_mutex_;
  mutable std::condition_variable_any writes_idle_;  // writes_in_flight_ fell to 0
  size_t writes_in_flight_ = 0;  // concurrent writes between their bookkeeping steps
  size_t reserved_rows_ = 0;     // reserve_rows() granted slots below this
  mutable std::mutex pool_mutex_;
  mutable std::unique_ptr<ThreadPool> pool_;
  std::atomic<bool> building_{false};
  // A mapped index file whose sections the structure uses in place (kept alive here).
  std::shared_ptr<const void> backing_;
};

// kind: "hnsw", "flat" or "spann" (options.spann.path names its posting file). Throws
// InvalidArgument for unknown kinds or bad parameters.
std::unique_ptr<VectorIndex> make_index(const std::string& kind, size_t dim, Metric metric,
                                        const IndexOptions& options);
// Whether an index of this kind and metric keeps its rows' lengths (VectorIndex::keeps_norms),
// for a caller that checks rows before it makes one (ShardedIndex).
bool kind_keeps_norms(const std::string& kind, Metric metric);
// Throws InvalidArgument, as an add to an index of this kind would, for an id it cannot store
// (SPANN: 2^56 or more); for a caller that checks ids before it sends them anywhere (ShardedIndex).
void check_ids_for(const std::string& kind, const int64_t* ids, size_t n);
// Verifies the whole file (magic, version, checksums, structure) before using it.
// The kind is read from the file; each kind registers how it is made (index_factory.cpp).
std::unique_ptr<VectorIndex> load_index(const std::string& path, const LoadOptions& load = {});
// An index from to_bytes() output, verified as load_index verifies a file (FileFormatError
// naming the problem: truncated, checksum, version). SPANN opens its posting file by the path
// the bytes name.
std::unique_ptr<VectorIndex> load_index_from_bytes(const void* data, size_t size);

}  // namespace vidx
