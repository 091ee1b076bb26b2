// SPANN's sections in the index file (the heads' own index file embedded whole, as the head
// index's to_bytes() writes it; the codec's parameters, build figures, the posting file's path
// and identity), and finding its posting file when loading.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "live_state.hpp"
#include "write_generation.hpp"
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
// Written by this version on: the head vectors (adds after the build need them), and once the
// index lives (adds/removes after the build) its directory, page checksums and stale ids.
constexpr uint32_t kHeadVectorSection = io::fourcc("HV16");  // float16
constexpr uint32_t kLiveSection = io::fourcc("SPLV");
// 2 adds the write generation (write_generation.hpp; version 1 files read as generation 0),
// 3 the strays (live_strays.cpp) and the typical reach they are judged by.
constexpr uint32_t kLiveVersion = 3;

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
  // The bytes name the posting file by its path: where another build has since put a new file
  // there, they would load against that one and fail (and the lists in the file this index has
  // open, renamed over, would be gone with the index).
  refuse_if_posting_file_replaced("a save would name the other index's lists");
  posting_named_ = true;  // these bytes, once kept, name the posting file: a rebuild must not replace it
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
  out.add_section_view(kHeadVectorSection, head_halves_.data(), head_halves_.size() * sizeof(uint16_t));
  if (live_) write_live_section(out);
}

// The living directory. The posting pages it names are made durable first, so the index file
// that replaces the old one never refers to pages that a crash could lose.
void SpannIndex::write_live_section(io::IndexFileWriter& out) const {
  Live& live = *live_;
  // A forked child's copy of writes its parent has not saved names pages the parent goes on
  // reusing (those only its unsaved state used, which no save of its own names): a save of them
  // here would be the newest, stamped, and soon fail its checksums.
  if (live.changed && live.writer.is_open() && live.writer_process != io::current_process_id())
    throw IoError("this SPANN index holds writes its parent process (it was forked from it) has not saved, whose "
                  "pages that process may still reuse: a forked process may search it but not save or copy it "
                  "(save it in the parent, then load the saved files in the child)");
  const uint64_t end = live.pages.end();
  if (live.writer.is_open()) {
    // A list write refused part-way (a full disk) may have left the file short of the pages
    // handed out since; the directory below names them all.
    if (live.writer.size() < end) live.writer.resize(end);
    live.writer.flush();
  }
  const io::PostingLayout& layout = postings_->layout();
  io::ByteWriter w;
  w.u32(kLiveVersion);
  w.u64(count_);
  w.u64(end);
  w.u64(layout.lists.size());
  for (const io::PostingList& l : layout.lists) {
    w.u64(l.offset);
    w.u32(l.count);
    w.u32(l.pages);
    w.u64(l.tail_base);
  }
  std::vector<uint32_t> crc = postings_->page_crcs();
  crc.resize(static_cast<size_t>((end - layout.data_offset) / io::kPageSize), 0);
  w.u64(crc.size());
  for (uint32_t c : crc) w.u32(c);
  w.u64(live.liveness.size());
  live.liveness.table().for_each([&](int64_t id, uint32_t v) {
    w.i64(id);
    w.u32(v);
  });
  w.i64(live.next_id);
  for (uint64_t v : {live.splits, live.rewrites, live.sweeps}) w.u64(v);
  // A state that wrote since its last save is a new generation, stamped once its file is in place.
  live.pending_generation =
      live.changed ? std::max(live.generation, read_write_generation(*postings_)) + 1 : 0;
  w.u64(live.changed ? live.pending_generation : live.generation);
  w.f32(live.typical_reach);
  w.u64(live.strays.ids.size());
  for (size_t i = 0; i < live.strays.ids.size(); ++i) {
    w.i64(live.strays.ids[i]);
    w.f32(live.strays.reach[i]);
  }
  for (float v : live.strays.vectors) w.f32(v);
  out.add_section(kLiveSection, w.take());
}

void SpannIndex::snapshot_taken(bool in_file) const {
  if (!live_) return;
  Live& live = *live_;
  // The pages this state uses are kept from now on. Those only the previous save used are
  // given back after a save to a file, not after to_bytes (whose bytes may be thrown away: that
  // file would then name pages later lists were written into), and not before the file is in
  // place (a save that failed must leave the previous one whole).
  if (in_file) live.pages.commit_saved();
  else live.pages.keep_used();
  if (!live.pending_generation) return;
  // The file now in place carries the new generation whether or not its stamp below can be
  // written: the next save must take a higher one, or an older save would pass for it.
  const uint64_t generation = live.pending_generation;
  live.generation = generation;
  live.pending_generation = 0;
  live.changed = false;
  try {
    // A state with writes since its last save opened the file for them (live_lists.cpp).
    if (!live.writer.is_open()) throw IoError("the posting file is not open for writing");
    write_write_generation(*postings_, live.writer, generation);
  } catch (const IoError& e) {
    throw IoError(std::string(in_file ? "the index file was saved" : "the index bytes were made") +
                  ", but its write-generation stamp was not written (" +
                  e.what() + "); until a later save writes it, an older save of this index is not refused writes");
  }
}

void SpannIndex::read_live_section(const io::IndexFileReader& in) {
  io::ByteReader r = in.reader(kLiveSection);
  const uint32_t version = r.u32();
  if (version < 1 || version > kLiveVersion)
    throw FileFormatError(in.path() + ": unsupported SPANN living section version " + std::to_string(version));
  auto live = std::make_unique<Live>();
  count_ = r.u64();
  live->loaded_end = r.u64();
  const uint64_t lists = r.u64();
  if (lists != head_->size() || head_halves_.size() != head_->size() * dim()) throw FileFormatError(in.path() + ": the living directory does not match the heads");
  live->loaded_lists.resize(static_cast<size_t>(lists));
  for (io::PostingList& l : live->loaded_lists) {
    l.offset = r.u64();
    l.count = r.u32();
    l.pages = r.u32();
    l.tail_base = r.u64();
  }
  const uint64_t pages = r.u64();
  if (pages > r.remaining() / 4) throw FileFormatError(in.path() + ": the living directory is truncated");
  live->loaded_crc.resize(static_cast<size_t>(pages));
  for (uint32_t& c : live->loaded_crc) c = r.u32();
  const uint64_t stale = r.u64();
  if (stale > r.remaining() / 12) throw FileFormatError(in.path() + ": the stale id table is truncated");
  IdTable versions;
  for (uint64_t i = 0; i < stale; ++i) {
    const int64_t id = r.i64();
    versions.set(id, r.u32());
  }
  live->liveness.assign(std::move(versions));
  live->next_id = r.i64();
  for (uint64_t* v : {&live->splits, &live->rewrites, &live->sweeps}) *v = r.u64();
  if (version >= 2) live->generation = r.u64();
  if (version >= 3) {
    live->typical_reach = r.f32();
    const uint64_t strays = r.u64();
    if (strays > r.remaining() / (12 + 4 * uint64_t(dim()))) throw FileFormatError(in.path() + ": the stray rows are truncated");
    Strays& s = live->strays;
    s.ids.resize(static_cast<size_t>(strays));
    s.reach.resize(static_cast<size_t>(strays));
    for (size_t i = 0; i < s.ids.size(); ++i) {
      s.ids[i] = r.i64();
      s.reach[i] = r.f32();
    }
    s.vectors.resize(s.ids.size() * dim());
    for (float& v : s.vectors) v = r.f32();
  }
  r.expect_end();
  live->limit = std::max<size_t>(16, build_stats_.posting_limit);
  live->loaded = true;
  live_ = std::move(live);
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
  learning_.learnt_from = b.sample;  // files do not say whether later rebuilds kept the codec
  count_ = b.vectors;
  head_halves_.clear();
  if (in.has(kHeadVectorSection)) {
    const io::Span hv = in.section(kHeadVectorSection);
    if (hv.size != heads * dim() * sizeof(uint16_t))
      throw FileFormatError(in.path() + ": the head vectors do not match the heads; the file is corrupted");
    head_halves_.resize(heads * dim());
    std::memcpy(head_halves_.data(), hv.data, hv.size);
  }
  live_.reset();
  if (in.has(kLiveSection)) read_live_section(in);
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
  if (live_) {
    pf->install_live(std::move(live_->loaded_lists), live_->loaded_end, std::move(live_->loaded_crc));
    live_->loaded_lists = {};
    live_->loaded_crc = {};
  }
  if (pf->lists().size() != head_->size() || (!live_ && pf->header().vector_count != count_) ||
      pf->header().dim != dim() || pf->header().codec != codec_->name())
    throw FileFormatError("posting file " + pf->path() + " does not match the index " + index_path);
  postings_ = std::move(pf);
  posting_named_ = true;  // the file loaded from names it
  if (live_) init_live(*live_);
  if (load.verify) verify_postings();
#if defined(__GLIBC__)
  // Loading staged the file and the head graph in large temporary buffers, now freed; give
  // their pages back so that what stays resident is the index itself.
  ::malloc_trim(0);
#endif
}

// Searches check a posting page as they read it; vidx.verify (load with verify) reads every
// page the loaded state names once: the build's region, which writes never change (they copy
// a list into free pages past it), and each list a write moved past it, entries and tails.
// Free pages past the build's region are not checked: a writer killed before its save may have
// left anything there.
void SpannIndex::verify_postings() const {
  const io::PostingReader& p = *postings_;
  io::PageBuffer buffer;
  // which < 0: name each page by its number (the build's region), else list `which`.
  const auto check = [&](uint64_t from, uint64_t pages, int64_t which) {
    constexpr uint64_t kPage = io::kPageSize, kChunkPages = 256;  // 1 MiB a read
    for (uint64_t done = 0; done < pages; done += kChunkPages) {
      const size_t n = static_cast<size_t>(std::min(kChunkPages, pages - done));
      uint8_t* bytes = buffer.reserve(n * kPage);
      const uint64_t at = from + done * kPage;
      p.file().read_exact_at(at, bytes, n * kPage);
      for (size_t j = 0; j < n; ++j)
        p.verify_pages(at + j * kPage, bytes + j * kPage, 1, which < 0 ? "posting page" : "posting list",
                       which < 0 ? static_cast<size_t>((at + j * kPage) / kPage) : static_cast<size_t>(which));
    }
  };
  const uint64_t begin = p.layout().data_offset, built = p.built_end();
  check(begin, (built - begin) / io::kPageSize, -1);
  const size_t T = p.layout().tail_bytes;
  for (size_t i = 0; i < p.lists().size(); ++i) {
    const io::PostingList& l = p.lists()[i];
    if (!l.count || l.offset < built) continue;
    try {
      check(l.first_page_offset(), run_pages(l, T), static_cast<int64_t>(i));
    } catch (const FileFormatError&) {
      rethrow_read_failure();
    }
  }
}

void SpannIndex::rethrow_read_failure() const {
  try {
    throw;
  } catch (const FileFormatError& e) {
    uint64_t generation = 0;
    {
      std::lock_guard<std::mutex> guard(live_mutex_);
      if (!live_) throw;  // never written: its lists are all in the build's region, which writes never change
      generation = live_->generation;
    }
    uint64_t stamped = 0;
    try {
      stamped = read_write_generation(*postings_);
    } catch (const std::exception&) {
      throw e;
    }
    if (stamped <= generation) throw;
    std::string what = e.what();
    const std::string damaged = " is damaged: checksum mismatch; the posting file is corrupted";
    const size_t at = what.find(damaged);
    if (at != std::string::npos) what.replace(at, damaged.size(), " fails its checksum");
    throw FileFormatError(what + ", but is not damaged: this state is older than its posting file (a state saved " +
                          "after it, generation " + std::to_string(stamped) + ", this one " + std::to_string(generation) +
                          ", was written to since and reused its pages); load the newest save");
  }
}

}  // namespace vidx::spann
