#include "vidx/common/memory_limit.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#if defined(_WIN32)
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace vidx {
namespace memory_limit_detail {
namespace {

constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

// The number in `file` ("max", 0, a missing file or anything else unreadable: no limit; a
// process runs, so its group's limit is not 0).
uint64_t limit_in(const std::string& file) {
  std::ifstream in(file);
  std::string text;
  if (!(in >> text) || text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return kNoLimit;
  try {
    const uint64_t limit = std::stoull(text);
    return limit ? limit : kNoLimit;
  } catch (...) {
    return kNoLimit;
  }
}

// The least limit in `name` of the group at `path` (below `base`) and of each of its ancestors.
uint64_t least_up_the_tree(const std::string& base, std::string path, const std::string& name) {
  uint64_t least = kNoLimit;
  while (true) {
    least = std::min(least, limit_in(base + (path == "/" ? "" : path) + "/" + name));
    if (path.empty() || path == "/") return least;
    const size_t slash = path.rfind('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
}

}  // namespace

uint64_t cgroup_limit(const std::string& groups, const std::string& root) {
  uint64_t least = kNoLimit;
  std::istringstream lines(groups);
  std::string line;
  while (std::getline(lines, line)) {
    // "hierarchy-id:controllers:path"; cgroup v2's line is "0::path".
    const size_t first = line.find(':'), second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    if (path.empty() || path[0] != '/' || path.find("/..") != std::string::npos) continue;  // not a group's path
    if (controllers.empty()) {
      least = std::min(least, least_up_the_tree(root, path, "memory.max"));
    } else {
      std::istringstream names(controllers);
      for (std::string c; std::getline(names, c, ',');)
        if (c == "memory") least = std::min(least, least_up_the_tree(root + "/memory", path, "memory.limit_in_bytes"));
    }
  }
  return least;
}

}  // namespace memory_limit_detail

uint64_t usable_memory() {
#if defined(_WIN32)
  MEMORYSTATUSEX status;
  status.dwLength = sizeof status;
  return GlobalMemoryStatusEx(&status) ? status.ullTotalPhys : uint64_t(8) << 30;
#else
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page = ::sysconf(_SC_PAGESIZE);
  const uint64_t physical =
      pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) : uint64_t(8) << 30;
#if defined(__linux__)
  std::ifstream in("/proc/self/cgroup");
  std::stringstream groups;
  groups << in.rdbuf();
  return std::min(physical, memory_limit_detail::cgroup_limit(groups.str(), "/sys/fs/cgroup"));
#else
  return physical;
#endif
#endif
}

}  // namespace vidx
