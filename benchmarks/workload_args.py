"""The command line of the scripts that make or search a synthetic workload (gpu_check.py,
make_clustered_1m.py): its shape defaults to issue 5's, 1,000,000 x 128 with 10,000 queries."""
from __future__ import annotations

import argparse


def workload_parser(doc: str, queries_flag: str) -> argparse.ArgumentParser:
    """A parser for a script documented by `doc`, with the workload's shape as --n, --dim and
    `queries_flag` (each script kept its own spelling of the query count)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="data vectors")
    ap.add_argument("--dim", type=int, default=128, help="dimensions")
    ap.add_argument(queries_flag, type=int, default=10_000, help="queries")
    return ap
