// cgroup memory limits read from a made-up /sys/fs/cgroup tree (vidx/common/memory_limit.hpp):
// v2 and v1 files, a limit on an ancestor group, "max", unreadable text, no group at all.
// Prints "ok <checks>" or the first mismatch.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "vidx/common/memory_limit.hpp"

namespace fs = std::filesystem;
using vidx::memory_limit_detail::cgroup_limit;

int checks = 0;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file) << text;
}

bool expect(const char* what, uint64_t got, uint64_t want) {
  ++checks;
  if (got == want) return true;
  std::printf("MISMATCH %s: got %llu, want %llu\n", what, static_cast<unsigned long long>(got),
              static_cast<unsigned long long>(want));
  return false;
}

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "vidx_memory_limit_check";
  fs::remove_all(root);
  const uint64_t none = std::numeric_limits<uint64_t>::max();
  bool ok = true;
  // cgroup v2: the process's group says max, its parent 4 GiB.
  write(root / "v2/app/job/memory.max", "max\n");
  write(root / "v2/app/memory.max", "4294967296\n");
  ok &= expect("v2 ancestor", cgroup_limit("0::/app/job\n", (root / "v2").string()), uint64_t(4) << 30);
  // A limit at the root of a namespaced tree ("/" names it).
  write(root / "v2ns/memory.max", "1073741824\n");
  ok &= expect("v2 namespace root", cgroup_limit("0::/\n", (root / "v2ns").string()), uint64_t(1) << 30);
  // cgroup v1: the memory controller's own line; other controllers' lines ignored.
  write(root / "v1/memory/docker/abc/memory.limit_in_bytes", "2147483648\n");
  write(root / "v1/memory/memory.limit_in_bytes", "9223372036854771712\n");
  ok &= expect("v1", cgroup_limit("12:pids:/docker/abc\n4:memory:/docker/abc\n", (root / "v1").string()),
               uint64_t(2) << 30);
  ok &= expect("v1 cpu,memory", cgroup_limit("3:cpu,memory:/docker/abc\n", (root / "v1").string()), uint64_t(2) << 30);
  // Nothing set, text that is not a number, no such group, an empty file.
  write(root / "v2bad/memory.max", "lots\n");
  ok &= expect("not a number", cgroup_limit("0::/\n", (root / "v2bad").string()), none);
  ok &= expect("missing group", cgroup_limit("0::/nowhere\n", (root / "v2").string()), none);
  ok &= expect("no text", cgroup_limit("", (root / "v2").string()), none);
  // A limit of 0 (no process could run under it) and paths that climb out of the tree are ignored.
  write(root / "v2zero/memory.max", "0\n");
  ok &= expect("zero", cgroup_limit("0::/\n", (root / "v2zero").string()), none);
  write(root / "memory.max", "1024\n");
  ok &= expect("a path with ..", cgroup_limit("0::/..\n", (root / "v2zero").string()), none);
  ok &= expect("usable memory is positive", vidx::usable_memory() > 0 ? 1 : 0, 1);
  fs::remove_all(root);
  if (!ok) return 1;
  std::printf("ok %d checks\n", checks);
  return 0;
}
