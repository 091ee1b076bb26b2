// Writing a file atomically: `target` holds either its old content or the complete new one,
// never a partial file, even if the process is killed or the machine loses power mid-save.
//
// The new content goes to a temporary file in the same folder, named
//     <target>.vidx-tmp-<pid>-<16 hex digits>
// which is fsynced, renamed over the target, and the folder fsynced. On failure (an exception,
// the writer destroyed without commit) the temporary file is removed. A process killed with
// SIGKILL cannot remove its own; the name records the writer's process id, so the next save
// or load of the same target removes temporary files whose writer is no longer running and
// never those of a live process (including this one). Caveat: process ids are per machine (per
// PID namespace): processes on different hosts or containers sharing one folder may see each
// other's temporary files as stale; do not save one path from several machines at once.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "vidx/io/positional_io.hpp"

namespace vidx::io {

class AtomicFile {
 public:
  // Removes stale temporary files of `target`, then creates a new temporary file for it.
  // IoError when the temporary file cannot be created (missing folder, permissions).
  explicit AtomicFile(std::string target);
  // Removes the temporary file unless commit() succeeded.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // The temporary file, for positional writes (and reads back) before commit().
  File& file() { return file_; }
  void write_at(uint64_t offset, const void* src, size_t n) { file_.write_at(offset, src, n); }

  // flush, close, rename over the target, sync the folder. After an IoError from the folder
  // sync alone, the new file is already in place (but may not survive a power loss).
  void commit();

  const std::string& target() const { return target_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string target_;
  std::string temp_path_;
  File file_;
  InUseMark in_use_;  // held past the rename: clean-ups elsewhere leave the file alone until then
  bool committed_ = false;
};

// The temporary-file name prefix for `target`'s file name: "<name>.vidx-tmp-".
std::string temp_file_prefix(const std::string& target_name);

// A temporary path for `target` ("<target>.vidx-tmp-<pid>-<16 hex>"), for a writer that needs a
// scratch file beside it: once its process is gone, the next save or load of `target` removes it.
std::string temp_path_for(const std::string& target);

// If `name` is a temporary file of the target named `target_name` (or a file named after one,
// "<temporary name>.<anything>"), its writer's process id; otherwise 0.
uint64_t temp_file_writer(const std::string& name, const std::string& target_name);

// Removes the temporary files of `target` whose writer process is no longer running; returns
// how many were removed. Never throws (a folder that cannot be read or written is left as is).
size_t remove_stale_temp_files(const std::string& target) noexcept;

}  // namespace vidx::io
