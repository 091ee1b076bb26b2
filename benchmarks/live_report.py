"""Markdown tables from the JSON files of live_deletes.py and live_concurrency.py.

    python benchmarks/live_report.py deletes A.json [B.json ...]
    python benchmarks/live_report.py concurrency C.json
"""
from __future__ import annotations

import json
import sys


def deletes(paths):
    print("| data | quant | ef | fresh all | (a) re-added | delta | fresh half | (b) compacted | delta | hnswlib (a) delta | hnswlib tombstones delta |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    memory = []
    for path in paths:
        d = json.load(open(path))
        s, peer = d["summary"], d.get("hnswlib") or {}
        name = f"{d['data'].split(':')[0]} ({d['args']['nq']} q)"
        rows = len(d["repeats"])
        for ef in s["fresh_all_recall"]:
            pa = peer.get("readd_delta", {}).get(ef, "")
            pt = peer.get("tombstone_delta", {}).get(ef, "")
            print(f"| {name} | {d['args']['quant']} | {ef} | {s['fresh_all_recall'][ef]:.4f} | {s['readd_recall'][ef]:.4f} | "
                  f"{s['readd_delta'][ef]:+.4f} | {s['fresh_half_recall'][ef]:.4f} | {s['compact_recall'][ef]:.4f} | "
                  f"{s['compact_delta'][ef]:+.4f} | {pa if pa == '' else f'{pa:+.4f}'} | {pt if pt == '' else f'{pt:+.4f}'} |")
        r = d["repeats"][0]
        memory.append(f"| {name} | {d['args']['quant']} | {rows} | {r['memory_before_compact'] / 2**20:.2f} | "
                      f"{r['compact_memory'] / 2**20:.2f} | {r['fresh_half_memory'] / 2**20:.2f} | {s['compact_memory_ratio']:.4f} | "
                      f"{d['build_s']:.1f} | {r['remove_s']:.2f} | {r['readd_s']:.1f} | {r['compact_s']:.2f} | {r['fresh_half_build_s']:.1f} |")
    print("\n| data | quant | repeats | MiB before compact | after compact | fresh half | ratio (median) | build all s | remove 50% s | re-add 50% s | compact s | build half s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(memory))


def concurrency(path):
    d = json.load(open(path))
    s = d["summary"]
    print(f"read-only: {s['readonly_qps']:.0f} QPS (2 threads), latency p50 {s['readonly_latency_ms_p50']:.3f} ms, "
          f"p99 {s['readonly_latency_ms_p99']:.3f} ms\n")
    print("| writer | search QPS | x read-only | writer ids/s | p50 ms | p99 ms | violations | unknown ids | errors | ids() matches |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode in d["args"]["modes"].split(","):
        m = s[mode]
        print(f"| {mode} | {m['qps']:.0f} | {m['qps_ratio']:.3f} | {m['writer_ids_per_s']:.0f} | {m['latency_ms_p50']:.3f} | "
              f"{m['latency_ms_p99']:.3f} | {m['violations']} | {m['unknown_ids']} | {m['errors']} | {m['ids_match']} |")
    print(f"\nrecall@10 at ef {d['args']['ef']} after the churn: {s['churned_recall']:.4f}; fresh build of the same final set "
          f"{s['fresh_recall']:.4f}")


if __name__ == "__main__":
    {"deletes": lambda p: deletes(p), "concurrency": lambda p: concurrency(p[0])}[sys.argv[1]](sys.argv[2:])
