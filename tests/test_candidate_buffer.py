"""A graph walk's beam takes each expansion's candidates in one merge (CandidateBuffer::insert_many)
and must end exactly as one insert per candidate would leave it: same entries, order, ties, expanded
flags and next candidate. The C++ check in tests/cpp/candidate_buffer_check.cpp compares the two on
random beams and batches."""
from cpp_checks import needs_compiler, run_check


@needs_compiler
def test_merged_insertion_leaves_the_beam_one_insert_at_a_time_would(tmp_path):
    run_check(tmp_path, "candidate_buffer_check")
