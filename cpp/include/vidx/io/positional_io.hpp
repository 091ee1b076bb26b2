// The platform layer for file I/O: an open file with positional reads and writes, and the
// few file-system operations vidx needs. Everything operating-system specific in vidx's file
// code goes through here; the POSIX implementation is in cpp/src/io/platform_posix.cpp, the
// Windows one in cpp/src/io/platform_windows.cpp.
//
// Paths are UTF-8 strings on every platform. Errors are IoError (FileNotFound for a missing
// file) with a message that names the operation, the path and the system's reason.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vidx::io {

#ifdef _WIN32
using NativeHandle = void*;  // a Windows HANDLE
#else
using NativeHandle = int;  // a file descriptor
#endif

// One open file. Reads and writes take an explicit offset and never move a shared file
// position, so several threads may read one File at once. Movable, not copyable; the
// destructor closes the file (ignoring errors: call close() to see them).
class File {
 public:
  enum class Access { read, read_write };

  File() = default;
  ~File();
  File(File&& other) noexcept;
  File& operator=(File&& other) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  // Opens an existing regular file. direct = true asks for unbuffered I/O (O_DIRECT,
  // FILE_FLAG_NO_BUFFERING): offsets, sizes and buffers must then be aligned to the device's
  // block size. Where the system or filesystem refuses direct I/O the file is opened buffered;
  // direct() says which one happened.
  // FileNotFound "no such file: <path>"; IoError for other failures, a directory included.
  static File open_existing(const std::string& path, Access access = Access::read, bool direct = false);

  // Creates a file that must not exist yet (exclusive create), opened for reading and writing.
  // IoError when it exists or cannot be created.
  static File create_new(const std::string& path);

  bool is_open() const { return handle_ != kInvalid; }
  bool direct() const { return direct_; }
  const std::string& path() const { return path_; }
  // For code that must call the system itself (asynchronous reads); owned by this File.
  NativeHandle native_handle() const { return handle_; }

  // Reads up to n bytes at `offset`, retrying short reads and interrupted calls; returns fewer
  // than n only at end of file.
  size_t read_at(uint64_t offset, void* dst, size_t n) const;
  // Reads exactly n bytes at `offset`; IoError naming the offset when the file ends first.
  void read_exact_at(uint64_t offset, void* dst, size_t n) const;
  // Writes all n bytes at `offset`, retrying short writes and interrupted calls.
  void write_at(uint64_t offset, const void* src, size_t n);

  uint64_t size() const;
  // Sets the file's length; bytes added read as zeros.
  void resize(uint64_t size);
  // Makes written data durable (fsync; F_FULLFSYNC on macOS; FlushFileBuffers on Windows).
  void flush();
  // Closes the file, reporting an error the system deferred until close. Safe to repeat.
  void close();
  // Takes an advisory exclusive lock on the whole file, held until it is closed, without
  // waiting: false when another open of the file (in this process or another) holds one. True
  // where the filesystem has no locks to take: writers there are not kept apart.
  bool try_lock_exclusive();
  // Whether `path` names this open file now; false when it names another file (this one was
  // renamed over), true when nothing is there or that cannot be told (Windows).
  bool still_at(const std::string& path) const;

 private:
#ifdef _WIN32
  static constexpr NativeHandle kInvalid = nullptr;  // open() maps INVALID_HANDLE_VALUE to this
#else
  static constexpr NativeHandle kInvalid = -1;
#endif
  File(NativeHandle handle, std::string path, bool direct) : handle_(handle), path_(std::move(path)), direct_(direct) {}
  void release() noexcept;

  NativeHandle handle_ = kInvalid;
  std::string path_;
  bool direct_ = false;
};

// ---- file-system operations --------------------------------------------------------------

// Renames `from` over `to` in one step: a reader of `to` sees the old file or the new one.
// Both must be in the same folder (or at least on the same filesystem).
void replace_file(const std::string& from, const std::string& to);

// Gives `file` (a new file about to replace `target`) the permission bits and, where this
// process may, the owner and group of `target`, so that replacing a file the user made private
// (mode 600) does not make it readable to all. Nothing where `target` does not exist (a new file
// keeps the umask's mode) or on Windows (a new file takes its folder's ACL).
void keep_permissions_of(const std::string& target, File& file);

// The file a save to `path` should replace. A symbolic link is followed to the file it names
// (as writing through open() would), so the link still names the saved index instead of being
// replaced by it. IoError where that file exists but is not a regular file: renaming over a
// folder, a device (/dev/null) or a pipe would replace the node itself.
std::string resolve_save_target(const std::string& path);

// Makes a completed rename in `dir` durable. A no-op where the system has no such operation
// (Windows: replace_file writes through) or the filesystem does not support it.
void sync_directory(const std::string& dir);

// Removes a file; false (and no exception) when it could not be removed.
bool remove_file(const std::string& path) noexcept;

// Creates `path` as an empty file unless something is there already (false then): the name is
// then the caller's, even against another process creating it at the same moment. IoError for
// any other failure (a missing folder, no permission).
bool create_empty_file(const std::string& path);

// The names (not paths) of the entries of `dir`, "." and ".." excluded; empty when the folder
// cannot be read.
std::vector<std::string> list_directory(const std::string& dir) noexcept;

// The folder part of a path ("." for a bare name) and the last component.
std::string directory_of(const std::string& path);
std::string file_name_of(const std::string& path);

uint64_t current_process_id() noexcept;
// False only when the system says no process with this id exists on this machine; true when
// it exists or the answer is unknown (so callers that delete a dead process's files stay safe).
bool process_may_be_alive(uint64_t pid) noexcept;

// A shared advisory lock (flock) a writer holds on its temporary file for as long as the file
// is its, so that a clean-up which cannot see the writer's process still leaves the file alone:
// from another PID namespace (a second container on the same volume) kill(pid, 0) reports a
// running writer as gone. Nothing where the lock cannot be taken (a filesystem without flock;
// Windows, where a file in use cannot be deleted anyway).
class InUseMark {
 public:
  InUseMark() = default;
  explicit InUseMark(const std::string& path) noexcept;
  InUseMark(InUseMark&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  InUseMark& operator=(InUseMark&& other) noexcept;
  InUseMark(const InUseMark&) = delete;
  InUseMark& operator=(const InUseMark&) = delete;
  ~InUseMark();

 private:
  int fd_ = -1;
};

// True when a process holds an InUseMark on `path`; false when none does or that cannot be told.
bool marked_in_use(const std::string& path) noexcept;

}  // namespace vidx::io
