// The vidx index file: one file per index, a checksummed header with a table of tagged
// sections, each section's payload checksummed and 64-byte aligned.
//
// Layout of format version 1 (all integers little-endian; offsets in bytes from file start):
//
//   offset      size    field
//   0           8       magic 89 56 49 44 58 0D 0A 1A ("\x89VIDX\r\n\x1a")
//   8           4       u32 format_version (1)
//   12          4       u32 header_size H: bytes [0, H) are the header
//   16          4       u32 flags: bits 0-15 "must understand" (a reader refuses a file with a
//                       bit it does not know), bits 16-31 "may ignore"; bit 0 is
//                       kScaledRowsFlag (below), set only by indexes that scale their rows
//   20          8       u64 file_size: the exact length of the file
//   28          4       u32 kind length K (1..255)
//   32          K       kind bytes ("hnsw", "flat", "spann"...), no terminator
//   32+K        4       u32 section_count N (0..65536)
//   36+K        24*N    section table, one entry per section, in file order:
//                         u32 tag (fourcc, e.g. "GRPH"), u32 crc32c of the payload,
//                         u64 payload offset (a multiple of 64, >= H), u64 payload length
//   36+K+24N    4       u32 crc32c of bytes [0, H-4)         (so H = 40 + K + 24N)
//   H ...               payloads in table order, each at a 64-byte aligned offset; every byte
//                       not in the header or a payload is zero; the file ends at file_size
//
// Why this shape:
// - The magic is PNG-style: the high byte catches 7-bit transfers, CR LF and ^Z catch
//   text-mode line-ending conversions, and "VIDX" makes it recognisable in a hex dump.
// - Bytes 0-15 and "crc32c of [0, H-4) stored at H-4" are promised to stay the same in every
//   future version, so a reader checks the header checksum before the version and can tell a
//   corrupted file from a newer one.
// - Every byte of a valid file is covered: the header and payloads by checksums, padding by
//   the must-be-zero rule, the length by file_size. Any truncation or flipped byte is caught.
// - 64-byte aligned payloads let a reader hand out pointers into the file mapped with
//   IndexFileReader::map that are aligned for any SIMD load, so a mapped load copies nothing.
//
// Version 2 is the same container; it marks that kinds may store arrays in their in-memory
// layout (HNSW: level-0 records "REC0" instead of "CODE" + "LNK0") so a mapped file is
// searched in place. Version 1 files are still read; a version 1 library refuses version 2
// files with "upgrade vidx" instead of a missing-section error. Versions 3 and 4 carry more of
// the kinds' arrays in their in-memory layout (kFormatVersion below).
//
// The same bytes can live in memory instead of a file (IndexFileWriter::to_bytes,
// IndexFileReader::from_bytes: pickling, to_bytes/from_bytes), verified the same way.
//
// Section payloads are opaque here: each index kind defines its sections and encodes them,
// metadata with ByteWriter/ByteReader, bulk arrays as raw little-endian arrays.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vidx/common/aligned_buffer.hpp"
#include "vidx/io/byte_stream.hpp"

namespace vidx::io {

class MappedFile;

// The newest format version this library reads. Version 3: HNSW's heads and lists apart
// (HED0/HLAY/LNK0); version 4: flat codes as in memory (CODS/CLAY).
constexpr uint32_t kFormatVersion = 4;
// A file is written as this version unless one of its sections needs a newer one
// (IndexFileWriter::needs_version): a library of an older version still reads every file whose
// sections it knows (an HNSW file written today loads in a version 3 library, a flat one does not).
constexpr uint32_t kBaseWrittenVersion = 3;

// "Must understand" header flags (a reader refuses a file with one it does not know).
// kScaledRowsFlag: the index stores its rows multiplied by a factor (section SCAL, RowScale);
// a library that did not know would report distances and get() values off by that factor.
constexpr uint32_t kScaledRowsFlag = 1u << 0;

// Payload alignment within the file.
constexpr size_t kSectionAlignment = 64;

// A section tag from four characters, stored so that the file shows them in order:
// fourcc("GRPH") is the u32 whose little-endian bytes are 'G' 'R' 'P' 'H'.
constexpr uint32_t fourcc(const char (&s)[5]) {
  return uint32_t(uint8_t(s[0])) | uint32_t(uint8_t(s[1])) << 8 | uint32_t(uint8_t(s[2])) << 16 |
         uint32_t(uint8_t(s[3])) << 24;
}

// The four characters of a tag for messages ("GRPH"); bytes that are not printable ASCII
// appear as \xNN.
std::string tag_name(uint32_t tag);

// What a section kept in place from a mapped file held when it was mapped: its stored checksum
// and length, and the file. A save that writes those bytes again compares them as it goes
// (IndexFileWriter::add_section_view), so damage in the mapped file (never verified, or changed
// since) fails the copy instead of being checksummed anew as valid.
struct SectionCheck {
  uint32_t crc = 0;
  uint64_t length = 0;
  std::string source;
};

// The SectionChecks of the sections a structure keeps in place from a mapped file.
class SectionChecks {
 public:
  // Records section `tag`'s check when `in` is a mapped file.
  void note(const class IndexFileReader& in, uint32_t tag);
  // The check for `tag`, or nullptr (verified, or not kept in place).
  const SectionCheck* find(uint32_t tag) const;

 private:
  std::vector<std::pair<uint32_t, SectionCheck>> checks_;
};

// Collects the sections of one index and writes them as a file, atomically.
class IndexFileWriter {
 public:
  // `kind` names the index type, 1..255 bytes; InvalidArgument otherwise.
  explicit IndexFileWriter(std::string kind);

  // Each add_* appends a section; sections are stored in the order they are added. A tag may
  // appear once (InvalidArgument on a duplicate).

  // The writer keeps `bytes` (moved in, so pass an rvalue to avoid a copy).
  void add_section(uint32_t tag, std::vector<uint8_t> bytes);
  // The caller keeps `data` alive and unchanged until write_atomically returns; nothing is copied.
  // `check`: the bytes come unverified from a mapped file (see SectionCheck); a checksum that
  // differs fails the write with FileFormatError naming that file and section.
  void add_section_view(uint32_t tag, const void* data, size_t size, const SectionCheck* check = nullptr);
  // One section made of several buffers written back to back (e.g. many vectors), no copy.
  // Same lifetime rule as add_section_view.
  void add_section_views(uint32_t tag, std::vector<Span> parts);

  // Writes the file to `path` so that `path` holds either the old file or the complete new
  // one, never a partial file: write to "<path>.vidx-tmp-<pid>-<random>" in the same directory (see atomic_file.hpp),
  // fsync it, rename it over `path`, fsync the directory. On failure the temporary file is
  // removed, an existing file at `path` is left as it was, and IoError says which path and
  // operation failed and why. Payloads are streamed in chunks, never copied whole.
  // (If only the final directory fsync fails, the rename has already happened: the new file
  // is in place but may not survive a power loss; that is reported as an IoError too.)
  void write_atomically(const std::string& path) const;
  // The same file as bytes in memory.
  std::vector<uint8_t> to_bytes() const;
  // The same file written into the memory `allocate(size)` returns (size bytes, every one of
  // them written): a caller's own buffer (a Python bytes object), so the file is not held twice.
  void write_to(const std::function<uint8_t*(size_t)>& allocate) const;

  const std::string& kind() const { return kind_; }
  // Sets "must understand" header flags (kScaledRowsFlag).
  void set_flags(uint32_t flags) { flags_ |= flags; }
  // Marks that a section needs readers of format `version` or later: the file is written as the
  // newest version so marked (kBaseWrittenVersion when none is).
  void needs_version(uint32_t version) { version_ = version > version_ ? version : version_; }

 private:
  struct Layout {
    size_t header_size = 0;
    std::vector<uint64_t> offsets, lengths;
    uint64_t file_size = 0;
  };
  Layout layout() const;
  // Hands every byte of the file to `write(offset, data, n)`: padding and payloads in file
  // order, then the header (which holds the payloads' checksums) at offset 0.
  void emit(const Layout& layout, const std::function<void(uint64_t, const uint8_t*, size_t)>& write) const;
  struct Section {
    uint32_t tag;
    std::vector<uint8_t> owned;  // payload for add_section
    std::vector<Span> parts;     // payload for add_section_view(s)
    std::optional<SectionCheck> check;
  };
  void check_new_tag(uint32_t tag) const;

  std::string kind_;
  uint32_t flags_ = 0;
  uint32_t version_ = kBaseWrittenVersion;
  std::vector<Section> sections_;
};

// Opens an index file, read section by section, or mapped, and hands out its sections as
// views. Movable, not copyable; views stay valid across moves and as long as the reader (or, for
// a mapped file, backing()) lives.
class IndexFileReader {
 public:
  // Opens the file and verifies its header, section table, length and padding; each payload is
  // read (and its checksum verified) when a structure asks for it: section() reads it into a
  // 64-byte aligned buffer the reader keeps, stream() hands it over in pieces to be copied
  // where it belongs. So a load holds the index once plus the small sections, not also a copy
  // of the whole file (which doubled a load's peak memory).
  // Errors:
  //   FileNotFound     "no such file: <path>"
  //   IoError          the file cannot be opened or read (with the system's reason)
  //   FileFormatError  "<path> is not a vidx index file" (wrong magic); "... truncated ...";
  //                    "... file format version N is newer than this library supports (M);
  //                    upgrade vidx"; a checksum failure naming the header or the section (the
  //                    payload's when it is read).
  static IndexFileReader open(const std::string& path);
  // Index file bytes held in memory, read as open() reads a file (nothing copied whole): `data`
  // must stay alive and unchanged as long as the reader; `name` stands for the path in messages.
  static IndexFileReader from_bytes(const void* data, size_t size, const std::string& name = "index bytes");
  // Maps the file instead of reading it (mapped_file.hpp). Verified at once: the header, the
  // section table and the zero padding; each payload when section() first hands it out, or
  // all of them now with verify_all. in_place() hands out a section unverified: a structure
  // searching a large section in place (codes, level-0 links) need not read all of it first
  // (checksumming a 1 GB file takes seconds and makes every page resident).
  static IndexFileReader map(const std::string& path, bool verify_all);

  IndexFileReader(IndexFileReader&&) noexcept = default;
  IndexFileReader& operator=(IndexFileReader&&) noexcept = default;
  IndexFileReader(const IndexFileReader&) = delete;
  IndexFileReader& operator=(const IndexFileReader&) = delete;

  const std::string& kind() const { return kind_; }
  uint32_t version() const { return version_; }
  uint32_t flags() const { return flags_; }
  const std::string& path() const { return path_; }
  // True for map(): sections are views into the file, which a structure may keep (holding
  // backing()) instead of copying them.
  bool mapped() const { return mapping_ != nullptr; }
  // Owns the bytes the sections point into; whoever keeps views past the reader holds it.
  std::shared_ptr<const void> backing() const { return owner_; }
  // Hints that section `tag` is read at random (a graph): no read-ahead. Mapped files only.
  void advise_random(uint32_t tag) const;

  bool has(uint32_t tag) const { return find(tag) != nullptr; }
  // The payload length of section `tag`; FileFormatError "missing section" as section() says it.
  uint64_t size_of(uint32_t tag) const;
  // Hands the payload of section `tag` to `sink(offset in the payload, bytes, n)` in order, in
  // pieces whose lengths are multiples of `unit` (but for a shorter last one), and verifies its
  // checksum after the last piece: FileFormatError then, and the caller discards what it
  // copied. For a structure that copies a large section into its own layout, so the payload is
  // never held whole besides the copy.
  void stream(uint32_t tag, size_t unit, const std::function<void(uint64_t, const uint8_t*, size_t)>& sink) const;
  // Section `tag` copied as it is to `to`, which holds size_of(tag) bytes (stream() into one array).
  void read_into(uint32_t tag, void* to) const;
  // The payload of section `tag` (64-byte aligned); FileFormatError "missing section 'GRPH'"
  // (with the path) when the file has no such section.
  Span section(uint32_t tag) const;
  // Section `tag` without verifying its checksum (only a mapped file has unverified ones):
  // for a structure that uses it in place. Check verified(tag) before trusting its contents.
  // A file read section by section reads and verifies it, as section() does.
  Span in_place(uint32_t tag) const;
  // Verifies every payload not read yet (a load that read section by section calls it last,
  // so a damaged section no structure reads still fails the load).
  void verify_unread() const;
  // Whether section `tag` has passed its checksum (false for a missing one).
  bool verified(uint32_t tag) const;
  // For a section a structure keeps in place from a mapped file: what a later save must compare
  // it with (verified or not: the file may change while mapped); nullopt for a missing section.
  std::optional<SectionCheck> check_for(uint32_t tag) const;
  // A ByteReader over section `tag` whose errors name the file and the section.
  ByteReader reader(uint32_t tag) const;
  // The tags of all sections, in file order.
  std::vector<uint32_t> tags() const;

 private:
  struct Entry {
    uint32_t tag;
    uint32_t crc;
    uint64_t offset;
    uint64_t length;
    mutable bool verified;
  };
  // Where a reader that reads section by section gets its bytes (index_file.cpp).
  struct Source;

  IndexFileReader() = default;
  const Entry* find(uint32_t tag) const;
  const Entry& require(uint32_t tag) const;
  // Checks the header and table of the n-byte file, and with verify_all every payload.
  void verify(uint64_t n, bool verify_all);
  // The header's bytes (at least the first min(n, header size) of the file): data_, or read.
  const uint8_t* header_bytes(uint64_t n, std::vector<uint8_t>& storage) const;
  // FileFormatError when a byte of [begin, end) is not zero.
  void check_zero_range(uint64_t begin, uint64_t end) const;
  // FileFormatError naming the section when its payload fails its checksum.
  void check_payload(const Entry& e) const;
  void check_crc(const Entry& e, uint32_t crc) const;

  std::string path_;
  std::string kind_;
  uint32_t version_ = 0;
  uint32_t flags_ = 0;
  std::vector<Entry> entries_;
  std::shared_ptr<const void> owner_;    // a MappedFile
  const MappedFile* mapping_ = nullptr;  // owned by owner_ when mapped
  const uint8_t* data_ = nullptr;        // the whole file, when mapped
  std::shared_ptr<const Source> source_;  // otherwise
  // Payloads section() read, by tag: views of them stay valid as long as the reader.
  mutable std::vector<std::pair<uint32_t, std::shared_ptr<const AlignedBuffer>>> read_;
};

}  // namespace vidx::io
