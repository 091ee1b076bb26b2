// The SPANN posting file: every posting list of an index in one file, laid out so that a
// list is read as whole 4 KiB pages from a page-aligned offset (O_DIRECT-friendly).
//
// Layout, format version 1 (little-endian):
//
//   page 0        header (kHeaderBytes used, rest zero)
//     0   8  magic 89 'V' 'S' 'P' 'N' 0D 0A 1A
//     8   4  u32 format version (1)        12  4  u32 page size (4096)
//     16  4  u32 dim                       20  4  u32 metric (vidx::Metric)
//     24  4  u32 codec (0 float32, 1 float16, 2 LVQ-8)
//                                          28  4  u32 entry bytes (8 + code bytes, rounded up to 4)
//     32  8  u64 list count                40  8  u64 vector count (distinct vectors)
//     48  8  u64 entry count (with replicas)
//     56  8  u64 directory offset (4096)   64  8  u64 directory bytes (24 per list)
//     72  8  u64 data offset (page aligned, after the directory)
//     80  8  u64 file size (a multiple of the page size)
//     88  8  u64 build id (random; the index file that points here records it)
//     96  4  u32 crc32c of the directory   100 4  u32 crc32c of header bytes [0, 100)
//   directory     one 24-byte record per list, padded with zeros to a page:
//                 u64 byte offset of the list's first entry, u32 entries, u32 pages to read,
//                 u32 crc32c of the list's bytes (entries * entry bytes), u32 zero
//   data          the lists. An entry is an i64 user id then the vector's code (float32 * dim,
//                 float16 * dim or an LVQ-8 code; its parameters, the LVQ mean, are saved in the
//                 index file), zero-padded to a multiple of 4 bytes. A
//                 list is contiguous; reading `pages` pages from the page holding its first
//                 byte covers it. A list of a page or more is placed with its tail (bytes mod
//                 4096) at the end of a page and its full pages right after it, so it costs
//                 the minimum ceil(bytes / 4096) pages; lists shorter than a page are packed
//                 into free page space without crossing a page boundary.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "vidx/common/metric.hpp"

namespace vidx::spann {

constexpr size_t kPageSize = 4096;
constexpr size_t kPostingHeaderBytes = 104;
constexpr size_t kDirectoryRecordBytes = 24;
constexpr uint32_t kPostingFormatVersion = 1;

// The entry codecs a posting file may use (the header's codec field).
// "f32" -> 0, "f16" -> 1, "lvq8" -> 2; InvalidArgument naming the choices for anything else.
uint32_t posting_codec_id(const std::string& name);
// The name of a codec id; empty for an unknown id.
std::string posting_codec_name(uint32_t id);
// Bytes of one entry (id and code, padded to 4) for a known codec id; 0 for an unknown one.
size_t posting_entry_bytes(uint32_t codec, size_t dim);

struct PostingList {
  uint64_t offset = 0;  // file offset of the first entry
  uint32_t count = 0;   // entries
  uint32_t pages = 0;   // pages to read starting at offset / kPageSize * kPageSize
  uint32_t crc = 0;     // crc32c of count * entry_bytes bytes at offset
  uint64_t first_page_offset() const { return offset / kPageSize * kPageSize; }
  uint32_t offset_in_page() const { return static_cast<uint32_t>(offset % kPageSize); }
};

struct PostingHeader {
  uint32_t dim = 0;
  Metric metric = Metric::L2;
  uint32_t codec = 0;
  uint32_t entry_bytes = 0;
  uint64_t list_count = 0;
  uint64_t vector_count = 0;
  uint64_t entry_count = 0;
  uint64_t directory_offset = kPageSize;
  uint64_t directory_bytes = 0;
  uint64_t data_offset = 0;
  uint64_t file_size = 0;
  uint64_t build_id = 0;
  uint32_t directory_crc = 0;
};

inline uint64_t round_up_page(uint64_t x) { return (x + kPageSize - 1) / kPageSize * kPageSize; }

// Places lists of the given entry counts; returns the lists (crc unset) and sets *data_end
// (the file size). Empty lists get offset 0 and 0 pages.
std::vector<PostingList> layout_lists(const std::vector<uint32_t>& counts, size_t entry_bytes,
                                      uint64_t data_offset, uint64_t* data_end);

// crc32c (same values as vidx::io::crc32c), with the SSE4.2 instruction where the CPU has it.
uint32_t fast_crc32c(const void* data, size_t n, uint32_t crc = 0);

// Writes a posting file to a temporary name beside `path`; commit() makes it durable and
// renames it into place. Destroying an uncommitted writer removes the temporary file.
class PostingFileWriter {
 public:
  explicit PostingFileWriter(const std::string& path);
  ~PostingFileWriter();
  PostingFileWriter(const PostingFileWriter&) = delete;
  PostingFileWriter& operator=(const PostingFileWriter&) = delete;

  void write_at(uint64_t offset, const void* data, size_t n);
  // Writes header and directory (computing the directory checksum), fsyncs, renames.
  void commit(PostingHeader header, const std::vector<PostingList>& lists);

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// An open posting file with its verified header and directory. Reading list bytes is left to
// the caller (fd(), possibly opened with O_DIRECT); verify_list checks what was read.
class PostingFile {
 public:
  // direct_io: open with O_DIRECT; when the filesystem refuses it the file is opened
  // buffered and direct_io() says false.
  // Errors: FileNotFound, IoError, FileFormatError (foreign, truncated, corrupted header or
  // directory, an implausible directory entry).
  PostingFile(const std::string& path, bool direct_io);
  ~PostingFile();
  PostingFile(const PostingFile&) = delete;
  PostingFile& operator=(const PostingFile&) = delete;

  const PostingHeader& header() const { return header_; }
  const std::vector<PostingList>& lists() const { return lists_; }
  const std::string& path() const { return path_; }
  int fd() const { return fd_; }
  bool direct_io() const { return direct_; }
  uint32_t header_crc() const { return header_crc_; }

  // FileFormatError naming list `i` and the file when `bytes` (the list's entries) do not
  // match its checksum.
  void verify_list(size_t i, const uint8_t* bytes) const;

  size_t memory_usage() const { return sizeof(*this) + lists_.capacity() * sizeof(PostingList) + path_.capacity(); }

 private:
  std::string path_;
  int fd_ = -1;
  bool direct_ = false;
  PostingHeader header_;
  uint32_t header_crc_ = 0;
  std::vector<PostingList> lists_;
};

}  // namespace vidx::spann
