// Writing and verifying vidx index files; the layout is documented in index_file.hpp.
#include "vidx/io/index_file.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "vidx/common/error.hpp"
#include "vidx/io/atomic_file.hpp"
#include "vidx/io/crc32c.hpp"
#include "vidx/io/mapped_file.hpp"
#include "vidx/io/positional_io.hpp"

// Bulk payloads are raw host arrays (floats, ids) and the format defines them as
// little-endian, so a big-endian host would write files no other host can read.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vidx index files store arrays in host byte order, which must be little-endian"
#endif

namespace vidx::io {
namespace {

constexpr uint8_t kMagic[8] = {0x89, 'V', 'I', 'D', 'X', '\r', '\n', 0x1A};

// Bytes 0-15 (magic, version, header_size) are the same in every format version.
constexpr size_t kStablePrefixBytes = 16;
constexpr size_t kHeaderCrcBytes = 4;
// A sanity bound applied before the version is known (a future header may be larger than
// a version 1 header, but never this large); it keeps a corrupted size from being trusted.
constexpr size_t kMaxAnyHeaderBytes = size_t(64) << 20;

// Version 1 header: H = kV1FixedHeaderBytes + K + kEntryBytes * N.
constexpr size_t kV1FixedHeaderBytes = 40;
constexpr size_t kEntryBytes = 24;
constexpr size_t kMaxKindBytes = 255;
constexpr uint32_t kMaxSections = 65536;

constexpr uint32_t kMustUnderstandFlags = 0x0000FFFFu;
constexpr uint32_t kKnownFlags = kScaledRowsFlag;

// Payloads are checksummed and written in pieces of this size, so each piece is still in
// cache when write() reads it after crc32c() did.
constexpr size_t kWriteChunk = size_t(1) << 20;

uint64_t align_up(uint64_t x) { return (x + kSectionAlignment - 1) / kSectionAlignment * kSectionAlignment; }

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// ---- writing --------------------------------------------------------------------------

[[noreturn]] void throw_truncated(const std::string& path, const std::string& detail) {
  throw FileFormatError(path + " is truncated: " + detail +
                        " (was it copied or written incompletely?)");
}

[[noreturn]] void throw_corrupted(const std::string& path, const std::string& detail) {
  throw FileFormatError(path + ": " + detail + "; the file is corrupted");
}

// A file shorter than the magic that starts like it (an empty file too) is a truncated one.
void check_magic(const uint8_t* head, size_t n, const std::string& path) {
  if (n > 0 && std::memcmp(head, kMagic, n) != 0) throw FileFormatError(path + " is not a vidx index file");
  if (n < sizeof kMagic) throw_truncated(path, "it has only " + std::to_string(n) + " bytes");
}

}  // namespace

std::string tag_name(uint32_t tag) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    const auto c = static_cast<uint8_t>(tag >> (8 * i));
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      s += buf;
    }
  }
  return s;
}

// ---- IndexFileWriter ------------------------------------------------------------------

IndexFileWriter::IndexFileWriter(std::string kind) : kind_(std::move(kind)) {
  if (kind_.empty() || kind_.size() > kMaxKindBytes)
    throw InvalidArgument("index kind must be 1 to " + std::to_string(kMaxKindBytes) + " bytes, got " +
                          std::to_string(kind_.size()));
}

void IndexFileWriter::check_new_tag(uint32_t tag) const {
  for (const Section& s : sections_)
    if (s.tag == tag) throw InvalidArgument("duplicate index file section '" + tag_name(tag) + "'");
  if (sections_.size() >= kMaxSections)
    throw InvalidArgument("an index file holds at most " + std::to_string(kMaxSections) + " sections");
}

void IndexFileWriter::add_section(uint32_t tag, std::vector<uint8_t> bytes) {
  check_new_tag(tag);
  sections_.push_back(Section{tag, std::move(bytes), {}, std::nullopt});
}

void IndexFileWriter::add_section_view(uint32_t tag, const void* data, size_t size, const SectionCheck* check) {
  add_section_views(tag, {Span{static_cast<const uint8_t*>(data), size}});
  if (check && check->length == size) sections_.back().check = *check;
}

void IndexFileWriter::add_section_views(uint32_t tag, std::vector<Span> parts) {
  check_new_tag(tag);
  for (const Span& part : parts)
    if (part.data == nullptr && part.size > 0)
      throw InvalidArgument("section '" + tag_name(tag) + "': null buffer of " + std::to_string(part.size) + " bytes");
  sections_.push_back(Section{tag, {}, std::move(parts), std::nullopt});
}

IndexFileWriter::Layout IndexFileWriter::layout() const {
  // The sums cannot overflow 64 bits: they add sizes of buffers that all exist in memory at
  // once, plus at most 63 bytes of padding each.
  Layout l;
  l.header_size = kV1FixedHeaderBytes + kind_.size() + kEntryBytes * sections_.size();
  l.offsets.resize(sections_.size());
  l.lengths.resize(sections_.size());
  uint64_t end = l.header_size;
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Section& s = sections_[i];
    uint64_t length = s.owned.size();
    for (const Span& part : s.parts) length += part.size;
    l.offsets[i] = align_up(end);
    l.lengths[i] = length;
    end = l.offsets[i] + length;
  }
  l.file_size = end;
  return l;
}

void IndexFileWriter::emit(const Layout& l,
                           const std::function<void(uint64_t, const uint8_t*, size_t)>& write) const {
  static const uint8_t kZeros[kSectionAlignment] = {};
  std::vector<uint32_t> crcs(sections_.size());
  uint64_t pos = l.header_size;
  for (size_t i = 0; i < sections_.size(); ++i) {
    write(pos, kZeros, static_cast<size_t>(l.offsets[i] - pos));  // explicit zeros, no holes
    pos = l.offsets[i];
    uint32_t crc = 0;
    auto stream = [&](const uint8_t* p, size_t n) {
      while (n > 0) {
        const size_t step = std::min(n, kWriteChunk);
        crc = crc32c(p, step, crc);
        write(pos, p, step);
        p += step;
        n -= step;
        pos += step;
      }
    };
    const Section& s = sections_[i];
    stream(s.owned.data(), s.owned.size());
    for (const Span& part : s.parts) stream(part.data, part.size);
    if (s.check && s.check->crc != crc)
      throw FileFormatError(s.check->source + ": checksum mismatch in section '" + tag_name(s.tag) +
                            "' (the file is damaged, or was changed while mapped); it was not copied");
    crcs[i] = crc;
  }

  ByteWriter h;
  h.bytes(kMagic, sizeof kMagic);
  h.u32(version_);
  h.u32(static_cast<uint32_t>(l.header_size));
  h.u32(flags_);
  h.u64(l.file_size);
  h.u32(static_cast<uint32_t>(kind_.size()));
  h.bytes(kind_.data(), kind_.size());
  h.u32(static_cast<uint32_t>(sections_.size()));
  for (size_t i = 0; i < sections_.size(); ++i) {
    h.u32(sections_[i].tag);
    h.u32(crcs[i]);
    h.u64(l.offsets[i]);
    h.u64(l.lengths[i]);
  }
  h.u32(crc32c(h.data().data(), h.size()));
  if (h.size() != l.header_size) throw std::logic_error("vidx::io: header size mismatch");  // layout bug
  write(0, h.data().data(), h.size());
}

void IndexFileWriter::write_atomically(const std::string& path) const {
  const Layout l = layout();
  AtomicFile out(path);
  emit(l, [&](uint64_t offset, const uint8_t* p, size_t n) { out.write_at(offset, p, n); });
  out.commit();
}

void IndexFileWriter::write_to(const std::function<uint8_t*(size_t)>& allocate) const {
  const Layout l = layout();
  if (l.file_size > std::numeric_limits<size_t>::max()) throw std::bad_alloc();
  uint8_t* out = allocate(static_cast<size_t>(l.file_size));
  if (!out) throw InvalidArgument("to_bytes: the allocator returned a null pointer");
  emit(l, [&](uint64_t offset, const uint8_t* p, size_t n) {
    if (n) std::memcpy(out + offset, p, n);
  });
}

std::vector<uint8_t> IndexFileWriter::to_bytes() const {
  std::vector<uint8_t> out;
  write_to([&out](size_t n) {
    out.resize(n);
    return out.data();
  });
  return out;
}

// ---- IndexFileReader ------------------------------------------------------------------

// A reader that reads section by section gets its bytes from an open file, or from bytes the
// caller keeps (from_bytes).
struct IndexFileReader::Source {
  File file;
  const uint8_t* bytes = nullptr;

  // n bytes at `offset` into dst. The file may have shrunk since its header was read: a short
  // read is reported as a truncation.
  void read(uint64_t offset, void* dst, size_t n, const std::string& path) const {
    if (n == 0) return;
    if (bytes) {
      std::memcpy(dst, bytes + offset, n);
      return;
    }
    if (file.read_at(offset, dst, n) != n)
      throw_truncated(path, "it ended before offset " + std::to_string(offset + n) + " while it was being read");
  }
};

namespace {
// Pieces a payload is read and checksummed in (stream(), checks of unread sections).
constexpr size_t kReadChunk = size_t(4) << 20;
}  // namespace

IndexFileReader IndexFileReader::open(const std::string& path) {
  // A save of this path killed with SIGKILL may have left its temporary file behind.
  remove_stale_temp_files(path);
  auto source = std::make_shared<Source>();
  source->file = File::open_existing(path);
  const uint64_t size_on_disk = source->file.size();
  if (size_on_disk > std::numeric_limits<size_t>::max())
    throw IoError("cannot read " + path + ": file too large for this platform");

  // The magic alone first, so a large foreign file is rejected without reading more of it.
  uint8_t magic[sizeof kMagic];
  const size_t magic_read = source->file.read_at(0, magic, std::min<uint64_t>(size_on_disk, sizeof kMagic));
  check_magic(magic, magic_read, path);

  IndexFileReader f;
  f.path_ = path;
  f.source_ = std::move(source);
  f.verify(size_on_disk, false);
  return f;
}

IndexFileReader IndexFileReader::from_bytes(const void* data, size_t size, const std::string& name) {
  check_magic(static_cast<const uint8_t*>(data), std::min(size, sizeof kMagic), name);
  IndexFileReader f;
  f.path_ = name;
  auto source = std::make_shared<Source>();
  source->bytes = static_cast<const uint8_t*>(data);
  f.source_ = std::move(source);
  f.verify(size, false);
  return f;
}

IndexFileReader IndexFileReader::map(const std::string& path, bool verify_all) {
  remove_stale_temp_files(path);
  auto mapping = std::make_shared<MappedFile>(MappedFile::map(path));
  check_magic(mapping->data(), std::min(mapping->size(), sizeof kMagic), path);
  IndexFileReader f;
  f.path_ = path;
  f.data_ = mapping->data();
  f.mapping_ = mapping.get();
  const size_t n = mapping->size();
  f.owner_ = std::move(mapping);
  f.verify(n, verify_all);
  return f;
}

const uint8_t* IndexFileReader::header_bytes(uint64_t n, std::vector<uint8_t>& storage) const {
  if (data_) return data_;
  storage.resize(static_cast<size_t>(std::min<uint64_t>(n, kStablePrefixBytes)));
  source_->read(0, storage.data(), storage.size(), path_);
  if (storage.size() < kStablePrefixBytes) return storage.data();
  // As much as the header claims, within what the file holds and any header may be; verify()
  // refuses a claim beyond either before it reads past the prefix.
  const uint64_t claimed = std::min<uint64_t>(load_le32(storage.data() + 12), kMaxAnyHeaderBytes);
  storage.resize(static_cast<size_t>(std::min<uint64_t>(n, std::max<uint64_t>(claimed, kStablePrefixBytes))));
  source_->read(0, storage.data(), storage.size(), path_);
  return storage.data();
}

void IndexFileReader::check_zero_range(uint64_t begin, uint64_t end) const {
  if (data_) {
    for (uint64_t i = begin; i < end; ++i)
      if (data_[i] != 0) throw_corrupted(path_, "padding byte at offset " + std::to_string(i) + " is not zero");
    return;
  }
  uint8_t piece[4096];
  for (uint64_t at = begin; at < end;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof piece, end - at));
    source_->read(at, piece, n, path_);
    for (size_t i = 0; i < n; ++i)
      if (piece[i] != 0) throw_corrupted(path_, "padding byte at offset " + std::to_string(at + i) + " is not zero");
    at += n;
  }
}

void IndexFileReader::verify(uint64_t n, bool verify_all) {
  const std::string& path = path_;
  std::vector<uint8_t> header_storage;
  const uint8_t* b = header_bytes(n, header_storage);
  // The version-independent prefix and the header checksum.
  if (n < kStablePrefixBytes)
    throw_truncated(path, "it has only " + std::to_string(n) + " bytes, less than a header");
  const uint32_t version = load_le32(b + 8);
  const uint32_t header_size = load_le32(b + 12);
  if (header_size < kStablePrefixBytes + kHeaderCrcBytes || header_size > kMaxAnyHeaderBytes)
    throw_corrupted(path, "impossible header size " + std::to_string(header_size));
  if (header_size > n)
    throw_truncated(path, "its header needs " + std::to_string(header_size) + " bytes but the file has only " +
                              std::to_string(n));
  const uint32_t stored_header_crc = load_le32(b + header_size - kHeaderCrcBytes);
  const uint32_t header_crc = crc32c(b, header_size - kHeaderCrcBytes);
  if (header_crc != stored_header_crc)
    throw_corrupted(path, "the header failed its checksum (stored " + hex32(stored_header_crc) + ", computed " +
                              hex32(header_crc) + ")");

  // Only now is the version trustworthy, and only now may the rest of the header be parsed.
  if (version == 0) throw_corrupted(path, "invalid file format version 0");
  if (version > kFormatVersion)
    throw FileFormatError(path + ": file format version " + std::to_string(version) +
                          " is newer than this library supports (" + std::to_string(kFormatVersion) +
                          "); upgrade vidx");
  version_ = version;

  ByteReader h(Span{b + kStablePrefixBytes, header_size - kStablePrefixBytes - kHeaderCrcBytes}, path + ": header");
  const uint32_t flags = h.u32();
  if ((flags & kMustUnderstandFlags & ~kKnownFlags) != 0)
    throw FileFormatError(path + " uses format features this library does not support (flags " + hex32(flags) +
                          "); upgrade vidx");
  flags_ = flags;
  const uint64_t file_size = h.u64();
  const uint32_t kind_bytes = h.u32();
  if (kind_bytes == 0 || kind_bytes > kMaxKindBytes)
    throw_corrupted(path, "impossible index kind length " + std::to_string(kind_bytes));
  const Span kind = h.take(kind_bytes);
  kind_.assign(reinterpret_cast<const char*>(kind.data), kind.size);
  const uint32_t count = h.u32();
  if (count > kMaxSections) throw_corrupted(path, "impossible section count " + std::to_string(count));
  if (header_size != kV1FixedHeaderBytes + kind_bytes + kEntryBytes * count)
    throw_corrupted(path, "header size " + std::to_string(header_size) + " does not match its " +
                              std::to_string(count) + " sections");
  entries_.reserve(count);
  std::vector<uint32_t> crcs;
  crcs.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Entry e;
    e.tag = h.u32();
    crcs.push_back(h.u32());
    e.offset = h.u64();
    e.length = h.u64();
    entries_.push_back(e);
  }
  h.expect_end();

  // The file's length, then the placement of every section, before any offset is used.
  if (file_size < header_size) throw_corrupted(path, "recorded file size is smaller than the header");
  if (n < file_size)
    throw_truncated(path, "it should have " + std::to_string(file_size) + " bytes but has only " + std::to_string(n));
  if (n > file_size)
    throw_corrupted(path, std::to_string(n - file_size) + " unexpected bytes after the end of the index (offset " +
                              std::to_string(file_size) + ")");
  uint64_t previous_end = header_size;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    const std::string name = "section '" + tag_name(e.tag) + "'";
    for (size_t j = 0; j < i; ++j)
      if (entries_[j].tag == e.tag) throw_corrupted(path, "duplicate " + name);
    if (e.offset % kSectionAlignment != 0) throw_corrupted(path, name + " is not 64-byte aligned");
    if (e.offset < previous_end) throw_corrupted(path, name + " overlaps the header or the section before it");
    // offset + length <= file_size, without computing a sum that could overflow.
    if (e.offset > file_size || e.length > file_size - e.offset)
      throw_corrupted(path, name + " extends past the end of the file");
    check_zero_range(previous_end, e.offset);
    previous_end = e.offset + e.length;
  }
  check_zero_range(previous_end, file_size);

  // Finally the payloads themselves: now, or when a section is first handed out (a mapped file
  // without verify_all, a file read section by section).
  for (Entry& e : entries_) {
    e.crc = crcs[&e - entries_.data()];
    e.verified = false;
    if (verify_all) check_payload(e);
  }
}

void IndexFileReader::check_payload(const Entry& e) const {
  if (e.verified) return;
  if (data_) {
    check_crc(e, crc32c(data_ + e.offset, static_cast<size_t>(e.length)));
    return;
  }
  std::vector<uint8_t> piece(static_cast<size_t>(std::min<uint64_t>(kReadChunk, e.length)));
  uint32_t crc = 0;
  for (uint64_t at = 0; at < e.length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(piece.size(), e.length - at));
    source_->read(e.offset + at, piece.data(), n, path_);
    crc = crc32c(piece.data(), n, crc);
    at += n;
  }
  check_crc(e, crc);
}

void IndexFileReader::check_crc(const Entry& e, uint32_t crc) const {
  if (crc != e.crc)
    throw_corrupted(path_, "section '" + tag_name(e.tag) + "' failed its checksum (stored " + hex32(e.crc) +
                               ", computed " + hex32(crc) + ")");
  e.verified = true;
}

void IndexFileReader::verify_unread() const {
  for (const Entry& e : entries_) check_payload(e);
}

void IndexFileReader::advise_random(uint32_t tag) const {
  const Entry* e = find(tag);
  if (mapping_ && e) mapping_->advise_random(static_cast<size_t>(e->offset), static_cast<size_t>(e->length));
}

const IndexFileReader::Entry* IndexFileReader::find(uint32_t tag) const {
  for (const Entry& e : entries_)
    if (e.tag == tag) return &e;
  return nullptr;
}

const IndexFileReader::Entry& IndexFileReader::require(uint32_t tag) const {
  const Entry* e = find(tag);
  if (!e) throw FileFormatError(path_ + ": missing section '" + tag_name(tag) + "'");
  return *e;
}

uint64_t IndexFileReader::size_of(uint32_t tag) const { return require(tag).length; }

Span IndexFileReader::in_place(uint32_t tag) const {
  if (source_) return section(tag);
  const Entry& e = require(tag);
  return Span{data_ + e.offset, static_cast<size_t>(e.length)};
}

Span IndexFileReader::section(uint32_t tag) const {
  const Entry& e = require(tag);
  if (source_) {
    for (const auto& [read_tag, payload] : read_)
      if (read_tag == tag) return Span{payload->data(), static_cast<size_t>(e.length)};
    // Read into a buffer of its own: 64-byte aligned whatever the source's alignment.
    auto payload = std::make_shared<AlignedBuffer>(AlignedBuffer::for_overwrite(static_cast<size_t>(e.length)));
    source_->read(e.offset, payload->data(), static_cast<size_t>(e.length), path_);
    check_crc(e, crc32c(payload->data(), static_cast<size_t>(e.length)));
    read_.emplace_back(tag, payload);
    return Span{payload->data(), static_cast<size_t>(e.length)};
  }
  // A copied section is read whole (its checksum first): ask for all of its pages at once.
  if (mapping_ && !e.verified) mapping_->advise_willneed(static_cast<size_t>(e.offset), static_cast<size_t>(e.length));
  check_payload(e);
  return Span{data_ + e.offset, static_cast<size_t>(e.length)};
}

void IndexFileReader::read_into(uint32_t tag, void* to) const {
  uint8_t* out = static_cast<uint8_t*>(to);
  stream(tag, 1, [out](uint64_t at, const uint8_t* bytes, size_t n) { std::memcpy(out + at, bytes, n); });
}

void IndexFileReader::stream(uint32_t tag, size_t unit,
                             const std::function<void(uint64_t, const uint8_t*, size_t)>& sink) const {
  const Entry& e = require(tag);
  if (!source_) {  // a mapped file: verified, then handed over at once
    if (!e.verified) mapping_->advise_willneed(static_cast<size_t>(e.offset), static_cast<size_t>(e.length));
    check_payload(e);
    if (e.length) sink(0, data_ + e.offset, static_cast<size_t>(e.length));
    return;
  }
  // Read and checksummed piece by piece, the caller's bytes too: the sink gets the very bytes that
  // were checksummed, even if another thread changes the caller's buffer meanwhile (a review's
  // bytearray changed during from_bytes loaded a row that failed the checksum).
  for (const auto& [read_tag, payload] : read_)
    if (read_tag == tag) {  // section() read it already
      if (e.length) sink(0, payload->data(), static_cast<size_t>(e.length));
      return;
    }
  unit = std::max<size_t>(unit, 1);
  const size_t chunk = std::max(unit, kReadChunk / unit * unit);
  AlignedBuffer piece = AlignedBuffer::for_overwrite(static_cast<size_t>(std::min<uint64_t>(chunk, e.length)));
  uint32_t crc = 0;
  for (uint64_t at = 0; at < e.length;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, e.length - at));
    source_->read(e.offset + at, piece.data(), n, path_);
    crc = crc32c(piece.data(), n, crc);
    sink(at, piece.data(), n);
    at += n;
  }
  check_crc(e, crc);
}

bool IndexFileReader::verified(uint32_t tag) const {
  const Entry* e = find(tag);
  return e && e->verified;
}

void SectionChecks::note(const IndexFileReader& in, uint32_t tag) {
  if (!in.mapped()) return;
  if (auto check = in.check_for(tag)) checks_.emplace_back(tag, std::move(*check));
}

const SectionCheck* SectionChecks::find(uint32_t tag) const {
  for (const auto& [t, check] : checks_)
    if (t == tag) return &check;
  return nullptr;
}

std::optional<SectionCheck> IndexFileReader::check_for(uint32_t tag) const {
  const Entry* e = find(tag);
  if (!e) return std::nullopt;
  return SectionCheck{e->crc, e->length, path_};
}

ByteReader IndexFileReader::reader(uint32_t tag) const {
  return ByteReader(section(tag), path_ + ": section '" + tag_name(tag) + "'");
}

std::vector<uint32_t> IndexFileReader::tags() const {
  std::vector<uint32_t> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.tag);
  return out;
}

}  // namespace vidx::io
