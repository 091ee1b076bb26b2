// Windows implementation of the file platform layer. Kept small and literal: each operation
// is the one documented Win32 call for it (ReadFile/WriteFile with an OVERLAPPED offset for
// positional I/O, FlushFileBuffers, MoveFileExW with write-through for atomic replacement).
#ifdef _WIN32

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <algorithm>
#include <limits>
#include <system_error>

#include "vidx/common/error.hpp"
#include "vidx/io/mapped_file.hpp"
#include "vidx/io/positional_io.hpp"

namespace vidx::io {
namespace {

// ReadFile/WriteFile take a DWORD count; stay well below it (and a multiple of any sector size).
constexpr size_t kMaxIoBytes = size_t(1) << 30;

std::string reason(DWORD err) { return std::system_category().message(static_cast<int>(err)); }

[[noreturn]] void fail(const std::string& what, const std::string& path, DWORD err) {
  throw IoError("cannot " + what + " " + path + ": " + reason(err));
}

// vidx paths are UTF-8; the wide Win32 calls take UTF-16.
std::wstring widen(const std::string& s) {
  if (s.empty()) return std::wstring();
  const int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), static_cast<int>(s.size()), nullptr, 0);
  if (n <= 0) throw IoError("invalid UTF-8 in path " + s);
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s.data(), static_cast<int>(s.size()), &w[0], n);
  return w;
}

std::string narrow(const wchar_t* w) {
  const int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return std::string();
  std::string s(static_cast<size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, -1, &s[0], n, nullptr, nullptr);
  return s;
}

OVERLAPPED at_offset(uint64_t offset) {
  OVERLAPPED ov = {};
  ov.Offset = static_cast<DWORD>(offset & 0xFFFFFFFFu);
  ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
  return ov;
}

size_t last_separator(const std::string& path) { return path.find_last_of("/\\"); }

}  // namespace

void File::release() noexcept {
  if (handle_ != kInvalid) CloseHandle(handle_);
  handle_ = kInvalid;
}

File File::open_existing(const std::string& path, Access access, bool direct) {
  const DWORD rights = access == Access::read ? GENERIC_READ : (GENERIC_READ | GENERIC_WRITE);
  // Others may read, write and rename the file while we hold it, as on POSIX.
  const DWORD share = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;
  const std::wstring wpath = widen(path);
  HANDLE h = INVALID_HANDLE_VALUE;
  if (direct)
    h = CreateFileW(wpath.c_str(), rights, share, nullptr, OPEN_EXISTING, FILE_FLAG_NO_BUFFERING, nullptr);
  const bool opened_direct = h != INVALID_HANDLE_VALUE;
  if (h == INVALID_HANDLE_VALUE)
    h = CreateFileW(wpath.c_str(), rights, share, nullptr, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    const DWORD err = GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) throw FileNotFound("no such file: " + path);
    fail("open", path, err);
  }
  File f(h, path, opened_direct);
  if (GetFileType(h) != FILE_TYPE_DISK) throw IoError("cannot read " + path + ": not a regular file");
  return f;
}

File File::create_new(const std::string& path) {
  HANDLE h = CreateFileW(widen(path).c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE,
                         nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) fail("create", path, GetLastError());
  return File(h, path, false);
}

size_t File::read_at(uint64_t offset, void* dst, size_t n) const {
  auto* p = static_cast<unsigned char*>(dst);
  size_t done = 0;
  while (done < n) {
    OVERLAPPED ov = at_offset(offset + done);
    DWORD got = 0;
    if (!ReadFile(handle_, p + done, static_cast<DWORD>(std::min(n - done, kMaxIoBytes)), &got, &ov)) {
      const DWORD err = GetLastError();
      if (err == ERROR_HANDLE_EOF) break;
      fail("read", path_, err);
    }
    if (got == 0) break;  // end of file
    done += got;
  }
  return done;
}

void File::write_at(uint64_t offset, const void* src, size_t n) {
  const auto* p = static_cast<const unsigned char*>(src);
  while (n > 0) {
    OVERLAPPED ov = at_offset(offset);
    DWORD put = 0;
    if (!WriteFile(handle_, p, static_cast<DWORD>(std::min(n, kMaxIoBytes)), &put, &ov))
      fail("write", path_, GetLastError());
    if (put == 0) fail("write", path_, ERROR_DISK_FULL);
    p += put;
    n -= put;
    offset += put;
  }
}

uint64_t File::size() const {
  LARGE_INTEGER s;
  if (!GetFileSizeEx(handle_, &s)) fail("stat", path_, GetLastError());
  return static_cast<uint64_t>(s.QuadPart);
}

bool File::still_at(const std::string& path) const {
  HANDLE named = CreateFileW(widen(path).c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                             OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, nullptr);
  if (named == INVALID_HANDLE_VALUE) return true;
  BY_HANDLE_FILE_INFORMATION a, b;
  const bool told = GetFileInformationByHandle(handle_, &a) && GetFileInformationByHandle(named, &b);
  CloseHandle(named);
  return !told || (a.dwVolumeSerialNumber == b.dwVolumeSerialNumber && a.nFileIndexHigh == b.nFileIndexHigh &&
                   a.nFileIndexLow == b.nFileIndexLow);
}

void File::resize(uint64_t size) {
  FILE_END_OF_FILE_INFO eof = {};
  eof.EndOfFile.QuadPart = static_cast<LONGLONG>(size);
  if (!SetFileInformationByHandle(handle_, FileEndOfFileInfo, &eof, sizeof eof)) fail("resize", path_, GetLastError());
}

void File::flush() {
  if (!FlushFileBuffers(handle_)) fail("flush", path_, GetLastError());
}

void File::close() {
  if (handle_ == kInvalid) return;
  HANDLE h = handle_;
  handle_ = kInvalid;
  if (!CloseHandle(h)) fail("close", path_, GetLastError());
}

bool File::try_lock_exclusive() {
  OVERLAPPED at = {};
  if (LockFileEx(handle_, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, MAXDWORD, MAXDWORD, &at)) return true;
  const DWORD err = GetLastError();
  if (err == ERROR_LOCK_VIOLATION || err == ERROR_IO_PENDING) return false;
  if (err == ERROR_NOT_SUPPORTED || err == ERROR_INVALID_FUNCTION) return true;
  fail("lock", path_, err);
}

void replace_file(const std::string& from, const std::string& to) {
  // WRITE_THROUGH: returns only once the rename is on disk, so no folder sync is needed.
  if (!MoveFileExW(widen(from).c_str(), widen(to).c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
    fail("rename " + from + " to", to, GetLastError());
}

std::string resolve_save_target(const std::string& path) {
  // MoveFileEx replaces a link itself, as rename does on POSIX; folders are refused here.
  const DWORD attributes = GetFileAttributesW(widen(path).c_str());
  if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY))
    throw IoError("cannot save to " + path + ": it is a folder; give the path of an index file");
  return path;
}

void keep_permissions_of(const std::string&, File&) {}  // the new file takes its folder's ACL

void sync_directory(const std::string&) {}  // replace_file wrote through

bool remove_file(const std::string& path) noexcept {
  try {
    return DeleteFileW(widen(path).c_str()) != 0;
  } catch (...) {
    return false;
  }
}

bool create_empty_file(const std::string& path) {
  HANDLE h = CreateFileW(widen(path).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h != INVALID_HANDLE_VALUE) return CloseHandle(h), true;
  const DWORD err = GetLastError();
  if (err == ERROR_FILE_EXISTS || err == ERROR_ALREADY_EXISTS) return false;
  fail("create", path, err);
}

std::vector<std::string> list_directory(const std::string& dir) noexcept {
  std::vector<std::string> names;
  try {
    WIN32_FIND_DATAW entry;
    HANDLE h = FindFirstFileW(widen(dir + "\\*").c_str(), &entry);
    if (h == INVALID_HANDLE_VALUE) return names;
    do {
      const std::string name = narrow(entry.cFileName);
      if (name != "." && name != "..") names.push_back(name);
    } while (FindNextFileW(h, &entry));
    FindClose(h);
  } catch (...) {  // out of memory or a bad path: report what was listed so far
  }
  return names;
}

std::string directory_of(const std::string& path) {
  const size_t sep = last_separator(path);
  if (sep == std::string::npos) return ".";
  if (sep == 0 || (sep == 2 && path[1] == ':')) return path.substr(0, sep + 1);  // "\" or "C:\"
  return path.substr(0, sep);
}

std::string file_name_of(const std::string& path) {
  const size_t sep = last_separator(path);
  return sep == std::string::npos ? path : path.substr(sep + 1);
}

uint64_t current_process_id() noexcept { return GetCurrentProcessId(); }

// A file open here cannot be deleted by another process: the mark needs no lock.
InUseMark::InUseMark(const std::string&) noexcept {}
InUseMark& InUseMark::operator=(InUseMark&& other) noexcept {
  fd_ = other.fd_;
  other.fd_ = -1;
  return *this;
}
InUseMark::~InUseMark() = default;
bool marked_in_use(const std::string&) noexcept { return false; }

bool process_may_be_alive(uint64_t pid) noexcept {
  if (pid > 0xFFFFFFFFu) return true;
  HANDLE h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, static_cast<DWORD>(pid));
  if (!h) return GetLastError() != ERROR_INVALID_PARAMETER;  // that error means: no such process
  const bool running = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
  CloseHandle(h);
  return running;
}

// ---- MappedFile -------------------------------------------------------------------------

MappedFile MappedFile::map(const std::string& path) {
  const File file = File::open_existing(path);
  const uint64_t size = file.size();
  if (size > uint64_t{std::numeric_limits<size_t>::max()})
    throw IoError("cannot map " + path + ": file too large for this platform");
  MappedFile m;
  m.path_ = path;
  if (size == 0) return m;
  // Copy-on-write (PAGE_WRITECOPY / FILE_MAP_COPY): see mapped_file.hpp. The view keeps the
  // file open on its own, so the File and the mapping handle may close once it exists.
  HANDLE mapping = CreateFileMappingW(file.native_handle(), nullptr, PAGE_WRITECOPY, 0, 0, nullptr);
  if (!mapping) fail("map", path, GetLastError());
  void* p = MapViewOfFile(mapping, FILE_MAP_COPY, 0, 0, static_cast<SIZE_T>(size));
  if (!p) {
    const DWORD err = GetLastError();
    CloseHandle(mapping);
    fail("map", path, err);
  }
  m.data_ = static_cast<uint8_t*>(p);
  m.size_ = static_cast<size_t>(size);
  m.mapping_ = mapping;
  return m;
}

void MappedFile::advise_random(size_t, size_t) const noexcept {}  // Windows has no such hint for views
void MappedFile::advise_willneed(size_t, size_t) const noexcept {}  // (PrefetchVirtualMemory would do; not needed yet)

void MappedFile::release() noexcept {
  if (data_) UnmapViewOfFile(data_);
  if (mapping_) CloseHandle(static_cast<HANDLE>(mapping_));
  data_ = nullptr;
  size_ = 0;
  mapping_ = nullptr;
}

}  // namespace vidx::io

#endif  // _WIN32
