"""CRC-32C gives the published values on both of its paths: the SSE4.2 instruction (when this
CPU has it) and the portable software. The C++ check in tests/cpp/crc32c_check.cpp is built
twice, once as the library builds it and once with the hardware path compiled out."""
import os
import platform
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")


def cpu_has_sse42():
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            return " sse4_2" in f.read()
    except OSError:
        return False


def run_check(tmp_path, *defines):
    exe = tmp_path / "crc32c_check"
    subprocess.run([CXX, "-std=c++17", "-O1", *defines, "-I", os.path.join(ROOT, "cpp", "include"), "-o", str(exe),
                    os.path.join(ROOT, "tests", "cpp", "crc32c_check.cpp"),
                    os.path.join(ROOT, "cpp", "src", "io", "crc32c.cpp")], check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout.strip()


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_crc32c_known_vectors_as_the_library_builds_it(tmp_path):
    out = run_check(tmp_path)
    assert out.startswith("ok")
    if cpu_has_sse42() and platform.system() == "Linux":
        assert out == "ok hardware=1"  # the check ran the SSE4.2 path


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_crc32c_known_vectors_in_software(tmp_path):
    assert run_check(tmp_path, "-DVIDX_CRC32C_SOFTWARE_ONLY") == "ok hardware=0"
