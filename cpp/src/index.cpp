#include "vidx/index.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "cosine_rows.hpp"
#include "scaled_source.hpp"
#include "search_filter.hpp"
#include "vidx/codec/registry.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {
namespace {

constexpr uint32_t kMetaSection = io::fourcc("META");
constexpr uint32_t kIdsSection = io::fourcc("IDS_");
constexpr uint32_t kOptionsSection = io::fourcc("OPTS");
// The next default id, where removals made it pass the largest stored id + 1 (optional).
constexpr uint32_t kNextIdSection = io::fourcc("NXID");
// Cosine, slot-addressed kinds: each slot's length as added, a float32 a slot (files saved
// before it was kept have none: get() returns their unit vectors).
constexpr uint32_t kNormsSection = io::fourcc("NORM");
// The factor an index multiplies its rows by (RowScale), one float32; only where it is not 1,
// with the header's kScaledRowsFlag.
constexpr uint32_t kScaleSection = io::fourcc("SCAL");

}  // namespace

VectorIndex::VectorIndex(size_t dim, Metric metric, IndexOptions options)
    : dim_(dim), metric_(metric), options_(with_default_quant(std::move(options), kDefaultQuant)) {
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  if (dim > (1u << 20)) throw InvalidArgument("dim must be at most 1048576");
  validate_options(options_);
  pool_ = std::make_unique<ThreadPool>(options_.threads);
}

size_t VectorIndex::size() const {
  auto lock = lock_shared();
  return stores_labels() ? structure_size() : ids_.size();
}

ThreadPool& VectorIndex::pool() const { return *pool_; }

void VectorIndex::set_threads(size_t threads) {
  IndexOptions changed = options_;
  changed.threads = threads;
  validate_options(changed);  // the options record's one message for a bad thread count
  auto pool = std::make_unique<ThreadPool>(threads);  // a cap: it starts no thread
  auto lock = lock_exclusive();
  {
    std::lock_guard<std::mutex> guard(options_mutex_);
    options_.threads = threads;
  }
  pool_ = std::move(pool);
}

void VectorIndex::add(const float* x, size_t n, const int64_t* ids, const ProgressFn& progress) {
  check_writable("add");
  if (n == 0) return;
  require_data(x, n, dim_, "add: vectors");
  if (builds_once() && !built()) {
    io::MemorySource source(x, n, dim_, dim_ * sizeof(float), 0, io::ElementType::Float32, false);
    build_once(source, ids, progress);
    return;
  }
  std::vector<float> buffer, norms;
  const float* rows = rows_to_store(x, n, buffer, norms);
  if (stores_labels()) {
    std::vector<float> scaled;
    rows = scaled_by_factor(rows, n, scaled);  // the build's factor, kept for good
    // Built already (SPANN): an add that is not made by a rebuild has no steps to report, and
    // a report after it could not stop it. The one report ("read", as for a file) comes first:
    // one that throws leaves the index unchanged.
    report(progress, "read", n, n);
    if (add_by_rebuild(rows, n, ids, pool(), progress)) return;
    WriteGuard writing = lock_writes();
    return add_after_build(rows, n, ids, writing);
  }
  WriteGuard writing = lock_writes();
  add_checked(rows, norms.empty() ? nullptr : norms.data(), n, ids, writing, WriteLock::kReleased,
              progress);  // index_write.cpp
}

namespace {
// The indexes whose report() this thread is inside, innermost first: a callback may add to
// another index, whose callback then must not use the first either.
struct ReportMark {
  const VectorIndex* index;
  const ReportMark* outer;
};
thread_local const ReportMark* reporting = nullptr;
}  // namespace

void VectorIndex::report(const ProgressFn& progress, const char* phase, size_t done, size_t total) const {
  if (!progress) return;
  struct Scope {
    ReportMark mark;
    explicit Scope(const VectorIndex* index) : mark{index, reporting} { reporting = &mark; }
    ~Scope() { reporting = mark.outer; }
  } scope(this);
  progress(phase, done, total);
}

void VectorIndex::check_not_reporting() const {
  for (const ReportMark* m = reporting; m; m = m->outer)
    if (m->index == this)
      throw InvalidArgument("this " + kind() + " index cannot be used from the progress callback of its own add() "
                            "or rebuild() (or of one that callback made): that call holds the index until it returns");
}

void VectorIndex::add(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress) {
  check_writable("add");
  if (source.dim() != dim_)
    throw InvalidArgument("vectors have dimension " + std::to_string(source.dim()) + ", the index has " +
                          std::to_string(dim_));
  if (builds_once() && !built()) return build_once(source, ids, progress);
  // An in-memory structure holds every vector anyway: read them all, then add them in one
  // call, so that an error leaves the index unchanged and names the right row.
  const size_t n = source.rows();
  std::vector<float> rows(n * dim_);
  source.read(0, n, rows.data());
  // Reported before the add: a callback that raises (a stopped progress bar) then leaves the
  // index unchanged, as an error must, instead of raising after the rows went in.
  // (A built SPANN's add reports "read" itself, first too.)
  if (progress && !stores_labels()) progress("read", n, n);
  add(rows.data(), n, ids, progress);
}

void VectorIndex::build_once(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress) {
  bool idle = false;
  if (!building_.compare_exchange_strong(idle, true))
    throw InvalidArgument("this " + kind() + " index is being built by another thread");
  struct Done {
    std::atomic<bool>& flag;
    ~Done() { flag = false; }
  } done{building_};
  const ForkGate::Hold whole_build(lock_generation());  // a fork waits for it (it holds no lock)
  if (built())
    throw InvalidArgument("this " + kind() + " index is already built: a " + kind() +
                          " index is built by one add() of all its vectors");
  if (!scales_rows()) return build(source, ids, progress);  // no lock held: it reads the source, may report
  // The factor is in place before the build reads a row (searches of the index, empty until the
  // build swaps its state in, scale their queries by it from then on), and unchosen again if the
  // build fails: the next add chooses afresh, as a first add of flat or HNSW does.
  const float bound = std::min(max_abs_value(dim_), find_codec(options_.quant).value_bound);
  const float factor = choose_source_scale(source, bound);
  {
    auto lock = lock_exclusive();
    scale_.set(factor);
  }
  ScaledSource scaled(source, scale_.factor(), options_.quant, metric_);
  try {
    build(scaled, ids, progress);
  } catch (...) {
    auto lock = lock_exclusive();
    scale_.set(0.f);
    throw;
  }
}

void VectorIndex::check_search_params(const SearchParams& params) const {
  const unsigned uses = search_settings();
  auto refuse = [&](const char* name, const char* what) {
    throw InvalidArgument(std::string(name) + " does not apply to a '" + kind() + "' index (" + what + ")");
  };
  if (params.ef && !(uses & kSearchEf)) refuse("ef", "it is the beam width of a graph search");
  if (params.rerank && !(uses & kSearchRerank)) refuse("rerank", "it re-scores compressed candidates");
  if (params.nprobe && !(uses & kSearchNprobe)) refuse("nprobe", "it is the number of SPANN posting lists read");
  if (params.eps >= 0 && !(uses & kSearchEps)) refuse("eps", "it prunes SPANN posting lists");
  if (std::isnan(params.eps)) throw InvalidArgument("eps must be >= 0 (inf turns pruning off), got nan");
}

SearchParams VectorIndex::resolve(const SearchParams& params, size_t k) const {
  SearchParams r = params;
  if (r.ef == 0) r.ef = options_.ef_search;
  if (r.rerank == 0) r.rerank = options_.rerank;
  if (r.nprobe == 0) r.nprobe = options_.spann.nprobe;
  if (r.eps < 0) r.eps = options_.spann.eps;
  const size_t n = stores_labels() ? structure_size() : ids_.size();
  r.ef = clamp_width(r.ef, n, k);
  r.rerank = clamp_width(r.rerank, n, k);
  return r;
}

void VectorIndex::search(const float* queries, size_t nq, size_t k, const SearchParams& params, float* distances,
                         int64_t* ids, double* precise) const {
  check_k(k, size());
  check_search_params(params);
  if (nq == 0) return;
  require_data(queries, nq, dim_, "search: queries");
  require_data(distances, nq, k, "search: distances");
  require_data(ids, nq, k, "search: ids");
  check_filters(params, nq);
  auto lock = lock_shared();
  // From the filters' slots to the results' ids, no slot removed meanwhile holds another row.
  const RetiredSlots::Call call(retired_);
  std::unique_ptr<float[]> normalized;
  const float* q = checked_queries(metric_, queries, nq, dim_, normalized, pool(), scale_.factor());
  SearchParams resolved = resolve(params, k);
  const CallFilters filters(params, nq, stores_labels() ? nullptr : &ids_, structure_size(), has_removed_rows());
  resolved.row_filters = filters.get();
  search_rows(q, nq, k, resolved, distances, ids, pool());
  if (!stores_labels()) labels_for_results(q, nq, k, resolved, distances, ids);
  if (precise)
    for (size_t i = 0; i < nq * k; ++i) precise[i] = scale_.precise_user_distance(distances[i], metric_);
  if (scale_.scaled())
    for (size_t i = 0; i < nq * k; ++i) distances[i] = scale_.user_distance(distances[i], metric_);
}

size_t VectorIndex::memory_usage() const {
  auto lock = lock_shared();
  return sizeof(*this) + ids_.memory_usage() + norms_.memory_usage() + structure_memory();
}

std::map<std::string, size_t> VectorIndex::memory_breakdown() const {
  auto lock = lock_shared();
  std::map<std::string, size_t> parts = structure_memory_parts();
  parts["ids"] += ids_.memory_usage();
  if (norms_.memory_usage()) parts["norms"] += norms_.memory_usage();
  parts["other"] += sizeof(*this);
  return parts;
}

void VectorIndex::check_writable(const char* what) const {
  if (read_only())
    throw InvalidArgument(std::string("read-only: loaded with mmap=True, this index cannot ") + what +
                          "; load it without mmap (or load a save() of it) to change it");
}

void VectorIndex::write_file(io::IndexFileWriter& out) const {
  io::ByteWriter meta;
  meta.u64(dim_);
  meta.u32(static_cast<uint32_t>(metric_));
  meta.u64(stores_labels() ? structure_size() : ids_.slot_count());
  out.add_section(kMetaSection, meta.take());
  io::ByteWriter opts;
  write_options(options_, opts);
  out.add_section(kOptionsSection, opts.take());
  // -1: a free slot. A copy the writer owns: labels() is a snapshot that write_file's caller
  // outlives (a view of it would dangle by the time the file is written).
  const std::vector<int64_t> labels = ids_.labels();
  std::vector<uint8_t> id_bytes(labels.size() * sizeof(int64_t));
  if (!labels.empty()) std::memcpy(id_bytes.data(), labels.data(), id_bytes.size());
  out.add_section(kIdsSection, std::move(id_bytes));
  if (ids_.next_default_id() > ids_.implied_next_default_id()) {
    io::ByteWriter next;
    next.u64(ids_.next_default_id());
    out.add_section(kNextIdSection, next.take());
  }
  if (keeps_norms() && ids_.slot_count() > 0)
    out.add_section(kNormsSection, norms_.bytes(ids_.slot_count()));
  if (scale_.scaled()) {
    io::ByteWriter scale;
    scale.f32(scale_.factor());
    out.add_section(kScaleSection, scale.take());
    out.set_flags(io::kScaledRowsFlag);
  }
  write_sections(out);
}

void VectorIndex::save(const std::string& path) const {
  auto writing = pause_writes();  // no add is half done: every slot is live or free
  auto lock = lock_shared();
  require_path(path, "save: path");
  check_save_path(path);
  io::IndexFileWriter out(kind());
  write_file(out);
  out.write_atomically(path);
  snapshot_taken(true);
}

std::vector<uint8_t> VectorIndex::to_bytes() const {
  std::vector<uint8_t> bytes;
  to_bytes([&bytes](size_t n) {
    bytes.resize(n);
    return bytes.data();
  });
  return bytes;
}

void VectorIndex::to_bytes(const std::function<uint8_t*(size_t)>& allocate) const {
  auto writing = pause_writes();  // as save(): no add is half done
  auto lock = lock_shared();
  check_save_path("");  // refuses what cannot be saved at all (an empty SPANN index)
  io::IndexFileWriter out(kind());
  write_file(out);
  out.write_to(allocate);
  snapshot_taken(false);
}

namespace {

// Options of files written before the OPTS section: fixed fields after the counts in META.
IndexOptions read_legacy_options(io::ByteReader& meta) {
  IndexOptions options;
  options.M = meta.u64();
  options.ef_construction = meta.u64();
  options.ef_search = meta.u64();
  options.seed = meta.u64();
  options.quant = meta.str();
  options.rerank = meta.u64();
  options.keep_vectors = meta.u8() != 0;
  return options;
}

}  // namespace

std::unique_ptr<VectorIndex> VectorIndex::from_reader(const io::IndexFileReader& in, const std::string& storage_path,
                                                      const LoadOptions& load) {
  const std::string& path = in.path();
  io::ByteReader meta = in.reader(kMetaSection);
  const uint64_t dim = meta.u64();
  const uint32_t metric_code = meta.u32();
  const uint64_t count = meta.u64();
  IndexOptions options;
  if (in.has(kOptionsSection)) {
    io::ByteReader opts = in.reader(kOptionsSection);
    options = read_options(opts);
    opts.expect_end();
  } else {
    options = read_legacy_options(meta);
  }
  if (metric_code > static_cast<uint32_t>(Metric::Cosine))
    throw FileFormatError(path + ": unknown metric code " + std::to_string(metric_code));
  if (dim == 0 || dim > (1u << 20)) throw FileFormatError(path + ": implausible dimension " + std::to_string(dim));
  if (count >= (uint64_t{1} << 31)) throw FileFormatError(path + ": implausible vector count " + std::to_string(count));

  std::unique_ptr<VectorIndex> index;
  try {
    index = make_index(in.kind(), dim, static_cast<Metric>(metric_code), options);
  } catch (const InvalidArgument& e) {
    throw FileFormatError(path + ": " + e.what());
  }
  const io::Span id_bytes = in.section(kIdsSection);
  const uint64_t id_count = index->stores_labels() ? 0 : count;
  if (id_bytes.size != id_count * sizeof(int64_t))
    throw FileFormatError(path + ": id section holds " + std::to_string(id_bytes.size) + " bytes, expected " +
                          std::to_string(id_count * sizeof(int64_t)));
  try {
    index->read_sections(in);
    // Sections start 64-byte aligned (in the file and in memory), so the ids are read in place.
    index->ids_.assign(reinterpret_cast<const int64_t*>(id_bytes.data), id_count);
    if (in.has(kNextIdSection)) {
      io::ByteReader next = in.reader(kNextIdSection);
      index->ids_.continue_defaults_from(next.u64());
      next.expect_end();
    }
    if (in.has(kNormsSection)) {
      const io::Span norms = in.section(kNormsSection);
      index->read_norms(norms.data, norms.size, id_count, path);
    }
    if (in.has(kScaleSection) != ((in.flags() & io::kScaledRowsFlag) != 0))
      throw FileFormatError(path + ": the header's scaled-rows flag and the SCAL section disagree");
    if (in.has(kScaleSection)) {
      io::ByteReader scale = in.reader(kScaleSection);
      index->read_row_scale(scale, path);
      scale.expect_end();
    } else if (count > 0) {
      index->scale_.set(1.f);  // chosen by the first add, long ago: its rows needed no scaling
    }
  } catch (const InvalidArgument& e) {
    throw FileFormatError(path + ": " + e.what());
  }
  if (in.mapped()) index->backing_ = in.backing();  // the structure may be using sections in place
  else in.verify_unread();  // any section no structure read (a damaged byte anywhere fails a load)
  index->adopt_loaded_ids(path);
  index->attach_storage(storage_path, load);
  if (index->structure_size() != count)
    throw FileFormatError(path + ": structure holds " + std::to_string(index->structure_size()) + " vectors, ids " +
                          std::to_string(count));
  return index;
}


void VectorIndex::read_row_scale(io::ByteReader& in, const std::string& path) {
  const float factor = in.f32();
  if (!scales_rows() || !RowScale::plausible(factor))
    throw FileFormatError(path + ": a row scale of " + value_text(factor) + " in a " + metric_name(metric_) +
                          " index of quant '" + options_.quant + "', which this library would not choose");
  scale_.set(factor);
}

void VectorIndex::read_norms(const uint8_t* data, size_t size, size_t slot_count, const std::string& path) {
  if (!keeps_norms()) throw FileFormatError(path + ": a norm section in an index that keeps no norms");
  if (size != slot_count * sizeof(float))
    throw FileFormatError(path + ": norm section holds " + std::to_string(size) + " bytes, expected " +
                          std::to_string(slot_count * sizeof(float)));
  norms_.assign(data, slot_count);
  for (size_t slot = 0; slot < slot_count; ++slot) {
    const float norm = norms_.of(static_cast<uint32_t>(slot));
    if (!(norm > 0.0f) || !std::isfinite(norm))
      throw FileFormatError(path + ": slot " + std::to_string(slot) + " has length " + value_text(norm) +
                            " (lengths are positive and finite); the file is corrupted");
  }
}

void VectorIndex::attach_storage(const std::string& index_path, const LoadOptions& load) {
  // Nothing lives beside this index's file: the options were dropped without a word before.
  if (!load.posting_path.empty() || load.direct_io != -1)
    throw InvalidArgument(std::string(load.posting_path.empty() ? "direct_io" : "posting_path") +
                          " applies to a SPANN index (" + index_path + " holds a '" + kind() + "' index)");
}

std::unique_ptr<VectorIndex> load_index(const std::string& path, const LoadOptions& load) {
  require_path(path, "load: path");
  if (!load.posting_path.empty()) require_path(load.posting_path, "load: posting_path");
  if (load.direct_io < -1 || load.direct_io > 1)
    throw InvalidArgument("load: direct_io is " + std::to_string(load.direct_io) + "; expected -1 (as saved), 0 or 1");
  const io::IndexFileReader in = load.mmap ? io::IndexFileReader::map(path, load.verify) : io::IndexFileReader::open(path);
  return VectorIndex::from_reader(in, path, load);
}

std::unique_ptr<VectorIndex> load_index_from_bytes(const void* data, size_t size) {
  require_data(data, size, "load_index_from_bytes: data");
  const io::IndexFileReader in = io::IndexFileReader::from_bytes(data, size);
  return VectorIndex::from_reader(in, in.path(), LoadOptions{});
}

}  // namespace vidx
