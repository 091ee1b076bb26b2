#include "vidx/index.hpp"

#include <cmath>
#include <cstring>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {
namespace {

constexpr uint32_t kMetaSection = io::fourcc("META");
constexpr uint32_t kIdsSection = io::fourcc("IDS_");

// Cosine indexes store and compare unit vectors; returns x itself for other metrics.
const float* normalized_if_cosine(Metric metric, const float* x, size_t n, size_t dim, std::vector<float>& buffer) {
  if (metric != Metric::Cosine) return x;
  buffer.assign(x, x + n * dim);
  for (size_t r = 0; r < n; ++r) normalize_in_place(buffer.data() + r * dim, dim);
  return buffer.data();
}

}  // namespace

VectorIndex::VectorIndex(size_t dim, Metric metric, IndexOptions options)
    : dim_(dim), metric_(metric), options_(std::move(options)) {
  if (dim == 0) throw InvalidArgument("dim must be at least 1");
  if (dim > (1u << 20)) throw InvalidArgument("dim must be at most 1048576");
  pool_ = std::make_unique<ThreadPool>(options_.threads);
}

size_t VectorIndex::size() const {
  std::shared_lock<WriterFirstMutex> lock(rw_);
  return ids_.size();
}

ThreadPool& VectorIndex::pool() const { return *pool_; }

void VectorIndex::set_threads(size_t threads) {
  auto pool = std::make_unique<ThreadPool>(threads);  // may throw: change nothing before
  std::unique_lock<WriterFirstMutex> lock(rw_);
  options_.threads = threads;
  pool_ = std::move(pool);
}

void VectorIndex::add(const float* x, size_t n, const int64_t* ids) {
  if (n == 0) return;
  check_vectors(metric_, x, n, dim_, "vector");
  std::vector<float> normalized;
  const float* rows = normalized_if_cosine(metric_, x, n, dim_, normalized);
  std::unique_lock<WriterFirstMutex> lock(rw_);
  if (ids_.size() + n > (size_t{1} << 31) - 1) throw InvalidArgument("an index holds at most 2^31 - 1 vectors");
  ids_.check_new(ids, n);
  add_rows(rows, n, pool());  // the structure grows only after its own checks pass
  ids_.append(ids, n);
}

void VectorIndex::search(const float* queries, size_t nq, size_t k, const SearchParams& params, float* distances,
                         int64_t* ids) const {
  check_k(k, size());
  if (nq == 0) return;
  check_vectors(metric_, queries, nq, dim_, "query");
  std::vector<float> normalized;
  const float* q = normalized_if_cosine(metric_, queries, nq, dim_, normalized);
  std::shared_lock<WriterFirstMutex> lock(rw_);
  const size_t n = ids_.size();
  const SearchParams resolved{clamp_width(params.ef == 0 ? options_.ef_search : params.ef, n, k),
                              clamp_width(params.rerank == 0 ? options_.rerank : params.rerank, n, k)};
  search_rows(q, nq, k, resolved, distances, ids, pool());
  for (size_t i = 0; i < nq * k; ++i)
    if (ids[i] >= 0) ids[i] = ids_.label(static_cast<uint32_t>(ids[i]));
}

size_t VectorIndex::memory_usage() const {
  std::shared_lock<WriterFirstMutex> lock(rw_);
  return sizeof(*this) + ids_.memory_usage() + structure_memory();
}

std::map<std::string, size_t> VectorIndex::memory_breakdown() const {
  std::shared_lock<WriterFirstMutex> lock(rw_);
  std::map<std::string, size_t> parts = structure_memory_parts();
  parts["ids"] += ids_.memory_usage();
  parts["other"] += sizeof(*this);
  return parts;
}

void VectorIndex::save(const std::string& path) const {
  std::shared_lock<WriterFirstMutex> lock(rw_);
  io::IndexFileWriter out(kind());
  io::ByteWriter meta;
  meta.u64(dim_);
  meta.u32(static_cast<uint32_t>(metric_));
  meta.u64(ids_.size());
  meta.u64(options_.M);
  meta.u64(options_.ef_construction);
  meta.u64(options_.ef_search);
  meta.u64(options_.seed);
  meta.str(options_.quantization);
  meta.u64(options_.rerank);
  meta.u8(options_.keep_vectors ? 1 : 0);
  out.add_section(kMetaSection, meta.take());
  out.add_section_view(kIdsSection, ids_.labels().data(), ids_.size() * sizeof(int64_t));
  write_sections(out);
  out.write_atomically(path);
}

std::unique_ptr<VectorIndex> load_index(const std::string& path) {
  io::IndexFileReader in = io::IndexFileReader::open(path);
  io::ByteReader meta = in.reader(kMetaSection);
  const uint64_t dim = meta.u64();
  const uint32_t metric_code = meta.u32();
  const uint64_t count = meta.u64();
  IndexOptions options;
  options.M = meta.u64();
  options.ef_construction = meta.u64();
  options.ef_search = meta.u64();
  options.seed = meta.u64();
  options.quantization = meta.str();
  options.rerank = meta.u64();
  options.keep_vectors = meta.u8() != 0;
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
  if (id_bytes.size != count * sizeof(int64_t))
    throw FileFormatError(path + ": id section holds " + std::to_string(id_bytes.size) + " bytes, expected " +
                          std::to_string(count * sizeof(int64_t)));
  std::vector<int64_t> labels(count);
  if (count) std::memcpy(labels.data(), id_bytes.data, id_bytes.size);
  try {
    index->read_sections(in);
    index->ids_.assign(std::move(labels));
  } catch (const InvalidArgument& e) {
    throw FileFormatError(path + ": " + e.what());
  }
  if (index->structure_size() != count)
    throw FileFormatError(path + ": structure holds " + std::to_string(index->structure_size()) + " vectors, ids " +
                          std::to_string(count));
  return index;
}

}  // namespace vidx
