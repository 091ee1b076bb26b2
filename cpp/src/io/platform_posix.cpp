// POSIX implementation of the file platform layer (Linux, macOS, the BSDs).
#ifndef _WIN32

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <system_error>

#include "vidx/common/error.hpp"
#include "vidx/io/mapped_file.hpp"
#include "vidx/io/positional_io.hpp"

// Index files are routinely larger than 2 GiB; a 32-bit off_t would silently wrap offsets.
static_assert(sizeof(off_t) >= 8, "vidx needs 64-bit file offsets (build with -D_FILE_OFFSET_BITS=64)");

namespace vidx::io {
namespace {

// One read()/write() call moves at most this much: macOS rejects counts above INT_MAX. A
// multiple of every block size, so direct I/O stays aligned across calls.
constexpr size_t kMaxIoBytes = size_t(1) << 30;

std::string reason(int err) { return std::generic_category().message(err); }

[[noreturn]] void fail(const std::string& what, const std::string& path, int err) {
  throw IoError("cannot " + what + " " + path + ": " + reason(err));
}

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

int open_retrying(const char* path, int flags, mode_t mode = 0) {
  int fd;
  do fd = ::open(path, flags, mode);
  while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

void File::release() noexcept {
  if (handle_ != kInvalid) ::close(handle_);
  handle_ = kInvalid;
}

File File::open_existing(const std::string& path, Access access, bool direct) {
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever, before the check below
  // could refuse it. It changes nothing for regular files, and is cleared once one is open.
  const int flags = (access == Access::read ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK;
  int fd = -1;
  bool opened_direct = false;
#ifdef O_DIRECT
  if (direct) {
    fd = open_retrying(path.c_str(), flags | O_DIRECT);
    opened_direct = fd >= 0;
    if (fd < 0 && errno != EINVAL) fd = -2;  // a real failure, reported below; EINVAL: no O_DIRECT here
  }
#endif
  if (fd == -1) fd = open_retrying(path.c_str(), flags);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) throw FileNotFound("no such file: " + path);
    fail("open", path, err);
  }
  File f(fd, path, opened_direct);
  struct stat st;
  if (::fstat(fd, &st) != 0) fail("stat", path, errno);
  if (S_ISDIR(st.st_mode)) fail("read", path, EISDIR);
  if (!S_ISREG(st.st_mode)) throw IoError("cannot read " + path + ": not a regular file");
  const int status = ::fcntl(fd, F_GETFL);
  if (status == -1 || ::fcntl(fd, F_SETFL, status & ~O_NONBLOCK) == -1) fail("fcntl", path, errno);
  return f;
}

File File::create_new(const std::string& path) {
  const int fd = open_retrying(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) fail("create", path, errno);
  return File(fd, path, false);
}

size_t File::read_at(uint64_t offset, void* dst, size_t n) const {
  auto* p = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(handle_, p + done, std::min(n - done, kMaxIoBytes), static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail("read", path_, errno);
    }
    if (r == 0) break;  // end of file
    done += static_cast<size_t>(r);
  }
  return done;
}

void File::write_at(uint64_t offset, const void* src, size_t n) {
  const auto* p = static_cast<const unsigned char*>(src);
  while (n > 0) {
    const ssize_t w = ::pwrite(handle_, p, std::min(n, kMaxIoBytes), static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write", path_, errno);
    }
    if (w == 0) fail("write", path_, ENOSPC);  // no progress and no error: treat as full
    p += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
}

uint64_t File::size() const {
  struct stat st;
  if (::fstat(handle_, &st) != 0) fail("stat", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

bool File::still_at(const std::string& path) const {
  struct stat open_file, named;
  if (::fstat(handle_, &open_file) != 0 || ::stat(path.c_str(), &named) != 0) return true;
  return open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

void File::resize(uint64_t size) {
  int rc;
  do rc = ::ftruncate(handle_, static_cast<off_t>(size));
  while (rc != 0 && errno == EINTR);
  if (rc != 0) fail("resize", path_, errno);
}

void File::flush() {
  if (sync_fd(handle_) != 0) fail("fsync", path_, errno);
}

void File::close() {
  if (handle_ == kInvalid) return;
  const int fd = handle_;
  handle_ = kInvalid;
  // close() can report a deferred write error (NFS); EINTR still closes the descriptor.
  if (::close(fd) != 0 && errno != EINTR) fail("close", path_, errno);
}

bool File::try_lock_exclusive() {
  // flock, not fcntl: its lock belongs to this open file, so two opens in one process exclude
  // each other as two processes do.
  int rc;
  do rc = ::flock(handle_, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc == 0) return true;
  if (errno == EWOULDBLOCK) return false;
  if (errno == ENOLCK || errno == EOPNOTSUPP || errno == ENOSYS) return true;
  fail("lock", path_, errno);
}

void replace_file(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0) fail("rename " + from + " to", to, errno);
}

void keep_permissions_of(const std::string& target, File& file) {
  struct stat st;
  if (::stat(target.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    fail("stat", target, errno);
  }
  const int fd = file.native_handle();
  // The owner first: changing it may clear set-id bits that the mode below puts back.
  if ((st.st_uid != ::geteuid() || st.st_gid != ::getegid()) && ::fchown(fd, st.st_uid, st.st_gid) != 0 &&
      errno != EPERM)
    fail("set the owner of", target, errno);  // EPERM: not ours to give away; the mode still holds
  if (::fchmod(fd, st.st_mode & 07777) != 0) fail("set the permissions of", target, errno);
}

std::string resolve_save_target(const std::string& path) {
  std::string target = path;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (::lstat(target.c_str(), &st) != 0) {
      if (errno == ENOENT) return target;  // a new file (or the missing file a link names)
      fail("stat", target, errno);
    }
    if (S_ISREG(st.st_mode)) return target;
    if (!S_ISLNK(st.st_mode))
      throw IoError("cannot save to " + target + ": it is " +
                    (S_ISDIR(st.st_mode) ? "a folder" : "not a regular file (a device, pipe or socket)") +
                    "; give the path of an index file");
    if (hops == 40) fail("follow the links of", path, ELOOP);
    std::string link(static_cast<size_t>(st.st_size > 0 ? st.st_size : 255) + 1, '\0');
    const ssize_t n = ::readlink(target.c_str(), &link[0], link.size());
    if (n < 0) fail("read the link", target, errno);
    link.resize(static_cast<size_t>(n));
    // A relative link is relative to the folder that holds it.
    target = (link.front() == '/' || directory_of(target) == ".") ? link : directory_of(target) + "/" + link;
  }
}

void sync_directory(const std::string& dir) {
  const int dfd = open_retrying(dir.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (dfd < 0) {
    // A folder we may write but not read (mode -wx) cannot be opened; the file is in place,
    // so that is not worth failing the save for.
    if (errno == EACCES) return;
    fail("open directory", dir, errno);
  }
  const int rc = sync_fd(dfd);
  const int err = errno;
  ::close(dfd);
  // Some filesystems do not support fsync on folders; nothing more can be done there.
  if (rc != 0 && err != EINVAL && err != ENOTSUP && err != EOPNOTSUPP) fail("fsync directory", dir, err);
}

bool remove_file(const std::string& path) noexcept { return ::unlink(path.c_str()) == 0; }

bool create_empty_file(const std::string& path) {
  const int fd = open_retrying(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd >= 0) return ::close(fd), true;
  if (errno == EEXIST) return false;
  fail("create", path, errno);
}

std::vector<std::string> list_directory(const std::string& dir) noexcept {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return names;
  try {
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
  } catch (...) {  // out of memory: report what was listed so far
  }
  ::closedir(d);
  return names;
}

std::string directory_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string file_name_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

uint64_t current_process_id() noexcept { return static_cast<uint64_t>(::getpid()); }

bool process_may_be_alive(uint64_t pid) noexcept {
  const auto id = static_cast<pid_t>(pid);
  if (id <= 0 || static_cast<uint64_t>(id) != pid) return true;  // not a valid id here: do not judge
  // Signal 0 checks existence only. EPERM: it exists but belongs to another user.
  return ::kill(id, 0) == 0 || errno != ESRCH;
}

InUseMark::InUseMark(const std::string& path) noexcept {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return;
  int rc;
  do rc = ::flock(fd_, LOCK_SH | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  if (rc != 0) {  // no flock here: the clean-up falls back to the process id alone
    ::close(fd_);
    fd_ = -1;
  }
}

InUseMark& InUseMark::operator=(InUseMark&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

InUseMark::~InUseMark() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases its lock
}

bool marked_in_use(const std::string& path) noexcept {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int rc;
  do rc = ::flock(fd, LOCK_EX | LOCK_NB);
  while (rc != 0 && errno == EINTR);
  const bool held = rc != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

// ---- MappedFile -------------------------------------------------------------------------

MappedFile MappedFile::map(const std::string& path) {
  const File file = File::open_existing(path);
  const uint64_t size = file.size();
  if (size > uint64_t{std::numeric_limits<size_t>::max()}) throw IoError("cannot map " + path + ": file too large for this platform");
  MappedFile m;
  m.path_ = path;
  if (size == 0) return m;
  // Writable but private: see mapped_file.hpp. The descriptor may be closed once mapped.
  void* p = ::mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_PRIVATE, file.native_handle(), 0);
  if (p == MAP_FAILED) fail("map", path, errno);
  m.data_ = static_cast<uint8_t*>(p);
  m.size_ = static_cast<size_t>(size);
  return m;
}

void MappedFile::advise_random(size_t offset, size_t n) const noexcept {
#if defined(POSIX_MADV_RANDOM) || defined(MADV_RANDOM)
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  if (!data_ || offset >= size_ || page == 0) return;
  const size_t begin = offset / page * page;  // madvise wants a page-aligned start
  const size_t end = std::min(size_, offset + n);
#ifdef MADV_RANDOM
  ::madvise(data_ + begin, end - begin, MADV_RANDOM);
#else
  ::posix_madvise(data_ + begin, end - begin, POSIX_MADV_RANDOM);
#endif
#else
  (void)offset;
  (void)n;
#endif
}

void MappedFile::advise_willneed(size_t offset, size_t n) const noexcept {
#ifdef MADV_WILLNEED
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  if (!data_ || offset >= size_ || page == 0) return;
  const size_t begin = offset / page * page;
  const size_t end = std::min(size_, offset + n);
  ::madvise(data_ + begin, end - begin, MADV_WILLNEED);
#else
  (void)offset;
  (void)n;
#endif
}

void MappedFile::release() noexcept {
  if (data_) ::munmap(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace vidx::io

#endif  // !_WIN32
