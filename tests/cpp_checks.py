"""Builds and runs the standalone C++ checks in tests/cpp: each is compiled against the public
headers (and any library sources it names) and prints "ok ..." when everything agrees."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
needs_compiler = pytest.mark.skipif(CXX is None, reason="no C++ compiler")


def run_check(tmp_path, check, library_sources=(), args=()):
    """Compiles tests/cpp/<check>.cpp (with cpp/src/<source> for each library source) and runs it
    with `args`; fails the test unless it exits 0 printing "ok"."""
    exe = tmp_path / check
    sources = [os.path.join(ROOT, "tests", "cpp", check + ".cpp")]
    sources += [os.path.join(ROOT, "cpp", "src", s) for s in library_sources]
    subprocess.run([CXX, "-std=c++17", "-O1", "-I", os.path.join(ROOT, "cpp", "include"), "-o", str(exe), *sources],
                   check=True, capture_output=True)
    out = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok "), out.stdout
    return out.stdout
