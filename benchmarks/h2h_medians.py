"""Medians over repeated head_to_head.py runs of one dataset, as issue 9's acceptance reads them.

    python benchmarks/h2h_medians.py --reference hnswlib run1.json run2.json run3.json

In each run, every algorithm's QPS is read at exactly recall 0.90 / 0.95 / 0.99 (linear between the two efs
that straddle the target, head_to_head.qps_at_recall), single-thread and 2-thread batch, and divided by the
reference's QPS read the same way in the same run; its build time is divided by the reference's too. The table
gives the median of those same-run ratios over the runs (and each run's figure), so the host's load between
runs cancels out. Algorithms missing from a run, or a target one of them never reaches, are left out of that
run's figures ("-" when no run has one).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from head_to_head import qps_at_recall, row_recall  # noqa: E402

TARGETS = (0.90, 0.95, 0.99)
MODES = (("qps_median", "single"), ("batch_qps_median", "batch"))


def same_run_ratios(run, name, reference):
    """{(mode, target): QPS ratio to the reference} and the build-time ratio for `name` in one run."""
    rows = run["rows"]

    def curve(n, key):
        return [(row_recall(r, key), r[key]) for r in rows if r["algorithm"] == n and r.get(key)]

    ratios = {}
    for key, mode in MODES:
        for target in TARGETS:
            ours, theirs = qps_at_recall(curve(name, key), target), qps_at_recall(curve(reference, key), target)
            if ours and theirs:
                ratios[(mode, target)] = ours / theirs
    build = statistics.median(run["builds"][name]) / statistics.median(run["builds"][reference])
    return ratios, build


def cell(values):
    if not values:
        return "-"
    each = ", ".join(f"{v:.2f}" for v in values)
    return f"**{statistics.median(values):.2f}x** ({each})" if len(values) > 1 else f"{values[0]:.2f}x"


def table(runs, reference):
    names = [n for n in runs[0]["memory"] if n != reference]
    for run in runs[1:]:
        names += [n for n in run["memory"] if n != reference and n not in names]
    header = ["algorithm"] + [f"{mode} @{t:.2f}" for _, mode in MODES for t in TARGETS] + ["build", "memory MiB"]
    lines = [f"{runs[0]['dataset']}: {len(runs)} runs, median of same-run ratios to {reference} (each run's)", "",
             "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for name in names:
        present = [r for r in runs if name in r["memory"] and reference in r["memory"]]
        per_run = [same_run_ratios(r, name, reference) for r in present]
        cells = [cell([ratios[(mode, t)] for ratios, _ in per_run if (mode, t) in ratios])
                 for _, mode in MODES for t in TARGETS]
        memory = statistics.median(r["memory"][name] for r in present) / 2**20
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {cell([b for _, b in per_run])} | {memory:.1f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", help="head_to_head.py --json files of one dataset")
    p.add_argument("--reference", default="hnswlib")
    args = p.parse_args(argv)
    runs = []
    for path in args.runs:
        with open(path) as f:
            runs.append(json.load(f))
    if len({r["dataset"] for r in runs}) != 1:
        raise SystemExit("h2h_medians.py: the runs are of different datasets")
    if any(args.reference not in r["memory"] for r in runs):
        raise SystemExit(f"h2h_medians.py: {args.reference!r} is missing from a run")
    print(table(runs, args.reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
