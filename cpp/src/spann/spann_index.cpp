#include "vidx/spann/spann_index.hpp"

#include <sys/stat.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <climits>
#include <cstring>

#include "build_phases.hpp"
#include "live_state.hpp"
#include "search_context.hpp"
#include "vidx/codec/float16.hpp"
#include "vidx/codec/registry.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/positional_io.hpp"
#include "spann_paths.hpp"

namespace vidx::spann {
namespace {

// The head graph keeps the default degree where M is left automatic: its heads are cluster
// centres, not rows, and no study measured another degree for them.
IndexOptions with_head_degree(IndexOptions options) {
  if (options.M == 0) options.M = kDefaultDegree;
  return options;
}

}  // namespace

std::unique_ptr<Codec> copy_of(const Codec& codec, Metric index_metric) {
  io::ByteWriter out;
  codec.save_parameters(out);
  const std::vector<uint8_t> bytes = out.take();
  io::ByteReader in(io::Span{bytes.data(), bytes.size()}, "the codec of a SPANN index being rebuilt");
  // The index's metric, as the codec was made with: a codec records cosine as inner product,
  // and one that keeps which it was made for (f32_pca) refuses parameters of the other.
  return load_codec(codec.name(), codec.dim(), index_metric, in);
}

double auto_head_ratio(size_t dim, size_t head_M) {
  // Resident bytes per head: its vector, its level-0 links (2M of 4 bytes), the graph's
  // per-node overhead and upper levels (~96) and its directory record (24).
  const double vec = 4.0 * static_cast<double>(dim);
  const double per_head = vec + 8.0 * static_cast<double>(head_M) + 120.0;
  return std::clamp(0.065 * vec / per_head, 0.01, 0.05);
}

SpannIndex::SpannIndex(size_t dim, Metric metric, IndexOptions options)
    : VectorIndex(dim, metric, with_head_degree(std::move(options))) {
  const IndexOptions& o = this->options();
  if (o.spann.path.empty()) throw InvalidArgument("a SPANN index needs path= : the file its posting lists are written to");
  require_path(o.spann.path, "path");
  if (o.spann.path.size() >= PATH_MAX) throw InvalidArgument("path is too long");
  struct stat st;
  if (::stat(o.spann.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    throw InvalidArgument("path " + o.spann.path + " is a directory; give the posting file's name");
  if (o.keep_vectors) throw InvalidArgument("keep_vectors does not apply to a SPANN index (its vectors are on disk)");
  codec_ = make_codec(o.quant, dim, metric, o.seed);
  learning_.learns = codec_->needs_training();
  posting_path_ = absolute_path(o.spann.path);
  io_ = std::make_unique<PreadPool>(o.spann.io_threads);
}

SpannIndex::~SpannIndex() = default;

double SpannIndex::effective_head_ratio() const {
  return options().spann.head_ratio > 0 ? options().spann.head_ratio : auto_head_ratio(dim(), options().M);
}

size_t SpannIndex::heads() const {
  auto lock = lock_shared();
  return head_ ? head_->size() : 0;
}

bool SpannIndex::direct_io() const {
  auto lock = lock_shared();
  return postings_ ? postings_->direct_io() : options().spann.direct_io;
}

BuildStats SpannIndex::build_stats() const {
  auto lock = lock_shared();
  return build_stats_;
}

IoStats SpannIndex::io_stats() const {
  return IoStats{stat_queries_.load(), stat_lists_.load(), stat_bytes_.load(), stat_entries_.load(),
                 stat_tail_bytes_.load()};
}

void SpannIndex::reset_stats() {
  for (auto* s : {&stat_queries_, &stat_lists_, &stat_bytes_, &stat_entries_, &stat_tail_bytes_}) s->store(0);
}

std::map<std::string, double> SpannIndex::stats() const {
  const BuildStats b = build_stats();
  const IoStats s = io_stats();
  const bool direct = direct_io();
  double splits = 0, rewrites = 0, sweeps = 0, stale = 0, reassigned = 0;
  {
    auto lock = lock_shared();
    if (live_) {
      splits = double(live_->splits);
      rewrites = double(live_->rewrites);
      sweeps = double(live_->sweeps);
      stale = double(live_->liveness.size());
      reassigned = double(live_->reassigned);
    }
  }
  return {{"vectors", double(b.vectors)},
          {"heads", double(b.heads)},
          {"entries", double(b.entries)},
          {"dropped_replicas", double(b.dropped_replicas)},
          {"posting_limit", double(b.posting_limit)},
          {"sample", double(b.sample)},
          {"write_passes", double(b.write_passes)},
          {"posting_file_bytes", double(b.posting_file_bytes)},
          {"peak_tracked_bytes", double(b.peak_tracked_bytes)},
          {"effective_head_ratio", effective_head_ratio()},
          {"direct_io", direct ? 1.0 : 0.0},
          {"queries", double(s.queries)},
          {"lists_read", double(s.lists)},
          {"bytes_read", double(s.bytes)},
          {"tail_bytes_read", double(s.tail_bytes)},
          {"entries_scanned", double(s.entries)},
          {"live_splits", splits},
          {"live_list_rewrites", rewrites},
          {"live_sweeps", sweeps},
          {"live_reassigned", reassigned},
          {"rebuilds_on_growth", double(rebuilds_on_growth_.load())},
          {"stale_ids", stale}};
}

void SpannIndex::add_rows(const float*, size_t, const uint32_t*, ThreadPool&, const ProgressFn&) {
  throw std::logic_error("vidx::spann::SpannIndex is built by build(), not add_rows()");
}

size_t SpannIndex::structure_memory() const {
  size_t bytes = 0;
  for (const auto& part : structure_memory_parts()) bytes += part.second;
  return bytes;
}

std::map<std::string, size_t> SpannIndex::structure_memory_parts() const {
  std::map<std::string, size_t> parts;
  parts["structure"] = sizeof(*this) - sizeof(VectorIndex) + posting_path_.capacity();
  if (head_) parts["heads"] = head_->memory_usage();
  if (codec_) parts["codec"] = sizeof(*codec_) + codec_->parameter_bytes();
  if (postings_) parts["posting_directory"] = postings_->memory_usage();
  parts["head_vectors"] = head_halves_.capacity() * sizeof(uint16_t);
  {
    std::lock_guard<std::mutex> guard(live_mutex_);  // a lookup may be creating it
    if (live_) parts["living"] = live_->memory_usage();
  }
  parts["scratch"] = contexts_memory();
  return parts;
}

std::string SpannIndex::posting_path() const {
  auto lock = lock_shared();
  return posting_path_;
}

bool SpannIndex::posting_file_in_place() const {
  auto lock = lock_shared();
  return !postings_ || postings_->file().still_at(postings_->path());
}

void SpannIndex::refuse_if_posting_file_replaced(const std::string& refused) const {
  if (postings_->file().still_at(postings_->path())) return;
  throw IoError("the posting file " + postings_->path() + " was replaced since this index opened it (another index "
                "was built there), so " + refused + ". This index's lists are only in the file it still has open: "
                "rebuild(path) writes them to a new posting file, which it can save and write");
}

void SpannIndex::check_id(int64_t id) {
  if (id > kMaxSpannId) throw InvalidArgument("id " + std::to_string(id) + " is too large: SPANN ids must be below 2^56");
}

void SpannIndex::build(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress) {
  const size_t n = source.rows();
  if (n == 0) throw InvalidArgument("no vectors to add");
  if (n >= (size_t(1) << 31)) throw InvalidArgument("a SPANN index holds at most 2^31 - 1 vectors");
  if (ids) {
    std::vector<int64_t> sorted(ids, ids + n);
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    if (dup != sorted.end()) throw InvalidArgument("id " + std::to_string(*dup) + " appears more than once");
    if (!sorted.empty()) check_id(sorted.back());
  }
  io::check_replaceable_by_postings(posting_path_);  // before a row is read; the commit checks again
  State built = state_of(build_parts(source, ids, progress, posting_path_, options().spann.direct_io, false, CodecChoice{}));
  {
    auto lock = lock_exclusive();  // searches wait only for this swap
    swap_state(built);             // a living state of a built index is made on first need
  }
#if defined(__GLIBC__)
  ::malloc_trim(0);  // the build's buffers are gone; return their pages
#endif
}

BuiltParts SpannIndex::build_parts(io::VectorSource& source, const int64_t* ids, const ProgressFn& progress,
                                   const std::string& path, bool direct_io, bool keep_row_lists,
                                   CodecChoice choice) const {
  const size_t n = source.rows();
  ThreadPool pool(options().threads);  // its own: set_threads() may replace the index's meanwhile
  BuildContext b{source, ids, progress, n, dim(), metric(), options(), pool};
  b.stored_codes = choice.stored_codes;
  b.stored_rows = choice.stored_codes ? choice.stored_rows : 0;
  plan_build(b, effective_head_ratio());
  BuiltParts parts;
  const bool given = choice.codec != nullptr;
  parts.codec = given ? std::move(choice.codec) : make_codec(options().quant, dim(), metric(), options().seed);
  Heads heads = choose_heads(b, *parts.codec);  // trains a codec not given on its sample
  parts.codec_learnt_from = given ? choice.learnt_from : heads.sample;
  parts.head_halves.resize(heads.vectors.size());
  for (size_t i = 0; i < parts.head_halves.size(); ++i) parts.head_halves[i] = f16::from_float(heads.vectors[i]);
  const Assignment a = assign_rows(b, heads);
  const WriteResult w = write_postings(b, a, *parts.codec, path);
  if (keep_row_lists) {  // the first list left to each row (the length bound keeps at least one)
    parts.row_lists.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t* slots = a.list.data() + i * a.replicas;
      parts.row_lists[i] = *std::find_if(slots, slots + a.replicas - 1, [](uint32_t l) { return l != kNoList; });
    }
  }
  parts.postings = std::make_unique<io::PostingReader>(path, direct_io);
  // In BuildStats's field order: vectors, heads, entries, dropped_replicas, posting_limit, sample,
  // write_passes, posting_file_bytes, peak_tracked_bytes.
  parts.stats = BuildStats{n, heads.index->size(), a.entries, a.dropped, a.limit, heads.sample, w.passes,
                           w.file_bytes, b.mem.peak};
  parts.head = std::move(heads.index);
  return parts;
}

SpannIndex::State SpannIndex::state_of(BuiltParts parts) const {
  State state;
  state.codec = std::move(parts.codec);
  state.head = std::move(parts.head);
  state.posting_path = parts.postings->path();
  state.postings = std::move(parts.postings);
  state.stats = parts.stats;
  state.count = parts.stats.vectors;
  state.head_halves = std::move(parts.head_halves);
  state.named = false;
  state.writer_process = io::current_process_id();
  state.codec_learnt_from = parts.codec_learnt_from;
  return state;
}

}  // namespace vidx::spann
