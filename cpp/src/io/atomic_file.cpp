// Atomic file replacement and the cleanup of temporary files left by killed writers; the
// protocol is described in atomic_file.hpp. Portable: system calls go through positional_io.
#include "vidx/io/atomic_file.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>

#include "vidx/common/error.hpp"

namespace vidx::io {
namespace {

constexpr const char* kTempMarker = ".vidx-tmp-";
constexpr size_t kRandomDigits = 16;
constexpr int kCreateAttempts = 16;

// 64 bits that differ between calls, threads and processes. They only have to make a
// collision unlikely: the file is created exclusively and a collision simply retries.
uint64_t unique_bits() {
  static std::atomic<uint64_t> counter{0};
  uint64_t x = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  x ^= (counter.fetch_add(1, std::memory_order_relaxed) + 1) * 0x9E3779B97F4A7C15ull;
  x ^= reinterpret_cast<uintptr_t>(&x);  // differs between threads and, with ASLR, processes
  // splitmix64 finaliser: spreads the bits so the suffix looks random.
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string make_temp_path(const std::string& target) {
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, "%llu-%016llx", static_cast<unsigned long long>(current_process_id()),
                static_cast<unsigned long long>(unique_bits()));
  return target + kTempMarker + suffix;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

}  // namespace

std::string temp_file_prefix(const std::string& target_name) { return target_name + kTempMarker; }

std::string temp_path_for(const std::string& target) { return make_temp_path(target); }

uint64_t temp_file_writer(const std::string& name, const std::string& target_name) {
  const std::string prefix = temp_file_prefix(target_name);
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
  // The rest must be exactly "<decimal pid>-<16 hex digits>".
  size_t i = prefix.size();
  uint64_t pid = 0;
  const size_t digits_begin = i;
  while (i < name.size() && is_digit(name[i]) && i - digits_begin < 19) pid = pid * 10 + uint64_t(name[i++] - '0');
  if (i == digits_begin || i >= name.size() || name[i] != '-') return 0;
  ++i;
  // Then 16 hex digits, and either the end of the name or a '.' and anything: a file made from
  // the temporary name by the same writer (the temporary file of a save to a temporary path).
  if (name.size() - i < kRandomDigits) return 0;
  for (const size_t end = i + kRandomDigits; i < end; ++i)
    if (!is_hex_digit(name[i])) return 0;
  if (i != name.size() && name[i] != '.') return 0;
  return pid;
}

size_t remove_stale_temp_files(const std::string& target) noexcept {
  size_t removed = 0;
  try {
    const std::string dir = directory_of(target);
    const std::string target_name = file_name_of(target);
    const uint64_t self = current_process_id();
    for (const std::string& name : list_directory(dir)) {
      const uint64_t writer = temp_file_writer(name, target_name);
      // Our own process's files may belong to a save running on another thread.
      if (writer == 0 || writer == self || process_may_be_alive(writer)) continue;
      const std::string path = dir == "." ? name : (dir.back() == '/' || dir.back() == '\\' ? dir + name : dir + "/" + name);
      if (marked_in_use(path)) continue;  // a writer this process cannot see (another PID namespace)
      if (remove_file(path)) ++removed;
    }
  } catch (...) {  // cleanup is a courtesy: never let it fail a save or load
  }
  return removed;
}

AtomicFile::AtomicFile(std::string target) : target_(resolve_save_target(target)) {
  remove_stale_temp_files(target_);
  for (int attempt = 1;; ++attempt) {
    temp_path_ = make_temp_path(target_);
    try {
      file_ = File::create_new(temp_path_);
      in_use_ = InUseMark(temp_path_);
      return;
    } catch (const IoError&) {
      // A name collision (or a transient failure) retries with a new name; a persistent
      // failure such as a missing folder is reported after the last attempt.
      if (attempt == kCreateAttempts) throw;
    }
  }
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  file_ = File();  // closes the temporary file (Windows cannot delete an open one)
  remove_file(temp_path_);
}

void AtomicFile::commit() {
  keep_permissions_of(target_, file_);
  file_.flush();
  file_.close();
  replace_file(temp_path_, target_);
  in_use_ = InUseMark();  // the temporary name is gone: the target is not ours to mark
  committed_ = true;
  sync_directory(directory_of(target_));
}

}  // namespace vidx::io
