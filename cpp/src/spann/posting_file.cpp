#include "vidx/spann/posting_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <system_error>

#include "vidx/codec/codec.hpp"
#include "vidx/common/aligned_buffer.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/crc32c.hpp"

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define VIDX_SPANN_HW_CRC 1
#endif

namespace vidx::spann {
namespace {

constexpr uint8_t kMagic[8] = {0x89, 'V', 'S', 'P', 'N', '\r', '\n', 0x1A};

std::string os_error(int err) { return std::generic_category().message(err); }

#if defined(VIDX_SPANN_HW_CRC)
__attribute__((target("sse4.2"))) uint32_t crc32c_hw(const void* data, size_t n, uint32_t crc) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = _mm_crc32_u64(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = _mm_crc32_u8(c32, *p++);
    --n;
  }
  return ~c32;
}

bool cpu_has_sse42() {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

std::vector<uint8_t> encode_header(const PostingHeader& h) {
  io::ByteWriter w;
  w.bytes(kMagic, 8);
  w.u32(kPostingFormatVersion);
  w.u32(static_cast<uint32_t>(kPageSize));
  w.u32(h.dim);
  w.u32(static_cast<uint32_t>(h.metric));
  w.u32(h.codec);
  w.u32(h.entry_bytes);
  w.u64(h.list_count);
  w.u64(h.vector_count);
  w.u64(h.entry_count);
  w.u64(h.directory_offset);
  w.u64(h.directory_bytes);
  w.u64(h.data_offset);
  w.u64(h.file_size);
  w.u64(h.build_id);
  w.u32(h.directory_crc);
  w.u32(io::crc32c(w.data().data(), w.size()));
  return w.take();
}

void encode_directory(const std::vector<PostingList>& lists, std::vector<uint8_t>& out) {
  io::ByteWriter w;
  for (const PostingList& l : lists) {
    w.u64(l.offset);
    w.u32(l.count);
    w.u32(l.pages);
    w.u32(l.crc);
    w.u32(0);
  }
  out = w.take();
}

int sync_fd(int fd) {
  int rc;
  do rc = ::fsync(fd);
  while (rc != 0 && errno == EINTR);
  return rc;
}

size_t read_fully(int fd, void* dst, size_t n, uint64_t offset) {
  auto* p = static_cast<uint8_t*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, p + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return static_cast<size_t>(-1);
    }
    if (r == 0) break;
    done += static_cast<size_t>(r);
  }
  return done;
}

}  // namespace

namespace {
constexpr const char* kCodecNames[] = {"f32", "f16", "lvq8"};
}  // namespace

uint32_t posting_codec_id(const std::string& name) {
  for (uint32_t i = 0; i < std::size(kCodecNames); ++i)
    if (name == kCodecNames[i]) return i;
  throw InvalidArgument("unknown posting codec '" + name + "' (expected 'f32', 'f16' or 'lvq8')");
}

std::string posting_codec_name(uint32_t id) { return id < std::size(kCodecNames) ? kCodecNames[id] : ""; }

size_t posting_entry_bytes(uint32_t codec, size_t dim) {
  const std::string name = posting_codec_name(codec);
  if (name.empty()) return 0;
  const size_t code = make_codec(name, dim, Metric::L2)->code_size();
  return (8 + code + 3) / 4 * 4;
}

uint32_t fast_crc32c(const void* data, size_t n, uint32_t crc) {
#if defined(VIDX_SPANN_HW_CRC)
  if (cpu_has_sse42()) return crc32c_hw(data, n, crc);
#endif
  return io::crc32c(data, n, crc);
}

std::vector<PostingList> layout_lists(const std::vector<uint32_t>& counts, size_t entry_bytes, uint64_t data_offset,
                                      uint64_t* data_end) {
  std::vector<PostingList> lists(counts.size());
  uint64_t pos = data_offset;
  // Free space at the start of partly used pages: free bytes -> (page offset, bytes used).
  std::multimap<uint32_t, std::pair<uint64_t, uint32_t>> open;
  std::vector<size_t> small;
  for (size_t i = 0; i < counts.size(); ++i) {
    PostingList& l = lists[i];
    l.count = counts[i];
    const uint64_t bytes = static_cast<uint64_t>(counts[i]) * entry_bytes;
    if (bytes == 0) continue;
    if (bytes < kPageSize) {
      small.push_back(i);
      continue;
    }
    const uint64_t full = bytes / kPageSize;
    const uint32_t tail = static_cast<uint32_t>(bytes % kPageSize);
    if (tail == 0) {
      l.offset = pos;
      l.pages = static_cast<uint32_t>(full);
      pos += full * kPageSize;
    } else {
      // The tail ends the first page; the full pages follow it.
      l.offset = pos + (kPageSize - tail);
      l.pages = static_cast<uint32_t>(full + 1);
      open.emplace(static_cast<uint32_t>(kPageSize - tail), std::make_pair(pos, 0u));
      pos += (full + 1) * kPageSize;
    }
  }
  // Small lists, largest first, each into the tightest free space that holds it.
  std::stable_sort(small.begin(), small.end(), [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  for (size_t i : small) {
    PostingList& l = lists[i];
    const uint32_t bytes = static_cast<uint32_t>(static_cast<uint64_t>(counts[i]) * entry_bytes);
    auto it = open.lower_bound(bytes);
    uint64_t page;
    uint32_t used, free_bytes;
    if (it == open.end()) {
      page = pos;
      used = 0;
      free_bytes = static_cast<uint32_t>(kPageSize);
      pos += kPageSize;
    } else {
      free_bytes = it->first;
      page = it->second.first;
      used = it->second.second;
      open.erase(it);
    }
    l.offset = page + used;
    l.pages = 1;
    if (free_bytes - bytes >= entry_bytes) open.emplace(free_bytes - bytes, std::make_pair(page, used + bytes));
  }
  *data_end = pos;
  return lists;
}

// ---- PostingFileWriter ----

PostingFileWriter::PostingFileWriter(const std::string& path) : path_(path) {
  static std::atomic<uint64_t> counter{0};
  for (int attempt = 0;; ++attempt) {
    char suffix[64];
    const uint64_t salt = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
                          (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
    std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%016llx", static_cast<long>(::getpid()),
                  static_cast<unsigned long long>(salt));
    tmp_ = path + suffix;
    fd_ = ::open(tmp_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    if (errno == EINTR || (errno == EEXIST && attempt < 16)) continue;
    throw IoError("cannot write posting file " + path + ": cannot create " + tmp_ + ": " + os_error(errno));
  }
}

PostingFileWriter::~PostingFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void PostingFileWriter::write_at(uint64_t offset, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = ::pwrite(fd_, p, std::min<size_t>(n, size_t(1) << 30), static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot write posting file " + tmp_ + ": " + os_error(errno));
    }
    if (w == 0) throw IoError("cannot write posting file " + tmp_ + ": " + os_error(ENOSPC));
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

void PostingFileWriter::commit(PostingHeader header, const std::vector<PostingList>& lists) {
  std::vector<uint8_t> dir;
  encode_directory(lists, dir);
  header.list_count = lists.size();
  header.directory_offset = kPageSize;
  header.directory_bytes = dir.size();
  header.directory_crc = io::crc32c(dir.data(), dir.size());
  if (header.data_offset < round_up_page(kPageSize + dir.size()) || header.file_size < header.data_offset)
    throw std::logic_error("vidx::spann: posting file layout mismatch");
  const std::vector<uint8_t> head = encode_header(header);
  std::vector<uint8_t> page0(kPageSize, 0);
  std::memcpy(page0.data(), head.data(), head.size());
  write_at(0, page0.data(), page0.size());
  if (!dir.empty()) write_at(header.directory_offset, dir.data(), dir.size());
  // Zero the rest of the directory pages and anything never written (holes read as zeros).
  if (::ftruncate(fd_, static_cast<off_t>(header.file_size)) != 0)
    throw IoError("cannot write posting file " + tmp_ + ": " + os_error(errno));
  if (sync_fd(fd_) != 0) throw IoError("cannot fsync posting file " + tmp_ + ": " + os_error(errno));
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) throw IoError("cannot close posting file " + tmp_ + ": " + os_error(errno));
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw IoError("cannot rename " + tmp_ + " to " + path_ + ": " + os_error(errno));
  committed_ = true;
  const size_t slash = path_.find_last_of('/');
  const std::string dir_path = slash == std::string::npos ? "." : (slash == 0 ? "/" : path_.substr(0, slash));
  const int dfd = ::open(dir_path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (dfd >= 0) {
    sync_fd(dfd);  // best effort: some filesystems cannot sync directories
    ::close(dfd);
  }
}

// ---- PostingFile ----

PostingFile::PostingFile(const std::string& path, bool direct_io) : path_(path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw FileNotFound("no such posting file: " + path);
    throw IoError("cannot open posting file " + path + ": " + os_error(err));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0) throw IoError("cannot stat " + path + ": " + os_error(errno));
  if (!S_ISREG(st.st_mode)) throw IoError("cannot read posting file " + path + ": not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);

  uint8_t head[kPostingHeaderBytes];
  const size_t got = read_fully(fd, head, sizeof head, 0);
  if (got == static_cast<size_t>(-1)) throw IoError("cannot read " + path + ": " + os_error(errno));
  if (got < 8 || std::memcmp(head, kMagic, 8) != 0) {
    if (got < 8 && std::memcmp(head, kMagic, got) == 0)
      throw FileFormatError("posting file " + path + " is truncated (" + std::to_string(size) + " bytes)");
    throw FileFormatError(path + " is not a vidx SPANN posting file");
  }
  if (got < sizeof head) throw FileFormatError("posting file " + path + " is truncated (" + std::to_string(size) + " bytes)");
  io::ByteReader r(io::Span{head, sizeof head}, "posting file " + path + ": header");
  r.take(8);
  const uint32_t version = r.u32();
  const uint32_t page = r.u32();
  header_.dim = r.u32();
  const uint32_t metric = r.u32();
  header_.codec = r.u32();
  header_.entry_bytes = r.u32();
  header_.list_count = r.u64();
  header_.vector_count = r.u64();
  header_.entry_count = r.u64();
  header_.directory_offset = r.u64();
  header_.directory_bytes = r.u64();
  header_.data_offset = r.u64();
  header_.file_size = r.u64();
  header_.build_id = r.u64();
  header_.directory_crc = r.u32();
  const uint32_t stored_crc = r.u32();
  header_crc_ = io::crc32c(head, kPostingHeaderBytes - 4);
  if (stored_crc != header_crc_)
    throw FileFormatError("posting file " + path + ": header checksum mismatch; the file is corrupted");
  if (version > kPostingFormatVersion)
    throw FileFormatError("posting file " + path + " has format version " + std::to_string(version) +
                          ", newer than this library supports (" + std::to_string(kPostingFormatVersion) +
                          "); upgrade vidx");
  auto bad = [&](const std::string& what) {
    throw FileFormatError("posting file " + path + ": " + what + "; the file is corrupted");
  };
  if (version == 0 || page != kPageSize) bad("unsupported version or page size");
  if (metric > static_cast<uint32_t>(Metric::Cosine)) bad("unknown metric code");
  header_.metric = static_cast<Metric>(metric);
  if (posting_codec_name(header_.codec).empty()) bad("unknown codec " + std::to_string(header_.codec));
  if (header_.dim == 0 || header_.dim > (1u << 20) ||
      header_.entry_bytes != posting_entry_bytes(header_.codec, header_.dim))
    bad("implausible dimension or entry size");
  if (size < header_.file_size)
    throw FileFormatError("posting file " + path + " is truncated: " + std::to_string(size) + " bytes, expected " +
                          std::to_string(header_.file_size) + " (was it copied or written incompletely?)");
  if (size > header_.file_size)
    throw FileFormatError("posting file " + path + " has " + std::to_string(size - header_.file_size) +
                          " bytes more than its header says; the file is corrupted");
  if (header_.directory_offset != kPageSize || header_.directory_bytes != header_.list_count * kDirectoryRecordBytes ||
      header_.data_offset != round_up_page(kPageSize + header_.directory_bytes) ||
      header_.file_size < header_.data_offset || header_.file_size % kPageSize != 0)
    bad("inconsistent header");

  std::vector<uint8_t> dir(header_.directory_bytes);
  if (!dir.empty() && read_fully(fd, dir.data(), dir.size(), header_.directory_offset) != dir.size())
    throw IoError("cannot read the directory of " + path);
  if (io::crc32c(dir.data(), dir.size()) != header_.directory_crc) bad("directory checksum mismatch");
  lists_.resize(header_.list_count);
  io::ByteReader d(io::Span{dir.data(), dir.size()}, "posting file " + path + ": directory");
  uint64_t entries = 0;
  for (size_t i = 0; i < lists_.size(); ++i) {
    PostingList& l = lists_[i];
    l.offset = d.u64();
    l.count = d.u32();
    l.pages = d.u32();
    l.crc = d.u32();
    d.u32();
    entries += l.count;
    const uint64_t bytes = static_cast<uint64_t>(l.count) * header_.entry_bytes;
    if (l.count == 0) {
      if (l.pages != 0) bad("list " + std::to_string(i) + " is empty but has pages");
      continue;
    }
    if (l.offset < header_.data_offset || l.offset % 4 != 0 || l.offset + bytes > header_.file_size ||
        l.pages != (l.offset_in_page() + bytes + kPageSize - 1) / kPageSize)
      bad("list " + std::to_string(i) + " has an impossible place in the file");
  }
  if (entries != header_.entry_count) bad("the directory's entries do not add up to the header's count");

  // The data descriptor, with O_DIRECT when asked and allowed.
  if (direct_io) {
#if defined(O_DIRECT)
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
    if (fd_ >= 0) {
      // Some filesystems accept the flag and refuse the reads: try one.
      void* buf = std::aligned_alloc(kPageSize, kPageSize);
      const ssize_t n = buf ? ::pread(fd_, buf, kPageSize, 0) : -1;
      std::free(buf);
      if (n != static_cast<ssize_t>(kPageSize)) {
        ::close(fd_);
        fd_ = -1;
      } else {
        direct_ = true;
      }
    }
#endif
  }
  if (fd_ < 0) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw IoError("cannot open posting file " + path + ": " + os_error(errno));
  }
}

PostingFile::~PostingFile() {
  if (fd_ >= 0) ::close(fd_);
}

void PostingFile::verify_list(size_t i, const uint8_t* bytes) const {
  const PostingList& l = lists_[i];
  const size_t n = static_cast<size_t>(l.count) * header_.entry_bytes;
  if (fast_crc32c(bytes, n) != l.crc)
    throw FileFormatError("posting list " + std::to_string(i) + " of " + path_ + " (at byte " +
                          std::to_string(l.offset) + ", " + std::to_string(l.count) +
                          " entries) is damaged: checksum mismatch; the posting file is corrupted");
}

}  // namespace vidx::spann
