// SPANN's sections in the index file (the heads' own index file embedded whole, as the head
// index's to_bytes() writes it; the codec's parameters, build figures, the posting file's path
// and identity), and finding its posting file when loading.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <system_error>

#include "spann_paths.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/atomic_file.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"
#include "vidx/io/positional_io.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::spann {

std::string absolute_path(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return path;
  return std::string(cwd) + "/" + path;
}

std::string base_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string dir_name(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

namespace {

constexpr uint32_t kSpannSection = io::fourcc("SPMT");
constexpr uint32_t kHeadSection = io::fourcc("HEAD");
constexpr uint32_t kCodecSection = io::fourcc("CODC");
constexpr uint32_t kSpannVersion = 3;  // 3: a VectorIndex file (META/OPTS from the base)

// The embedded head index, read from the section's bytes (verified as a file would be).
std::unique_ptr<VectorIndex> load_head(const io::Span& bytes, const std::string& what) {
  try {
    return load_index_from_bytes(bytes.data, bytes.size);
  } catch (const IoError& e) {
    throw FileFormatError(what + ": the embedded head index is invalid: " + e.what());
  }
}

}  // namespace

void SpannIndex::check_save_path(const std::string& path) const {
  if (!head_) throw InvalidArgument("nothing to save: the SPANN index is empty (call add first)");
  if (absolute_path(path) == posting_path_ || same_file(path, posting_path_))
    throw InvalidArgument("cannot save the index over its own posting file " + posting_path_);
}

void SpannIndex::write_sections(io::IndexFileWriter& out) const {
  io::ByteWriter m;
  m.u32(kSpannVersion);
  m.u64(head_->size());
  const BuildStats& b = build_stats_;
  for (uint64_t v : {b.vectors, b.heads, b.entries, b.dropped_replicas, b.posting_limit, b.sample, b.write_passes,
                     b.posting_file_bytes, b.peak_tracked_bytes})
    m.u64(v);
  m.str(posting_path_);
  m.u64(postings_->header().build_id);
  m.u32(postings_->header_crc());
  io::ByteWriter cp;
  codec_->save_parameters(cp);
  out.add_section(kSpannSection, m.take());
  out.add_section(kCodecSection, cp.take());
  out.add_section(kHeadSection, head_->to_bytes());
}

void SpannIndex::read_sections(const io::IndexFileReader& in) {
  io::ByteReader m = in.reader(kSpannSection);
  const uint32_t version = m.u32();
  if (version != kSpannVersion)
    throw FileFormatError(in.path() + ": SPANN metadata version " + std::to_string(version) + " is not supported");
  const uint64_t heads = m.u64();
  BuildStats b;
  for (uint64_t* v : {&b.vectors, &b.heads, &b.entries, &b.dropped_replicas, &b.posting_limit, &b.sample,
                      &b.write_passes, &b.posting_file_bytes, &b.peak_tracked_bytes})
    *v = m.u64();
  posting_path_ = m.str();
  expected_build_id_ = m.u64();
  expected_header_crc_ = m.u32();
  m.expect_end();
  io::ByteReader cr = in.reader(kCodecSection);
  codec_ = load_codec(options().quant, dim(), metric(), cr);
  cr.expect_end();
  head_ = load_head(in.section(kHeadSection), in.path());
  if (head_->size() != heads || head_->dim() != dim())
    throw FileFormatError(in.path() + ": the head index does not match the metadata; the file is corrupted");
  build_stats_ = b;
  count_ = b.vectors;
}

void SpannIndex::attach_storage(const std::string& index_path, const LoadOptions& load) {
  std::string posting = load.posting_path;
  if (posting.empty()) {
    posting = posting_path_;
    if (::access(posting.c_str(), F_OK) != 0) {
      const std::string beside = dir_name(absolute_path(index_path)) + "/" + base_name(posting_path_);
      if (::access(beside.c_str(), F_OK) == 0) posting = beside;
    }
  }
  posting_path_ = absolute_path(posting);
  const bool direct = load.direct_io >= 0 ? load.direct_io != 0 : options().spann.direct_io;
  auto pf = std::make_unique<io::PostingReader>(posting_path_, direct);
  if (pf->header().build_id != expected_build_id_ || pf->header_crc() != expected_header_crc_)
    throw FileFormatError("posting file " + pf->path() + " does not belong to the index " + index_path +
                          " (it was rebuilt or replaced)");
  if (pf->lists().size() != head_->size() || pf->header().vector_count != count_ || pf->header().dim != dim() ||
      pf->header().codec != codec_->name())
    throw FileFormatError("posting file " + pf->path() + " does not match the index " + index_path);
  postings_ = std::move(pf);
#if defined(__GLIBC__)
  // Loading staged the file and the head graph in large temporary buffers, now freed; give
  // their pages back so that what stays resident is the index itself.
  ::malloc_trim(0);
#endif
}

}  // namespace vidx::spann
