#include "vidx/io/posting_store.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <new>
#include <stdexcept>

#include "vidx/common/aligned_buffer.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/crc32c.hpp"

namespace vidx::io {
namespace {

constexpr uint8_t kMagic[8] = {0x89, 'V', 'S', 'P', 'N', '\r', '\n', 0x1A};
constexpr size_t kRecordBytes = 24;
constexpr size_t kHeaderCrcAt = kPageSize - 4;
constexpr uint32_t kOldestReadableVersion = 2;
// Format 3's write-generation slots in page 0 (see the layout in posting_store.hpp).
constexpr uint64_t kGenerationSlotAt[2] = {2048, 2560};
constexpr size_t kGenerationSlotBytes = 8 + 8 + 4;  // build id, generation, crc32c of the two

// The header's checksum: bytes [0, kHeaderCrcAt) of page 0, format 3's generation slots read as
// zeros (they change in place after the build; the header they sit in does not).
uint32_t header_checksum(const uint8_t* page, uint32_t version) {
  if (version < 3) return crc32c(page, kHeaderCrcAt);
  uint8_t copy[kHeaderCrcAt];
  std::memcpy(copy, page, kHeaderCrcAt);
  for (uint64_t at : kGenerationSlotAt) std::memset(copy + at, 0, kGenerationSlotBytes);
  return crc32c(copy, kHeaderCrcAt);
}

// Places lists of a page or more tail-first at page starts, then packs the short ones into
// free page space (tightest fit, longest first). Returns the end of the data.
uint64_t place_lists(const std::vector<uint32_t>& counts, size_t entry_bytes, uint64_t pos,
                     std::vector<PostingList>& lists) {
  std::multimap<uint32_t, std::pair<uint64_t, uint32_t>> open;  // free bytes -> (page, used)
  std::vector<size_t> small;
  for (size_t i = 0; i < counts.size(); ++i) {
    const uint64_t bytes = uint64_t(counts[i]) * entry_bytes;
    if (bytes == 0) continue;
    if (bytes < kPageSize) {
      small.push_back(i);
      continue;
    }
    const uint64_t full = bytes / kPageSize;
    const uint32_t rest = static_cast<uint32_t>(bytes % kPageSize);
    lists[i].offset = rest ? pos + (kPageSize - rest) : pos;
    lists[i].pages = static_cast<uint32_t>(full + (rest ? 1 : 0));
    if (rest) open.emplace(static_cast<uint32_t>(kPageSize - rest), std::make_pair(pos, 0u));
    pos += uint64_t(lists[i].pages) * kPageSize;
  }
  std::stable_sort(small.begin(), small.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  for (size_t i : small) {
    const uint32_t bytes = static_cast<uint32_t>(uint64_t(counts[i]) * entry_bytes);
    auto it = open.lower_bound(bytes);
    uint64_t page = pos;
    uint32_t used = 0, free_bytes = static_cast<uint32_t>(kPageSize);
    if (it == open.end()) {
      pos += kPageSize;
    } else {
      free_bytes = it->first;
      page = it->second.first;
      used = it->second.second;
      open.erase(it);
    }
    lists[i].offset = page + used;
    lists[i].pages = 1;
    if (free_bytes - bytes >= entry_bytes) open.emplace(free_bytes - bytes, std::make_pair(page, used + bytes));
  }
  return pos;
}

std::vector<uint8_t> encode_directory(const PostingLayout& layout) {
  ByteWriter w;
  for (const PostingList& l : layout.lists) {
    w.u64(l.offset);
    w.u32(l.count);
    w.u32(l.pages);
    w.u64(l.first_tail);
  }
  std::vector<uint8_t> out = w.take();
  out.resize(layout.directory_bytes, 0);
  return out;
}

std::vector<uint8_t> encode_table(const std::vector<uint32_t>& crc, size_t bytes) {
  std::vector<uint8_t> out(bytes, 0);
  std::memcpy(out.data(), crc.data(), crc.size() * 4);
  return out;
}

std::vector<uint8_t> encode_header(const PostingHeader& h, const PostingLayout& l, uint32_t dir_crc,
                                   uint32_t table_crc) {
  ByteWriter w;
  w.bytes(kMagic, 8);
  w.u32(kPostingFormatVersion);
  w.u32(static_cast<uint32_t>(kPageSize));
  w.u32(h.dim);
  w.u32(static_cast<uint32_t>(h.metric));
  w.str(h.codec);
  w.u32(static_cast<uint32_t>(l.entry_bytes));
  w.u32(static_cast<uint32_t>(l.tail_bytes));
  for (uint64_t v : {uint64_t(l.lists.size()), h.vector_count, l.entry_count, l.directory_offset, l.directory_bytes,
                     l.crc_offset, l.crc_bytes, l.data_offset, l.tail_offset, l.file_size, h.build_id})
    w.u64(v);
  w.u32(dir_crc);
  w.u32(table_crc);
  std::vector<uint8_t> page = w.take();
  if (page.size() > kGenerationSlotAt[0]) throw InvalidArgument("posting file header too long (codec name?)");
  page.resize(kPageSize, 0);
  const uint32_t crc = header_checksum(page.data(), kPostingFormatVersion);
  std::memcpy(page.data() + kHeaderCrcAt, &crc, 4);
  return page;
}

// Reopens `file` for direct I/O where the system and filesystem allow it; leaves it buffered
// otherwise (direct I/O is an optimisation, never a reason to fail a load).
void try_direct_io(const std::string& path, File& file) {
  try {
    File direct = File::open_existing(path, File::Access::read, true);
    if (!direct.direct()) return;
    // Some filesystems accept the flag and refuse the reads: try one.
    PageBuffer probe;
    if (direct.read_at(0, probe.reserve(kPageSize), kPageSize) == kPageSize) file = std::move(direct);
  } catch (const IoError&) {
  }
}

}  // namespace

void check_replaceable_by_postings(const std::string& path) {
  File existing;
  try {
    existing = File::open_existing(path);
  } catch (const FileNotFound&) {
    return;
  }
  if (existing.size() == 0) return;
  uint8_t magic[sizeof(kMagic)] = {};
  bool posting_file = false;
  try {
    posting_file = existing.read_at(0, magic, sizeof magic) == sizeof magic &&
                   std::memcmp(magic, kMagic, sizeof magic) == 0;
  } catch (const IoError&) {  // unreadable (a folder): not a posting file
  }
  if (!posting_file)
    throw IoError(path + " exists and is not a vidx posting file: a SPANN build replaces only a posting file at "
                  "its path. Give the index another path");
  // An index writing it holds its lock (spann/live_lists.cpp); the probe's own lock goes with it.
  if (!existing.try_lock_exclusive())
    throw IoError("the posting file " + path + " is being written by an open index: a build there would take its "
                  "lists away from it. Close or save that index first, or give this one another path");
}

PostingLayout plan_postings(const std::vector<uint32_t>& counts, size_t entry_bytes, size_t tail_bytes) {
  PostingLayout l;
  l.entry_bytes = entry_bytes;
  l.tail_bytes = tail_bytes;
  l.lists.resize(counts.size());
  for (size_t i = 0; i < counts.size(); ++i) {
    l.lists[i].count = counts[i];
    l.lists[i].first_tail = l.entry_count;
    l.entry_count += counts[i];
  }
  l.directory_bytes = round_up_page(counts.size() * kRecordBytes);
  l.crc_offset = l.directory_offset + l.directory_bytes;
  // The crc table's size depends on the data's, which does not depend on it: place the data
  // at offset 0 first, then shift everything by the table's pages.
  const uint64_t data_bytes = place_lists(counts, entry_bytes, 0, l.lists);
  const uint64_t tail_region = round_up_page(l.entry_count * tail_bytes);
  const uint64_t pages = (data_bytes + tail_region) / kPageSize;
  l.crc_bytes = std::max<uint64_t>(kPageSize, round_up_page(pages * 4));
  l.data_offset = l.crc_offset + l.crc_bytes;
  for (PostingList& list : l.lists)
    if (list.count) list.offset += l.data_offset;
  l.tail_offset = l.data_offset + data_bytes;
  for (PostingList& list : l.lists) list.tail_base = l.tail_offset + list.first_tail * tail_bytes;
  l.file_size = l.tail_offset + tail_region;
  return l;
}

// ---- PostingWriter ----

PostingWriter::PostingWriter(const std::string& path, PostingLayout layout)
    : file_(path), layout_(std::move(layout)), page_crc_(layout_.checked_pages(), 0) {}

void PostingWriter::write_pages(uint64_t offset, const uint8_t* data, size_t n) {
  if (offset % kPageSize || n % kPageSize || offset < layout_.data_offset || offset + n > layout_.file_size)
    throw std::logic_error("vidx::io::PostingWriter: write outside the page-aligned data region");
  const size_t first = static_cast<size_t>((offset - layout_.data_offset) / kPageSize);
  for (size_t p = 0; p < n / kPageSize; ++p) page_crc_[first + p] = crc32c(data + p * kPageSize, kPageSize);
  file_.write_at(offset, data, n);
}

void PostingWriter::commit(const PostingHeader& header) {
  check_replaceable_by_postings(file_.target());  // again: it may have changed during the build
  // Pages never written (a region with no entries) are zeros; their checksums too.
  const std::vector<uint8_t> zero(kPageSize, 0);
  const uint32_t zero_crc = crc32c(zero.data(), kPageSize);
  for (uint32_t& c : page_crc_)
    if (c == 0) c = zero_crc;
  const std::vector<uint8_t> dir = encode_directory(layout_);
  const std::vector<uint8_t> table = encode_table(page_crc_, layout_.crc_bytes);
  const std::vector<uint8_t> page0 =
      encode_header(header, layout_, crc32c(dir.data(), dir.size()), crc32c(table.data(), table.size()));
  file_.write_at(0, page0.data(), page0.size());
  file_.write_at(layout_.directory_offset, dir.data(), dir.size());
  file_.write_at(layout_.crc_offset, table.data(), table.size());
  file_.file().resize(layout_.file_size);
  file_.commit();
}

// ---- PostingReader ----

PostingReader::PostingReader(const std::string& path, bool direct_io) : path_(path) {
  try {
    file_ = File::open_existing(path);
  } catch (const FileNotFound&) {
    throw FileNotFound("no such posting file: " + path);
  }
  const uint64_t size = file_.size();
  std::vector<uint8_t> page(kPageSize, 0);
  const size_t have = file_.read_at(0, page.data(), kPageSize);
  if (std::memcmp(page.data(), kMagic, std::min<size_t>(have, 8)) != 0 || (have == 0 && size > 0))
    throw FileFormatError(path + " is not a vidx SPANN posting file");
  if (have < kPageSize)
    throw FileFormatError("posting file " + path + " is truncated (" + std::to_string(size) + " bytes)");
  read_header(page.data(), size);
  read_tables();
  if (direct_io) try_direct_io(path, file_);
}

void PostingReader::read_header(const uint8_t* page, uint64_t size) {
  uint32_t stored;
  std::memcpy(&stored, page + kHeaderCrcAt, 4);
  std::memcpy(&version_, page + 8, 4);  // checked with the rest below: the checksum depends on it
  header_crc_ = header_checksum(page, version_);
  if (stored != header_crc_)
    throw FileFormatError("posting file " + path_ + ": header checksum mismatch; the file is corrupted");
  ByteReader r(Span{page, kHeaderCrcAt}, "posting file " + path_ + ": header");
  r.take(12);
  if (version_ < kOldestReadableVersion || version_ > kPostingFormatVersion)
    throw FileFormatError("posting file " + path_ + " has format version " + std::to_string(version_) +
                          "; this library reads versions " + std::to_string(kOldestReadableVersion) + " to " +
                          std::to_string(kPostingFormatVersion) + " (rebuild the index)");
  auto bad = [&](const std::string& what) {
    throw FileFormatError("posting file " + path_ + ": " + what + "; the file is corrupted");
  };
  if (r.u32() != kPageSize) bad("unsupported page size");
  header_.dim = r.u32();
  const uint32_t metric = r.u32();
  if (metric > static_cast<uint32_t>(Metric::Cosine)) bad("unknown metric code");
  header_.metric = static_cast<Metric>(metric);
  header_.codec = r.str();
  layout_.entry_bytes = r.u32();
  layout_.tail_bytes = r.u32();
  layout_.lists.resize(static_cast<size_t>(std::min<uint64_t>(r.u64(), uint64_t(1) << 32)));
  header_.vector_count = r.u64();
  layout_.entry_count = r.u64();
  for (uint64_t* v : {&layout_.directory_offset, &layout_.directory_bytes, &layout_.crc_offset, &layout_.crc_bytes,
                      &layout_.data_offset, &layout_.tail_offset, &layout_.file_size, &header_.build_id})
    *v = r.u64();
  directory_crc_ = r.u32();
  table_crc_ = r.u32();
  if (size < layout_.file_size)
    throw FileFormatError("posting file " + path_ + " is truncated: " + std::to_string(size) + " bytes, expected " +
                          std::to_string(layout_.file_size) + " (was it copied or written incompletely?)");
  // Whole pages past the end are a living index's rewritten lists (see install_live).
  if (size > layout_.file_size && (size - layout_.file_size) % kPageSize != 0)
    throw FileFormatError("posting file " + path_ + " has " + std::to_string(size - layout_.file_size) +
                          " bytes more than its header says; the file is corrupted");
  const PostingLayout& l = layout_;
  if (header_.dim == 0 || header_.dim > (1u << 20) || l.entry_bytes < 8 || l.entry_bytes > (size_t(1) << 24) ||
      l.tail_bytes > (size_t(1) << 24) || l.directory_offset != kPageSize ||
      l.directory_bytes != round_up_page(l.lists.size() * kRecordBytes) ||
      l.crc_offset != l.directory_offset + l.directory_bytes || l.data_offset != l.crc_offset + l.crc_bytes ||
      l.tail_offset < l.data_offset || l.file_size < l.tail_offset || l.file_size % kPageSize ||
      l.tail_offset % kPageSize || l.crc_bytes < round_up_page(l.checked_pages() * 4))
    bad("inconsistent header");
}

void PostingReader::read_tables() {
  auto bad = [&](const std::string& what) {
    throw FileFormatError("posting file " + path_ + ": " + what + "; the file is corrupted");
  };
  // read_header checked the file size, so these reads are within the file.
  std::vector<uint8_t> dir(layout_.directory_bytes);
  file_.read_exact_at(layout_.directory_offset, dir.data(), dir.size());
  if (crc32c(dir.data(), dir.size()) != directory_crc_) bad("directory checksum mismatch");
  std::vector<uint8_t> table(layout_.crc_bytes);
  file_.read_exact_at(layout_.crc_offset, table.data(), table.size());
  if (crc32c(table.data(), table.size()) != table_crc_) bad("checksum table mismatch");
  page_crc_.resize(layout_.checked_pages());
  std::memcpy(page_crc_.data(), table.data(), page_crc_.size() * 4);
  ByteReader d(Span{dir.data(), dir.size()}, "posting file " + path_ + ": directory");
  uint64_t entries = 0;
  for (size_t i = 0; i < layout_.lists.size(); ++i) {
    PostingList& l = layout_.lists[i];
    l.offset = d.u64();
    l.count = d.u32();
    l.pages = d.u32();
    l.first_tail = d.u64();
    l.tail_base = layout_.tail_offset + l.first_tail * layout_.tail_bytes;
    const uint64_t bytes = uint64_t(l.count) * layout_.entry_bytes;
    if (l.count && (l.offset < layout_.data_offset || l.offset + bytes > layout_.tail_offset ||
                    l.first_page_offset() + uint64_t(l.pages) * kPageSize > layout_.tail_offset ||
                    l.offset_in_page() + bytes > uint64_t(l.pages) * kPageSize || l.first_tail != entries))
      bad("directory record " + std::to_string(i) + " points outside the data");
    entries += l.count;
    largest_pages_ = std::max<size_t>(largest_pages_, l.pages);
  }
  if (entries != layout_.entry_count) bad("the directory's entries do not add up to the header's count");
  if (layout_.tail_offset + round_up_page(entries * layout_.tail_bytes) != layout_.file_size)
    bad("the tail region does not match the entry count");
}

uint64_t PostingReader::stamped_generation() const {
  if (!stamps_generation()) return 0;
  PageBuffer page;  // whole and aligned: the file may be open for direct I/O
  file_.read_exact_at(0, page.reserve(kPageSize), kPageSize);
  uint64_t newest = 0;
  for (uint64_t at : kGenerationSlotAt) {
    ByteReader r(Span{page.data() + at, kGenerationSlotBytes}, "posting file " + path_ + ": generation slot");
    const uint64_t build = r.u64(), generation = r.u64();
    if (r.u32() == crc32c(page.data() + at, 16) && build == header_.build_id) newest = std::max(newest, generation);
  }
  return newest;
}

void PostingReader::stamp_generation(File& writer, uint64_t generation) const {
  if (!stamps_generation()) throw InvalidArgument("posting file " + path_ + " (format 2) has no generation slots");
  ByteWriter w;
  w.u64(header_.build_id);
  w.u64(generation);
  w.u32(crc32c(w.data().data(), w.data().size()));
  writer.write_at(kGenerationSlotAt[generation % 2], w.data().data(), w.data().size());
  writer.flush();
}

void PostingReader::verify_pages(uint64_t offset, const uint8_t* bytes, size_t pages, const char* what,
                                 size_t which) const {
  const size_t first = static_cast<size_t>((offset - layout_.data_offset) / kPageSize);
  for (size_t p = 0; p < pages; ++p)
    if (crc32c(bytes + p * kPageSize, kPageSize) != page_crc_[first + p])
      throw FileFormatError(std::string(what) + " " + std::to_string(which) + " of " + path_ + " (page at byte " +
                            std::to_string(offset + p * kPageSize) +
                            ") is damaged: checksum mismatch; the posting file is corrupted");
}

void PostingReader::install_live(std::vector<PostingList> lists, uint64_t end, std::vector<uint32_t> page_crc) {
  auto bad = [&](const std::string& what) {
    throw FileFormatError("posting file " + path_ + ": " + what + " (living directory of the index file)");
  };
  if (end < layout_.file_size || end % kPageSize) bad("implausible end of data");
  if (file_.size() < end)
    bad("the file holds " + std::to_string(file_.size()) + " bytes, the index refers to " + std::to_string(end));
  if (page_crc.size() != (end - layout_.data_offset) / kPageSize) bad("wrong number of page checksums");
  size_t largest = 0;
  for (size_t i = 0; i < lists.size(); ++i) {
    const PostingList& l = lists[i];
    const uint64_t bytes = uint64_t(l.count) * layout_.entry_bytes;
    const uint64_t tail_end = l.tail_base + uint64_t(l.count) * layout_.tail_bytes;
    if (l.count && (l.offset < layout_.data_offset || l.first_page_offset() + uint64_t(l.pages) * kPageSize > end ||
                    l.offset_in_page() + bytes > uint64_t(l.pages) * kPageSize ||
                    (layout_.tail_bytes && (l.tail_base < layout_.data_offset || tail_end > end))))
      bad("list " + std::to_string(i) + " points outside the data");
    largest = std::max<size_t>(largest, l.pages);
  }
  layout_.lists = std::move(lists);
  page_crc_ = std::move(page_crc);
  largest_pages_ = largest;
}

void PostingReader::set_list(size_t i, const PostingList& list) {
  if (i == layout_.lists.size()) layout_.lists.push_back(list);
  layout_.lists.at(i) = list;
  largest_pages_ = std::max<size_t>(largest_pages_, list.pages);
}

void PostingReader::set_page_crc(uint64_t offset, uint32_t crc) {
  const size_t page = static_cast<size_t>((offset - layout_.data_offset) / kPageSize);
  if (page >= page_crc_.size()) page_crc_.resize(page + 1, 0);
  page_crc_[page] = crc;
}

size_t PostingReader::memory_usage() const {
  return sizeof(*this) + layout_.lists.capacity() * sizeof(PostingList) + page_crc_.capacity() * 4 +
         path_.capacity() + header_.codec.capacity();
}

// ---- PageBuffer ----

PageBuffer::~PageBuffer() { aligned_free(p_); }

uint8_t* PageBuffer::reserve(size_t bytes) {
  if (bytes > size_) {
    aligned_free(p_);
    size_ = round_up_page(bytes);
    p_ = static_cast<uint8_t*>(aligned_allocate(kPageSize, size_));
    if (!p_) {
      size_ = 0;
      throw std::bad_alloc();
    }
  }
  return p_;
}

}  // namespace vidx::io
