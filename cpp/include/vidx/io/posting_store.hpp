// A posting store: many lists of opaque fixed-size codes in one file, read as whole 4 KiB
// pages from page-aligned offsets (O_DIRECT-friendly), every page checksummed. The lists hold
// entries [i64 id | head code]; a codec with a second level (LVQ residuals, binary's LVQ-8
// codes) stores each entry's tail in a separate region, read only for the entries a search
// re-ranks. SPANN keeps its postings here; a disk graph could keep its records the same way.
//
// Layout, format version 3 (little-endian):
//
//   page 0      header: magic 89 'V' 'S' 'P' 'N' 0D 0A 1A, then (ByteWriter fields) u32 version,
//               u32 page size, u32 dim, u32 metric, str codec name, u32 entry bytes, u32 tail
//               bytes, u64 list count, vector count, entry count, directory offset/bytes, crc
//               table offset/bytes, data offset, tail offset, file size, build id, u32 crc32c
//               of the directory pages, u32 crc32c of the crc table pages; zeros up to byte
//               4092, which holds the crc32c of bytes [0, 4092) read with the two generation
//               slots as zeros. The slots, at bytes 2048 and 2560 (each alone in its 512-byte
//               sector), hold the write generation of the index states saved over the file
//               (u64 build id, u64 generation, u32 crc32c of those 16 bytes; all zero until
//               stamped): a living index writes them in place, in turn, after the build.
//               Version 2 is the same without the slots (its stamp lived in "<file>.gen").
//   directory   from page 1, one 24-byte record per list (u64 offset of its first entry, u32
//               entries, u32 pages to read, u64 index of its first tail), zero-padded to a page.
//   crc table   a u32 crc32c per page of the data and tail regions, zero-padded to a page.
//   data        the lists. A list of a page or more starts so that its last byte ends a page
//               (it costs the minimum ceil(bytes / 4096) pages); shorter lists are packed into
//               free page space without crossing a page boundary.
//   tails       from a page boundary: tail_bytes per entry, list after list in list order
//               (list i's entry j at first_tail(i) + j), zero-padded to a page.
// Every byte is covered: page 0 by its checksum, the directory and crc table by theirs (pages
// whole, padding included), data and tail pages by the crc table.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vidx/common/metric.hpp"
#include "vidx/io/atomic_file.hpp"
#include "vidx/io/positional_io.hpp"

namespace vidx::io {

constexpr size_t kPageSize = 4096;
constexpr uint32_t kPostingFormatVersion = 3;

inline uint64_t round_up_page(uint64_t x) { return (x + kPageSize - 1) / kPageSize * kPageSize; }

struct PostingList {
  uint64_t offset = 0;      // file offset of the first entry
  uint32_t count = 0;       // entries
  uint32_t pages = 0;       // pages to read from first_page_offset()
  uint64_t first_tail = 0;  // index of its first entry's tail in the tail region
  uint64_t tail_base = 0;   // file offset of its first entry's tail (lists rewritten by a
                            // living index keep their tails after their own pages)
  uint64_t first_page_offset() const { return offset / kPageSize * kPageSize; }
  uint32_t offset_in_page() const { return static_cast<uint32_t>(offset % kPageSize); }
};

// Where everything goes in a posting file.
struct PostingLayout {
  size_t entry_bytes = 0;  // 8-byte id + head code, rounded up to 4
  size_t tail_bytes = 0;   // 0: the codes have no tail
  std::vector<PostingList> lists;
  uint64_t entry_count = 0;
  uint64_t directory_offset = kPageSize;
  uint64_t directory_bytes = 0;
  uint64_t crc_offset = 0;
  uint64_t crc_bytes = 0;
  uint64_t data_offset = 0;
  uint64_t tail_offset = 0;
  uint64_t file_size = 0;

  uint64_t tail_at(const PostingList& l, uint32_t entry) const { return l.tail_base + uint64_t(entry) * tail_bytes; }
  size_t checked_pages() const { return static_cast<size_t>((file_size - data_offset) / kPageSize); }
};

// A new posting file may replace what `path` names: nothing, an empty file, or a posting file
// no open index is writing (a script building again where it built before). IoError for any
// other file (the user's data named by mistake would be lost to the rename) and for a posting
// file another index writes (its lists since its build live only there).
void check_replaceable_by_postings(const std::string& path);

// Lays out lists of the given lengths.
PostingLayout plan_postings(const std::vector<uint32_t>& counts, size_t entry_bytes, size_t tail_bytes);

// What the header says besides the layout.
struct PostingHeader {
  uint32_t dim = 0;
  Metric metric = Metric::L2;
  std::string codec;  // the codec name; its parameters live with the index
  uint64_t vector_count = 0;
  uint64_t build_id = 0;
};

// Writes a posting file through an AtomicFile (a temporary file beside `path`, see
// atomic_file.hpp); commit() makes it durable and renames it into place. Destroying an
// uncommitted writer removes the temporary file.
class PostingWriter {
 public:
  PostingWriter(const std::string& path, PostingLayout layout);
  PostingWriter(const PostingWriter&) = delete;
  PostingWriter& operator=(const PostingWriter&) = delete;

  const PostingLayout& layout() const { return layout_; }
  // Writes whole pages of the data and tail regions: offset page-aligned, n a multiple of
  // the page size; records their checksums.
  void write_pages(uint64_t offset, const uint8_t* data, size_t n);
  // Writes header, directory and crc table, then commits the file (fsync, rename, folder fsync),
  // unless what the path names now may not be replaced (check_replaceable_by_postings).
  void commit(const PostingHeader& header);

 private:
  AtomicFile file_;
  PostingLayout layout_;
  std::vector<uint32_t> page_crc_;
};

// An open posting file with its verified header, directory and crc table. Reading pages is
// left to the caller (file(), possibly O_DIRECT); verify_pages checks what was read.
class PostingReader {
 public:
  // direct_io: open with O_DIRECT; where the filesystem refuses it the file is opened
  // buffered and direct_io() says false.
  // Errors: FileNotFound, IoError, FileFormatError (foreign, truncated, corrupted header,
  // directory or crc table, an implausible directory record).
  PostingReader(const std::string& path, bool direct_io);
  PostingReader(const PostingReader&) = delete;
  PostingReader& operator=(const PostingReader&) = delete;

  const PostingHeader& header() const { return header_; }
  const PostingLayout& layout() const { return layout_; }
  const std::vector<PostingList>& lists() const { return layout_.lists; }
  const std::string& path() const { return path_; }
  // The open file was renamed to `path` (a SPANN rebuild writes beside the file it replaces).
  void moved_to(const std::string& path) { path_ = path; }
  // A living index (SPANN add/remove after the build) rewrites lists into pages past the
  // build's end, never over pages a saved directory refers to, and keeps their directory and
  // checksums in its own index file. install_live replaces the build's directory with that;
  // FileFormatError when a list points outside [data offset, end) or the file is shorter.
  void install_live(std::vector<PostingList> lists, uint64_t end, std::vector<uint32_t> page_crc);
  // The living writer's updates: list i (i == lists().size() appends one), page checksums.
  void set_list(size_t i, const PostingList& list);
  void set_page_crc(uint64_t offset, uint32_t crc);
  const std::vector<uint32_t>& page_crcs() const { return page_crc_; }
  // The build's end of file (the header's size); pages past it belong to the living writer.
  uint64_t built_end() const { return layout_.file_size; }

  // Opened for direct I/O when direct_io() is true: reads must then be page-aligned.
  const File& file() const { return file_; }
  bool direct_io() const { return file_.direct(); }
  uint32_t header_crc() const { return header_crc_; }
  uint32_t format_version() const { return version_; }

  // The write generation stamped in the file (format 3 and later; see the layout above): the
  // highest of its two slots, read from the disk again (another index may have stamped it
  // since this one opened it); 0 where neither holds one. A slot a kill tore mid-stamp fails
  // its checksum and is passed over: the other one holds the generation before.
  bool stamps_generation() const { return version_ >= 3; }
  uint64_t stamped_generation() const;
  // Writes `generation` into its slot through `writer` (this file opened for writing) and makes
  // it durable. The slot written is the one the previous generation did not use, so a torn write
  // leaves that one whole.
  void stamp_generation(File& writer, uint64_t generation) const;
  size_t largest_list_pages() const { return largest_pages_; }

  // FileFormatError "<what> <which> in posting file <path> is damaged" unless the `pages`
  // pages read from the page-aligned `offset` match their checksums.
  void verify_pages(uint64_t offset, const uint8_t* bytes, size_t pages, const char* what, size_t which) const;

  size_t memory_usage() const;

 private:
  void read_header(const uint8_t* page, uint64_t size);
  void read_tables();

  std::string path_;
  File file_;
  PostingHeader header_;
  PostingLayout layout_;
  uint32_t header_crc_ = 0;
  uint32_t version_ = 0;
  uint32_t directory_crc_ = 0;
  uint32_t table_crc_ = 0;
  size_t largest_pages_ = 0;
  std::vector<uint32_t> page_crc_;
};

// A page-aligned buffer for O_DIRECT reads.
class PageBuffer {
 public:
  PageBuffer() = default;
  ~PageBuffer();
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;
  // At least `bytes` (page-rounded), keeping nothing of what it held.
  uint8_t* reserve(size_t bytes);
  uint8_t* data() const { return p_; }
  size_t size() const { return size_; }

 private:
  uint8_t* p_ = nullptr;
  size_t size_ = 0;
};

}  // namespace vidx::io
