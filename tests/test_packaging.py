"""Packaging metadata: the wheel matrix of issue 11, the version defined once, the licence."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vidx

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
EXPECTED = {f"cp3{minor}-{plat}" for minor in (10, 11, 12, 13) for plat in (
    "manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64", "macosx_x86_64", "macosx_arm64", "win_amd64")}


def test_version_is_defined_once():
    assert PYPROJECT["project"]["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["scikit-build"]["metadata"]["version"]["input"] == "python/vidx/_version.py"
    assert re.search(r'^__version__ = "([0-9.]+)"$', (ROOT / "python/vidx/_version.py").read_text(), re.M)
    assert "VERSION 0." not in (ROOT / "CMakeLists.txt").read_text()  # CMake reads _version.py
    assert vidx.__version__ == re.search(r'__version__ = "(.+)"', (ROOT / "python/vidx/_version.py").read_text()).group(1)


def test_metadata_is_complete():
    project = PYPROJECT["project"]
    assert project["license"] == {"file": "LICENSE"} and "Apache License" in (ROOT / "LICENSE").read_text()
    # No [project.urls]: the project has no public home yet, and a made-up address would mislead.
    assert any(c.startswith("License :: OSI Approved :: Apache") for c in project["classifiers"])
    assert "Typing :: Typed" in project["classifiers"]


def test_cibuildwheel_matrix_and_cuda_off():
    cibw = PYPROJECT["tool"]["cibuildwheel"]
    assert cibw["manylinux-x86_64-image"] == cibw["manylinux-aarch64-image"] == "manylinux_2_28"
    assert cibw["environment"]["VIDX_CUDA"] == "OFF"
    assert cibw["macos"]["environment"]["VIDX_CUDA"] == "OFF"
    assert PYPROJECT["tool"]["scikit-build"]["cmake"]["define"]["VIDX_CUDA"]["default"] == "OFF"
    workflow = (ROOT / ".github/workflows/wheels.yml").read_text()
    for runner in ("ubuntu-latest", "ubuntu-24.04-arm", "macos-13", "macos-14", "windows-latest"):
        assert runner in workflow


@pytest.mark.skipif(shutil.which("cibuildwheel") is None, reason="cibuildwheel not installed")
def test_cibuildwheel_builds_every_platform_and_python():
    found = set()
    for platform in ("linux", "macos", "windows"):
        out = subprocess.run(["cibuildwheel", "--print-build-identifiers", "--platform", platform],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
        found |= set(out.split())
    assert found == EXPECTED
