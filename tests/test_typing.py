"""The typed API: stubs that match the module, mypy --strict on the typed example, and the
submodules reachable as attributes after a plain `import vidx` without being imported eagerly."""
import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import vidx

PACKAGE = Path(vidx.__file__).parent
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "typed_usage.py"

# Each line must be rejected by mypy: wrong argument types and a misspelt method.
MISUSE = """\
import numpy as np
import vidx
index = vidx.Index(dim="8")
size: str = len(index)
distances, ids = index.search(np.zeros(8, dtype=np.float32), k=3.5)
index.serach(np.zeros(8, dtype=np.float32))
vidx.Index(8, metric="euclid")
"""


def stub_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    return names


def test_package_is_marked_typed():
    assert (PACKAGE / "py.typed").is_file()


def test_stub_declares_every_public_name():
    declared = stub_names(PACKAGE / "__init__.pyi")
    assert set(vidx.__all__) - declared == set()
    assert {"datasets", "bench"} <= declared


def test_core_stub_matches_the_built_module():
    # A stale stub after a bindings change: rerun tools/gen_stubs.sh.
    declared = stub_names(PACKAGE / "_core.pyi")
    public = {n for n in dir(vidx._core) if not n.startswith("__")}
    assert public - declared == set(), "names missing from _core.pyi: rerun tools/gen_stubs.sh"
    assert declared - public - {"__all__", "annotations", "collections", "numpy", "typing"} == set()


def test_submodules_are_lazy_attributes():
    code = ("import sys, vidx\n"
            "assert 'vidx.datasets' not in sys.modules and 'vidx.bench' not in sys.modules\n"
            "assert callable(vidx.datasets.load) and vidx.bench.__name__ == 'vidx.bench'\n"
            "assert 'datasets' in dir(vidx)\n"
            "try:\n    vidx.no_such_thing\nexcept AttributeError as e:\n    assert 'no_such_thing' in str(e)\n"
            "else:\n    raise SystemExit('no AttributeError')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.skipif(shutil.which("mypy") is None and subprocess.run(
    [sys.executable, "-m", "mypy", "--version"], capture_output=True).returncode != 0, reason="mypy not installed")
def test_mypy_strict_accepts_the_example_and_rejects_misuse(tmp_path):
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE)
    env = dict(os.environ)
    if PACKAGE.parent.name not in ("site-packages", "dist-packages"):
        # A source checkout (PYTHONPATH=python): point mypy at it. An installed vidx is found
        # by mypy itself, and mypy refuses site-packages in MYPYPATH.
        env["MYPYPATH"] = str(PACKAGE.parent)
    run = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent",
                          "--cache-dir", str(tmp_path / "cache"), str(EXAMPLE), str(misuse)],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    report = run.stdout + run.stderr
    assert "typed_usage.py" not in report, report
    flagged = {int(line.split(":")[1]) for line in report.splitlines() if line.startswith("misuse.py:")}
    assert flagged >= {3, 4, 5, 6, 7}, report
