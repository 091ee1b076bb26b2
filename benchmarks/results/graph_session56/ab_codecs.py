"""Recall at equal ef of one-add HNSW builds of one codec, the three ann-benchmarks sets in three orders (section 55's
ab_sets.py with a codec). python ab_codecs.py OUT QUANT SEED   (PKG=name PYTHONPATH=<package copy>:/work/main/benchmarks)"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "graph_session55"))
from ab_sets import one_add_builds  # noqa: E402

one_add_builds(sys.argv[1], [int(sys.argv[3])], quant=sys.argv[2], label=os.environ.get("PKG"))
