// How much memory this process may use: the machine's physical memory, or less where a control
// group limits the process (a container's memory limit). SPANN builds default their memory
// budget to half of it: half the host's memory inside a 4 GiB container assembled posting
// files far past the container's limit (graph.md section 50).
#pragma once
#include <cstdint>
#include <string>

namespace vidx {

uint64_t usable_memory();

namespace memory_limit_detail {
// The least memory limit of the control groups that `groups` (the text of /proc/self/cgroup)
// names and their ancestors, read under `root` (normally /sys/fs/cgroup): cgroup v2's
// memory.max, v1's memory/.../memory.limit_in_bytes. UINT64_MAX where none is set or readable.
uint64_t cgroup_limit(const std::string& groups, const std::string& root);
}  // namespace memory_limit_detail

}  // namespace vidx
