"""Markdown table of a head_to_head.py run with vidx's compressed graphs against every peer:
memory, best QPS at recall targets, and the ratio issue 9 asks for, the best vidx compressed
variant within 0.4x the float32 index's memory over the best peer of any kind.

    python benchmarks/compressed_h2h_table.py benchmarks/results/compressed_h2h_fashion.json
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from head_to_head import row_recall  # noqa: E402

MEMORY_LIMIT = 0.4  # x the vidx float32 index


def best_qps(rows, name, key, target):
    """(qps, ef) of the fastest sweep point of `name` reaching `target` recall, or None."""
    ok = [r for r in rows if r["algorithm"] == name and row_recall(r, key) >= target and r[key]]
    return max(((r[key], r["ef"]) for r in ok), default=None)


def fmt(found):
    return f"{found[0]:.0f} (ef {found[1]})" if found else "-"


def table(run) -> str:
    rows, memory, builds = run["rows"], run["memory"], run["builds"]
    names = list(memory)
    f32 = memory["vidx"]
    columns = [("qps_median", 0.90), ("qps_median", 0.95), ("qps_median", 0.99), ("batch_qps_median", 0.95)]
    out = [f"### {run['dataset']}", "",
           "| index | build s | memory MiB | x vidx f32 | max recall | 1-thread QPS@0.90 | 1-thread QPS@0.95 "
           "| 1-thread QPS@0.99 | 2-thread batch QPS@0.95 |", "|---" * 9 + "|"]
    for n in names:
        top = max(r["recall"] for r in rows if r["algorithm"] == n)
        out.append(f"| {n} | {builds[n][-1]:.1f} | {memory[n] / 2**20:.1f} | {memory[n] / f32:.2f} | {top:.4f} | " +
                   " | ".join(fmt(best_qps(rows, n, key, t)) for key, t in columns) + " |")
    compressed = [n for n in names if n.startswith("vidx:")]
    within = [n for n in compressed if memory[n] <= MEMORY_LIMIT * f32]
    peers = [n for n in names if not n.startswith("vidx")]
    out.append("")
    if not within:  # then the ratio of the best compressed variant is given with its memory
        out.append(f"- no vidx compressed variant is within {MEMORY_LIMIT}x the float32 memory here")
    for key, mode in (("qps_median", "1 thread, one query per call"), ("batch_qps_median", "2-thread batch")):
        ours = max(((best_qps(rows, n, key, 0.95) or (0, 0))[0], n) for n in within or compressed)
        theirs = max(((best_qps(rows, n, key, 0.95) or (0, 0))[0], n) for n in peers)
        label = f"<= {MEMORY_LIMIT}x f32 memory" if within else f"{memory[ours[1]] / f32:.2f}x f32 memory"
        out.append(f"- recall 0.95, {mode}: best vidx compressed ({label}) "
                   f"**{ours[1]}** {ours[0]:.0f} QPS / best peer **{theirs[1]}** {theirs[0]:.0f} QPS = "
                   f"**{ours[0] / theirs[0]:.2f}x**" if ours[0] and theirs[0] else f"- recall 0.95, {mode}: -")
    return "\n".join(out) + "\n"


def main(paths):
    for path in paths:
        with open(path) as f:
            print(table(json.load(f)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
