"""A SPANN build's default memory budget is half the memory the process may use: the machine's, or a
container's limit (cgroup v2 memory.max, v1 memory.limit_in_bytes, on the process's group or an ancestor).
The C++ check in tests/cpp/memory_limit_check.cpp reads a made-up cgroup tree."""
from cpp_checks import needs_compiler, run_check


@needs_compiler
def test_cgroup_limits_are_read_from_the_group_and_its_ancestors(tmp_path):
    run_check(tmp_path, "memory_limit_check", ["common/memory_limit.cpp"], [str(tmp_path / "cgroup")])
