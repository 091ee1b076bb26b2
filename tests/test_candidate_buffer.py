"""A graph walk's beam takes each expansion's candidates in one merge (CandidateBuffer::insert_many)
and must end exactly as one insert per candidate would leave it: same entries, order, ties, expanded
flags and next candidate. The C++ check in tests/cpp/candidate_buffer_check.cpp compares the two on
random beams and batches."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir)
CXX = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")


@pytest.mark.skipif(CXX is None, reason="no C++ compiler")
def test_merged_insertion_leaves_the_beam_one_insert_at_a_time_would(tmp_path):
    exe = tmp_path / "candidate_buffer_check"
    subprocess.run([CXX, "-std=c++17", "-O1", "-I", os.path.join(ROOT, "cpp", "include"), "-o", str(exe),
                    os.path.join(ROOT, "tests", "cpp", "candidate_buffer_check.cpp")], check=True, capture_output=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("ok ")
