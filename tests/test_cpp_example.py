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


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))


def configure_parent(tmp_path, *options):
    """Configures (only) a project that adds this source tree with add_subdirectory; returns what
    its install would do for vidx (the subdirectory's generated install script)."""
    parent = tmp_path / "parent"
    parent.mkdir(parents=True)
    (parent / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.18)\n"
        "project(parent LANGUAGES CXX)\n"
        f'add_subdirectory("{ROOT}" vidx)\n'
        "add_executable(app main.cpp)\n"
        "target_link_libraries(app PRIVATE vidx::core)\n"
        "install(TARGETS app DESTINATION bin)\n")
    (parent / "main.cpp").write_text("int main() { return 0; }\n")
    build = tmp_path / "build"
    subprocess.run(["cmake", "-S", str(parent), "-B", str(build), "-DVIDX_CUDA=OFF", *options],
                   check=True, capture_output=True)
    return (build / "vidx" / "cmake_install.cmake").read_text()


def test_a_parent_project_does_not_install_vidx_unless_asked(tmp_path):
    # add_subdirectory brought vidx's install rules (static library, headers, CMake package) into
    # the parent's `cmake --install`; a project embedding vidx ships its own targets only.
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    assert "vidxTargets" not in configure_parent(tmp_path / "default")
    assert "vidxTargets" in configure_parent(tmp_path / "asked", "-DVIDX_INSTALL=ON")
