"""The C++ example links the installed vidx::core through CMake's find_package and runs."""
import os
import shutil
import subprocess

import pytest

import vidx

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "cpp", "examples")


def test_cpp_example_builds_and_runs(tmp_path):
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    if not os.path.isdir(vidx.cmake_dir()):
        pytest.skip("vidx is not installed with its C++ library (run from an installed package)")
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", EXAMPLES, "-B", str(build), f"-Dvidx_DIR={vidx.cmake_dir()}",
                    "-DCMAKE_BUILD_TYPE=Release"], check=True, capture_output=True)
    subprocess.run(["cmake", "--build", str(build), "-j", "2"], check=True, capture_output=True)
    exe = build / "hnsw_example"
    out = subprocess.run([str(exe), str(tmp_path / "example.vidx")], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip().endswith("ok")
    assert "reload identical yes" in out.stdout
