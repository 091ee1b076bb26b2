// Writing and verifying vidx index files; the layout is documented in index_file.hpp.
#include "vidx/io/index_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <system_error>

#include "vidx/common/error.hpp"
#include "vidx/io/crc32c.hpp"

// Bulk payloads are raw host arrays (floats, ids) and the format defines them as
// little-endian, so a big-endian host would write files no other host can read.
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vidx index files store arrays in host byte order, which must be little-endian"
#endif

// Index files are routinely larger than 2 GiB; a 32-bit off_t would silently wrap offsets.
static_assert(sizeof(off_t) >= 8, "vidx needs 64-bit file offsets (build with -D_FILE_OFFSET_BITS=64)");

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
constexpr uint32_t kKnownFlags = 0;  // version 1 defines no flags

// Payloads are checksummed and written in pieces of this size, so each piece is still in
// cache when write() reads it after crc32c() did.
constexpr size_t kWriteChunk = size_t(1) << 20;
// One read()/write() call moves at most this much: macOS rejects counts above INT_MAX.
constexpr size_t kMaxIoBytes = size_t(1) << 30;

uint64_t align_up(uint64_t x) { return (x + kSectionAlignment - 1) / kSectionAlignment * kSectionAlignment; }

uint32_t load_le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

std::string os_error(int err) { return std::generic_category().message(err); }

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

// Closes a file descriptor when it goes out of scope (the reader's error paths are many).
class FdCloser {
 public:
  explicit FdCloser(int fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdCloser(const FdCloser&) = delete;
  FdCloser& operator=(const FdCloser&) = delete;

 private:
  int fd_;
};

// ---- writing --------------------------------------------------------------------------

// fsync that also reaches the disk on macOS, where fsync() leaves data in the drive's cache.
int sync_fd(int fd) {
#ifdef __APPLE__
  if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;  // not every filesystem supports it
#endif
  int rc;
  do rc = ::fsync(fd);
  while (rc != 0 && errno == EINTR);
  return rc;
}

// A name that no other writer (thread, process, earlier crashed run) is using. It only has to
// be unlikely to collide: the file is created with O_EXCL and a collision simply retries.
std::string temp_name_for(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  uint64_t x = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  x ^= (counter.fetch_add(1, std::memory_order_relaxed) + 1) * 0x9E3779B97F4A7C15ull;
  x ^= reinterpret_cast<uintptr_t>(&x);  // differs between threads and, with ASLR, processes
  // splitmix64 finaliser: spreads the bits so the suffix looks random.
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  char suffix[48];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%016llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(x));
  return path + suffix;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// The temporary file of one write_atomically call. Unless commit() succeeds, the destructor
// closes and removes it, so every failure path (including exceptions from the caller's data,
// e.g. bad_alloc) leaves no temporary file behind and `target` untouched.
class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    for (int attempt = 0;; ++attempt) {
      path_ = temp_name_for(target);
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ >= 0) return;
      if (errno == EINTR || (errno == EEXIST && attempt < 16)) continue;
      fail("cannot create temporary file", path_, errno);
    }
  }
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  void write_at(uint64_t offset, const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      const ssize_t w = ::pwrite(fd_, p, std::min(n, kMaxIoBytes), static_cast<off_t>(offset));
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("cannot write", path_, errno);
      }
      if (w == 0) fail("cannot write", path_, ENOSPC);  // no progress and no error: treat as full
      p += w;
      n -= static_cast<size_t>(w);
      offset += static_cast<uint64_t>(w);
    }
  }

  // Makes the data durable, closes the file and renames it over the target.
  void commit() {
    if (sync_fd(fd_) != 0) fail("cannot fsync", path_, errno);
    const int fd = fd_;
    fd_ = -1;
    // close() can report a deferred write error (NFS); EINTR still closes the descriptor.
    if (::close(fd) != 0 && errno != EINTR) fail("cannot close", path_, errno);
    if (::rename(path_.c_str(), target_.c_str()) != 0) fail("cannot rename " + path_ + " to", target_, errno);
    committed_ = true;
  }

  // After a rename, the directory entry is only durable once the directory is synced.
  void sync_directory() const {
    const std::string dir = directory_of(target_);
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
    if (dfd < 0) {
      // A directory we may write but not read (mode -wx) cannot be opened; the file is in
      // place, so that is not worth failing the save for.
      if (errno == EACCES) return;
      fail("cannot open directory", dir, errno);
    }
    FdCloser closer(dfd);
    // Some filesystems do not support fsync on directories; nothing more can be done there.
    if (sync_fd(dfd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EOPNOTSUPP)
      fail("cannot fsync directory", dir, errno);
  }

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& file, int err) const {
    throw IoError("cannot write index file " + target_ + ": " + what + " " + file + ": " + os_error(err));
  }

  std::string target_;
  std::string path_;
  int fd_ = -1;
  bool committed_ = false;
};

// ---- reading --------------------------------------------------------------------------

// Reads up to n bytes at `offset`; returns fewer only at end of file.
size_t read_at(int fd, void* dst, size_t n, uint64_t offset, const std::string& path) {
  auto* p = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, p + done, std::min(n - done, kMaxIoBytes), static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot read " + path + ": " + os_error(errno));
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

[[noreturn]] void throw_truncated(const std::string& path, const std::string& detail) {
  throw FileFormatError(path + " is truncated: " + detail +
                        " (was it copied or written incompletely?)");
}

[[noreturn]] void throw_corrupted(const std::string& path, const std::string& detail) {
  throw FileFormatError(path + ": " + detail + "; the file is corrupted");
}

// Every byte outside the header and the payloads must be zero, so that no byte of a valid
// file escapes verification.
void check_zero_gap(const uint8_t* file, uint64_t begin, uint64_t end, const std::string& path) {
  for (uint64_t i = begin; i < end; ++i)
    if (file[i] != 0) throw_corrupted(path, "padding byte at offset " + std::to_string(i) + " is not zero");
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
  sections_.push_back(Section{tag, std::move(bytes), {}});
}

void IndexFileWriter::add_section_view(uint32_t tag, const void* data, size_t size) {
  add_section_views(tag, {Span{static_cast<const uint8_t*>(data), size}});
}

void IndexFileWriter::add_section_views(uint32_t tag, std::vector<Span> parts) {
  check_new_tag(tag);
  for (const Span& part : parts)
    if (part.data == nullptr && part.size > 0)
      throw InvalidArgument("section '" + tag_name(tag) + "': null buffer of " + std::to_string(part.size) + " bytes");
  sections_.push_back(Section{tag, {}, std::move(parts)});
}

void IndexFileWriter::write_atomically(const std::string& path) const {
  // Lay out the payloads. The sums cannot overflow 64 bits: they add sizes of buffers that
  // all exist in memory at once, plus at most 63 bytes of padding each.
  const size_t header_size = kV1FixedHeaderBytes + kind_.size() + kEntryBytes * sections_.size();
  std::vector<uint64_t> offsets(sections_.size());
  std::vector<uint64_t> lengths(sections_.size());
  uint64_t end = header_size;
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Section& s = sections_[i];
    uint64_t length = s.owned.size();
    for (const Span& part : s.parts) length += part.size;
    offsets[i] = align_up(end);
    lengths[i] = length;
    end = offsets[i] + length;
  }
  const uint64_t file_size = end;

  TempFile out(path);

  // Payloads first, since the header holds their checksums; the header goes in last, at 0.
  static const uint8_t kZeros[kSectionAlignment] = {};
  std::vector<uint32_t> crcs(sections_.size());
  uint64_t pos = header_size;
  for (size_t i = 0; i < sections_.size(); ++i) {
    out.write_at(pos, kZeros, static_cast<size_t>(offsets[i] - pos));  // explicit zeros, no holes
    pos = offsets[i];
    uint32_t crc = 0;
    auto stream = [&](const uint8_t* p, size_t n) {
      while (n > 0) {
        const size_t step = std::min(n, kWriteChunk);
        crc = crc32c(p, step, crc);
        out.write_at(pos, p, step);
        p += step;
        n -= step;
        pos += step;
      }
    };
    const Section& s = sections_[i];
    stream(s.owned.data(), s.owned.size());
    for (const Span& part : s.parts) stream(part.data, part.size);
    crcs[i] = crc;
  }

  ByteWriter h;
  h.bytes(kMagic, sizeof kMagic);
  h.u32(kFormatVersion);
  h.u32(static_cast<uint32_t>(header_size));
  h.u32(kKnownFlags);
  h.u64(file_size);
  h.u32(static_cast<uint32_t>(kind_.size()));
  h.bytes(kind_.data(), kind_.size());
  h.u32(static_cast<uint32_t>(sections_.size()));
  for (size_t i = 0; i < sections_.size(); ++i) {
    h.u32(sections_[i].tag);
    h.u32(crcs[i]);
    h.u64(offsets[i]);
    h.u64(lengths[i]);
  }
  h.u32(crc32c(h.data().data(), h.size()));
  if (h.size() != header_size) throw std::logic_error("vidx::io: header size mismatch");  // layout bug
  out.write_at(0, h.data().data(), h.size());

  out.commit();
  out.sync_directory();
}

// ---- IndexFileReader ------------------------------------------------------------------

IndexFileReader IndexFileReader::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw FileNotFound("no such file: " + path);
    throw IoError("cannot open " + path + ": " + os_error(err));
  }
  FdCloser closer(fd);

  struct stat st;
  if (::fstat(fd, &st) != 0) throw IoError("cannot stat " + path + ": " + os_error(errno));
  if (S_ISDIR(st.st_mode)) throw IoError("cannot read " + path + ": " + os_error(EISDIR));
  if (!S_ISREG(st.st_mode)) throw IoError("cannot read " + path + ": not a regular file");
  if (static_cast<uint64_t>(st.st_size) > std::numeric_limits<size_t>::max())
    throw IoError("cannot read " + path + ": file too large for this platform");
  const size_t size_on_disk = static_cast<size_t>(st.st_size);

  // The magic alone first, so a large foreign file is rejected without reading all of it.
  // A file shorter than the magic that starts like it (an empty file too) is a truncated one.
  uint8_t magic[sizeof kMagic];
  const size_t magic_read = read_at(fd, magic, std::min(size_on_disk, sizeof kMagic), 0, path);
  if (std::memcmp(magic, kMagic, magic_read) != 0) throw FileFormatError(path + " is not a vidx index file");
  if (magic_read < sizeof kMagic) throw_truncated(path, "it has only " + std::to_string(magic_read) + " bytes");

  IndexFileReader f;
  f.path_ = path;
  f.file_ = AlignedBuffer(size_on_disk);
  // `n` is what was actually read: if the file shrank since fstat, that shows as truncation.
  const size_t n = read_at(fd, f.file_.data(), size_on_disk, 0, path);
  const uint8_t* b = f.file_.data();

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
  f.version_ = version;

  ByteReader h(Span{b + kStablePrefixBytes, header_size - kStablePrefixBytes - kHeaderCrcBytes}, path + ": header");
  const uint32_t flags = h.u32();
  if ((flags & kMustUnderstandFlags & ~kKnownFlags) != 0)
    throw FileFormatError(path + " uses format features this library does not support (flags " + hex32(flags) +
                          "); upgrade vidx");
  const uint64_t file_size = h.u64();
  const uint32_t kind_bytes = h.u32();
  if (kind_bytes == 0 || kind_bytes > kMaxKindBytes)
    throw_corrupted(path, "impossible index kind length " + std::to_string(kind_bytes));
  const Span kind = h.take(kind_bytes);
  f.kind_.assign(reinterpret_cast<const char*>(kind.data), kind.size);
  const uint32_t count = h.u32();
  if (count > kMaxSections) throw_corrupted(path, "impossible section count " + std::to_string(count));
  if (header_size != kV1FixedHeaderBytes + kind_bytes + kEntryBytes * count)
    throw_corrupted(path, "header size " + std::to_string(header_size) + " does not match its " +
                              std::to_string(count) + " sections");
  f.entries_.reserve(count);
  std::vector<uint32_t> crcs;
  crcs.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    Entry e;
    e.tag = h.u32();
    crcs.push_back(h.u32());
    e.offset = h.u64();
    e.length = h.u64();
    f.entries_.push_back(e);
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
  for (size_t i = 0; i < f.entries_.size(); ++i) {
    const Entry& e = f.entries_[i];
    const std::string name = "section '" + tag_name(e.tag) + "'";
    for (size_t j = 0; j < i; ++j)
      if (f.entries_[j].tag == e.tag) throw_corrupted(path, "duplicate " + name);
    if (e.offset % kSectionAlignment != 0) throw_corrupted(path, name + " is not 64-byte aligned");
    if (e.offset < previous_end) throw_corrupted(path, name + " overlaps the header or the section before it");
    // offset + length <= file_size, without computing a sum that could overflow.
    if (e.offset > file_size || e.length > file_size - e.offset)
      throw_corrupted(path, name + " extends past the end of the file");
    check_zero_gap(b, previous_end, e.offset, path);
    previous_end = e.offset + e.length;
  }
  check_zero_gap(b, previous_end, file_size, path);

  // Finally the payloads themselves.
  for (size_t i = 0; i < f.entries_.size(); ++i) {
    const Entry& e = f.entries_[i];
    const uint32_t crc = crc32c(b + e.offset, static_cast<size_t>(e.length));
    if (crc != crcs[i])
      throw_corrupted(path, "section '" + tag_name(e.tag) + "' failed its checksum (stored " + hex32(crcs[i]) +
                                ", computed " + hex32(crc) + ")");
  }
  return f;
}

const IndexFileReader::Entry* IndexFileReader::find(uint32_t tag) const {
  for (const Entry& e : entries_)
    if (e.tag == tag) return &e;
  return nullptr;
}

Span IndexFileReader::section(uint32_t tag) const {
  const Entry* e = find(tag);
  if (!e) throw FileFormatError(path_ + ": missing section '" + tag_name(tag) + "'");
  return Span{file_.data() + e->offset, static_cast<size_t>(e->length)};
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
