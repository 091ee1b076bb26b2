"""A SPANN build's default memory budget is half the memory the process may use: the machine's, or a
container's limit (cgroup v2 memory.max, v1 memory.limit_in_bytes, on the process's group or an ancestor).
The C++ check in tests/cpp/memory_limit_check.cpp reads a made-up cgroup tree."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_cgroup_limits_are_read_from_the_group_and_its_ancestors(tmp_path):
    exe = tmp_path / "memory_limit_check"
    subprocess.run([CXX, "-std=c++17", "-O1", "-I", os.path.join(ROOT, "cpp", "include"), "-o", str(exe),
                    os.path.join(ROOT, "tests", "cpp", "memory_limit_check.cpp"),
                    os.path.join(ROOT, "cpp", "src", "common", "memory_limit.cpp")], check=True, capture_output=True)
    out = subprocess.run([str(exe), str(tmp_path / "cgroup")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok ")
