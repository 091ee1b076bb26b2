// SPANN (Chen et al., NeurIPS 2021): a memory-disk index. Only a small set of "head" vectors
// (real data vectors chosen by hierarchical balanced k-means) and an HNSW graph over them live
// in memory; every vector is stored, with up to `replicas` copies near cluster boundaries, in
// the posting lists of one file on disk (vidx/io/posting_store.hpp), as codes of any codec.
//
//   vidx::IndexOptions o;
//   o.spann.path = "/data/big.postings";  o.quant = "lvq4x8";
//   auto index = vidx::make_index("spann", 128, vidx::Metric::L2, o);
//   auto src = vidx::io::open_vector_file("/data/big.fvecs", 128);
//   index->add(*src, nullptr);                          // streams the data, writes the postings
//   vidx::SearchParams p;  p.nprobe = 32;
//   index->search(q, nq, 10, p, D, I);
//   index->save("/data/big.spann");                     // small: heads, graph, options
//   auto again = vidx::load_index("/data/big.spann");
//
// Build (one add(); the index is static), each phase in its own file: build_heads.cpp
// (1. read a sample as large as the memory budget allows; 2. choose heads by hierarchical
// balanced k-means; 3. index them with HNSW), build_assign.cpp (4. stream all rows: each goes
// to up to `replicas` of its `candidates` nearest heads, accepted nearest first unless closer
// to an accepted head than to the row (the RNG rule); 5. bound every list to `posting_limit`
// entries, never dropping a row's last list), build_write.cpp (6. stream the rows again to
// fill the file one memory-budget-sized region per pass). The build holds no index lock.
//
// Search (spann_search.cpp): nprobe nearest heads; drop head i when d(q,h_i) > (1+eps) d(q,h_1);
// stream their lists through a fixed read buffer (read_buffer bytes per searching thread,
// pread pool, O_DIRECT by default), verify each page, score the head codes; codecs with a
// second level keep the best `rerank` candidates and re-score them from their tails.
//
// Living (SPFresh-style, live_*.cpp): a second add() puts each vector into its nearest heads'
// lists by the build's replica rule, rewriting those lists copy-on-write into free pages; a
// list past posting_limit splits in two (2-means around its head, each part at least an eighth;
// the new head joins the head graph; members of the 8 lists nearest the new head that are
// nearer to it join it, at most limit/8).
// remove() marks ids stale at once (searches skip stale entries); lists are purged of them
// whenever they are rewritten, and all of them once stale ids pass 10% of the live count
// (or on compact()). contains/ids/get use an id -> list map (~24 bytes per id) built by one
// scan of the posting file on first need. Writes hold the index lock (searches wait for a
// whole add/remove call). Ids must be below 2^56 (the stored id carries a version above).
// rebuild() re-clusters the stored vectors into a new posting file (rebuild.cpp): an index
// grown far past its build then reads what a fresh build of its rows reads. An add that brings
// the index to spann.rebuild_growth (default 2) times the rows of its last build is made that
// way, with the add's rows built in, so an index started small never lives far from its build.
// Crash safety (live_store.hpp): the posting file is fsynced before save() replaces the index
// file, and no page the last save refers to is written until the next save.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vidx/codec/codec.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/scratch_pool.hpp"
#include "vidx/index.hpp"
#include "vidx/io/posting_store.hpp"
#include "vidx/spann/async_reader.hpp"

namespace vidx::spann {

struct ListBuffer;  // a posting list in memory (live_store.hpp)

// The default head ratio for vectors of `dim` dimensions and a head graph of degree M: 5%,
// lowered for short vectors, whose head graph costs more than the vectors themselves, so that
// the resident part (head vectors, graph, list directory) is estimated at 6.5% of the raw
// float32 bytes of the collection.
double auto_head_ratio(size_t dim, size_t head_M);

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
  uint64_t bytes = 0;      // posting pages read (lists and tails)
  uint64_t entries = 0;
  uint64_t tail_bytes = 0; // of which tail pages (re-ranking)
};

// The codec a build encodes with (SpannIndex::build_parts): a trained one, learnt from
// learnt_from rows (or when the index held that many: relearning.hpp), or null for one trained
// on the build's sample; the codes of the first stored_rows rows are read from `stored_codes`
// where given (a rebuild that keeps them).
struct CodecChoice {
  std::unique_ptr<Codec> codec;
  size_t learnt_from = 0;
  const io::File* stored_codes = nullptr;
  size_t stored_rows = 0;
};

// What a build produces, installed into the index at the end.
struct BuiltParts {
  std::unique_ptr<Codec> codec;
  std::unique_ptr<VectorIndex> head;
  BuildStats stats;
  std::vector<uint16_t> head_halves;  // the head vectors in float16 (adds after the build)
  std::unique_ptr<io::PostingReader> postings;
  std::vector<uint32_t> row_lists;    // per row, a list holding it (when asked for)
  size_t codec_learnt_from = 0;       // as CodecChoice::learnt_from (a kept codec: as before)
};

class SpannIndex final : public VectorIndex {
 public:
  static constexpr bool kStoresLabels = true;  // its posting file holds the ids
  // InvalidArgument naming an id a posting entry cannot hold (ids are below 2^56: the entry's
  // word keeps a version above them).
  static void check_id(int64_t id);
  SpannIndex(size_t dim, Metric metric, IndexOptions options);
  ~SpannIndex() override;

  std::string kind() const override { return "spann"; }
  bool builds_once() const override { return true; }
  bool built() const override { return heads() > 0; }
  std::map<std::string, double> stats() const override;
  void reset_stats() override;

  size_t heads() const;
  // The posting file in use (rebuild() may change it).
  std::string posting_path() const;
  // Whether the path names the posting file this index has open (false once another build has
  // replaced the file there: File::still_at).
  bool posting_file_in_place() const;
  // Re-clusters every stored vector into a new posting file, as one build of those vectors
  // would (rebuild.cpp): an index grown by adds keeps its first build's heads and splits lists
  // as they fill, so it reads more entries for less recall than a fresh build. Searches run on
  // the old file meanwhile. Writes wait only while the stored vectors are read and while the new
  // state is swapped in: those made while it builds go to the old state and are made again on
  // the new one. `path`: the new posting file, which must not
  // exist; empty: the file in use is replaced where no save or copy names it (the index made
  // it and was not saved since), else a new file "<posting file>.rN" beside it (the first N
  // free). The old file is kept for the saves that name it. Ids, their default continuation and
  // the options are kept; the codec is trained anew on the stored vectors (decoded: lossy codes
  // are re-encoded from their decoded values). Returns the new posting file's path.
  // InvalidArgument for an empty index, IoError where the path exists or cannot be written.
  // progress: "stored" (the stored vectors read), then the build's phases.
  std::string rebuild(const std::string& path, const ProgressFn& progress = {});
  // head_ratio, or auto_head_ratio where it is 0.
  double effective_head_ratio() const;
  bool direct_io() const;
  BuildStats build_stats() const;
  IoStats io_stats() const;

  struct Context;
  struct Live;     // living state (live_state.hpp); null until a living call needs it
  struct Journal;  // writes made while a rebuild builds (live_state.hpp)
  struct State;    // what a rebuild swaps in (live_state.hpp)

 protected:
  void build(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress) override;
  bool stores_labels() const override { return kStoresLabels; }
  unsigned search_settings() const override { return kSearchEf | kSearchRerank | kSearchNprobe | kSearchEps; }
  void add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool, const ProgressFn& progress) override;
  void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances, int64_t* ids,
                   ThreadPool& pool) const override;
  size_t structure_size() const override { return count_; }
  size_t structure_memory() const override;
  std::map<std::string, size_t> structure_memory_parts() const override;
  void write_sections(io::IndexFileWriter& out) const override;
  void read_sections(const io::IndexFileReader& in) override;
  void attach_storage(const std::string& index_path, const LoadOptions& load) override;
  // Checks every posting page the loaded state names against its checksum (LoadOptions::verify).
  void verify_postings() const;
  void check_save_path(const std::string& path) const override;
  void snapshot_taken(bool in_file) const override;
  // Living-index hooks (live_write.cpp, live_lookup.cpp, spann_search.cpp).
  void add_labelled(const float* x, size_t n, const int64_t* ids, ThreadPool& pool) override;
  // An add that brings the index to options().spann.rebuild_growth times the rows of its last
  // build is made by a rebuild of every row with the add's (rebuild.cpp).
  bool add_by_rebuild(const float* x, size_t n, const int64_t* ids, ThreadPool& pool,
                      const ProgressFn& progress) override;
  size_t remove_labels(const int64_t* ids, size_t n, ThreadPool& pool) override;
  void upsert_labelled(const float* x, size_t n, const int64_t* ids, const std::vector<int64_t>& unique,
                       ThreadPool& pool) override;
  bool decode_labels(const int64_t* ids, size_t n, float* out) const override;
  bool has_label(int64_t id) const override;
  std::vector<int64_t> stored_labels() const override;
  // compact(): purges every stale entry now (ids are kept; there are no slots to renumber).
  std::vector<uint32_t> compact_rows(ThreadPool& pool) override;
  void range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params, RangeResult& out,
                         ThreadPool& pool) const override;

 private:
  // The build's phases into a posting file at `path`, opened for reading with `direct_io`
  // (build(), rebuild()); installs nothing; `choice`: the codec it encodes with.
  BuiltParts build_parts(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress,
                         const std::string& path, bool direct_io, bool keep_row_lists, CodecChoice choice) const;
  // What `parts` become once swapped in (swap_state): a file this process just wrote, which
  // no save or copy names yet.
  State state_of(BuiltParts parts) const;
  // rebuild(): whether the file in use may be replaced (nothing names it, this process wrote
  // it); and the exchange of the whole built and living state, under the exclusive lock.
  bool replaceable() const;
  void swap_state(State& other);
  // An add made by a rebuild: its rows (normalised) and the ids it takes.
  struct AddedRows {
    const float* x = nullptr;
    size_t n = 0;
    std::vector<int64_t> ids;
  };
  // rebuild() with the write mutex held (`writing`, no rebuild running), building `added`'s rows
  // with the stored ones where given (rebuild.cpp). Lossy codes are kept (copied as stored) with
  // the codec, unless it learns again (choose_codec); codes that decode exactly are encoded
  // again from the decoded rows (the same codes).
  std::string rebuild_locked(const std::string& path, const ProgressFn& progress, WriteGuard& writing,
                             const AddedRows* added);
  // For a rebuild that keeps codes: the codec the build encodes with (rebuild.cpp), given the
  // stored rows decoded at `rows_path` and the add's rows (null: rebuild() itself).
  void choose_codec(const std::string& rows_path, size_t stored_rows, const AddedRows* added,
                    CodecChoice& choice) const;
  // Writes every live stored vector once (float32, decoded) to `rows_path`, then `added`'s rows,
  // and returns their ids in that order (rebuild.cpp); with `codes_path`, also each stored row's
  // code as stored, in the same order.
  std::vector<int64_t> write_stored_rows(const std::string& rows_path, const ProgressFn& progress,
                                         const AddedRows* added, const std::string& codes_path) const;
  // One query's lists scanned into ctx.results (the best `keep`; SIZE_MAX: every entry), past
  // the eps bound until they hold `needed` where the nprobe nearest heads' lists can give it.
  void scan_query(const float* q, size_t keep, size_t needed, const SearchParams& params, const RowFilter* filter,
                  Context& ctx) const;
  void search_one(const float* q, size_t k, const SearchParams& params, const RowFilter* filter, float* distances,
                  int64_t* ids, Context& ctx) const;
  // Living state, created on first need (mutex: const lookups may create it).
  Live& live() const;
  void init_live(Live& live) const;
  void write_live_section(io::IndexFileWriter& out) const;
  void read_live_section(const io::IndexFileReader& in);
  void ensure_where(Live& live) const;
  void assign_to_heads(const float* x, size_t n, std::vector<uint32_t>& lists) const;
  void rewrite_list(Live& live, uint32_t list, ListBuffer& buffer);
  void append_to_lists(Live& live, const std::vector<std::pair<uint32_t, uint32_t>>& by_list, const uint8_t* entries,
                       const uint8_t* tails, bool skip_present);
  std::vector<std::pair<uint32_t, uint32_t>> orphans_of_add(const Live& live, const float* x, size_t n,
                                                            const std::vector<uint32_t>& lists) const;
  void split_list(Live& live, uint32_t list, ListBuffer& buffer);
  float typical_reach(Live& live) const;
  // The squared distance from a row of the running add to the nearest head of its lists
  // (`lists`: its replicas slots, kNoList after the last).
  float row_reach(const Live& live, const float* row, const uint32_t* lists) const;
  void note_strays(Live& live, const float* x, size_t n, const int64_t* labels, const std::vector<uint32_t>& lists);
  void rehome_strays(Live& live, uint32_t list, ListBuffer& buffer);
  // `split`, `split_kept`: the list being split and the part it keeps, not yet written.
  void take_nearer_members(Live& live, uint32_t list, ListBuffer& buffer, uint32_t split, const ListBuffer& split_kept);
  // A failed add (a posting write refused, e.g. a full disk) leaves the index as it was: its
  // ids are forgotten and whatever entries of it reached the file are stale.
  void forget_failed_add(Live& live, const std::vector<int64_t>& labels);
  void sweep_stale(Live& live);
  void read_list(uint32_t list, ListBuffer& out) const;
  void open_writer(Live& live) const;
  // IoError where another build has replaced the posting file at this index's path since it
  // opened its own (posting_file_in_place(), without the lock): `refused`, what it cannot do.
  void refuse_if_posting_file_replaced(const std::string& refused) const;
  void write_list(Live& live, uint32_t list, const ListBuffer& buffer);
  // write_list's two steps: the buffer written to new pages (its list descriptor), then put in
  // place of list `list` (the old pages released). A list of 0 entries has no pages.
  io::PostingList write_pages(Live& live, const ListBuffer& buffer);
  void install_list(Live& live, uint32_t list, const io::PostingList& written);
  void release_pages(Live& live, const io::PostingList& list);
  // The sweep after a write, when stale entries pass their share: a refused one leaves the
  // write done and the sweep for the next write or compact() (which reports it).
  void sweep_if_stale(Live& live);
  // Sweeps first when one of `ids` would take a version about to wrap.
  void sweep_before_versions_wrap(Live& live, const std::vector<int64_t>& ids);
  // During an upsert: whether the entry `raw` is one of the replaced rows' (kept, see Live).
  bool upsert_keeps(const Live& live, int64_t raw) const;
  void run_queries(size_t nq, ThreadPool& pool, const std::function<void(size_t, Context&)>& f) const;
  // Inside a catch of a posting page's failed checksum: rethrows it, said as what it is where
  // this state is older than its posting file (a state saved after it was written to since
  // and reused its pages), not damage.
  [[noreturn]] void rethrow_read_failure() const;
  std::unique_ptr<Context> acquire_context() const;
  void release_context(std::unique_ptr<Context> ctx) const;
  size_t contexts_memory() const;

  std::string posting_path_;
  BuildStats build_stats_;
  uint64_t count_ = 0;
  uint64_t expected_build_id_ = 0;  // read_sections -> attach_storage
  uint32_t expected_header_crc_ = 0;

  std::unique_ptr<Codec> codec_;            // encodes entries, scores them at search time
  std::unique_ptr<VectorIndex> head_;       // HNSW over the heads; its ids are list numbers
  std::unique_ptr<io::PostingReader> postings_;
  std::unique_ptr<PreadPool> io_;
  // H x dim float16 copies of the head vectors (the head graph holds them in float32): what
  // adds after the build expand (replica rule, splits); small while the index stays static.
  std::vector<uint16_t> head_halves_;
  // Whether a save, to_bytes or load names posting_path_, and the process that wrote it: a
  // rebuild() replaces that file only where nothing names it and this process wrote it (a
  // forked child's copy of an unsaved index shares its parent's file).
  mutable std::atomic<bool> posting_named_{false};
  uint64_t posting_writer_process_ = 0;
  mutable std::unique_ptr<Live> live_;
  // Non-null while a rebuild builds: adds and removes (under the write mutex) append to it.
  std::unique_ptr<Journal> journal_;
  mutable std::mutex live_mutex_;

  mutable ScratchPool<Context> contexts_;
  mutable std::atomic<uint64_t> stat_queries_{0}, stat_lists_{0}, stat_bytes_{0}, stat_entries_{0},
      stat_tail_bytes_{0};
  std::atomic<uint64_t> rebuilds_on_growth_{0};  // adds made by a rebuild (add_by_rebuild), since this object was made
  uint64_t declined_at_ = 0;  // the rows after the last add whose rebuild could not be made (write mutex)
  // What codec_ learnt from (a loaded index: its build's sample), as flat and HNSW keep it: a
  // rebuild made by an add trains a new codec only when it is due (rebuild.cpp).
  relearning::Record learning_;
};

}  // namespace vidx::spann
