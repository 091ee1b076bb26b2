"""Presenting results: a fixed-width table, a summary against hnswlib, a JSON file and a plot."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

RECALL_TARGETS = (0.90, 0.95)
BASELINE = "hnswlib"  # the reference every summary ratio is taken against
NAME_WIDTH = 14  # "vidx:f32_split": an adapter name with its variant

_COLUMNS = (  # header, width, alignment ("<" for names, ">" so digits line up), format of one row
    ("algorithm", NAME_WIDTH, "<", lambda r: r["algorithm"]),
    ("params", 13, "<", lambda r: f"M={r['params']['M']},efC={r['params']['ef_construction']}"),
    ("ef", 5, ">", lambda r: str(r["ef"])),
    # Each QPS beside the recall its own mode's answers reached (they may differ: glass's batch
    # search takes an ef below k as it is).
    ("recall-1t", 9, ">", lambda r: f"{single_recall(r):.4f}"),
    ("QPS-1thread", 12, ">", lambda r: f"{r['qps_single']:.0f}"),
    ("recall-batch", 12, ">", lambda r: f"{r['recall']:.4f}"),
    ("QPS-batch", 10, ">", lambda r: f"{r['qps_batch']:.0f}"),
    ("build s", 8, ">", lambda r: f"{r['build_s']:.2f}"),
    ("memory MiB", 11, ">", lambda r: _memory_cell(r)),
)


def _memory_cell(row) -> str:
    if row["memory_bytes"] is None:
        return "-"
    mark = "~" if row["memory_source"] == "rss-delta" else ""
    return f"{mark}{row['memory_bytes'] / 2**20:.1f}"


def _line(cells) -> str:
    """One table line from (text, width, alignment) cells."""
    return " ".join(f"{text:{align}{width}}" for text, width, align in cells)


def format_table(results: dict) -> str:
    ds = results["dataset"]
    cfg = results["config"]
    title = (f"{ds['name']}: {ds['n_train']} train x {ds['dim']} dims, {ds['n_test']} queries, "
             f"{ds['metric']}; recall@{cfg['k']}, {cfg['threads']} threads for build and batch, "
             f"single-thread QPS over {min(cfg['queries'], ds['n_test'])} queries, best of {cfg['runs']}")
    lines = [title, _line([(h, w, a) for h, w, a, _ in _COLUMNS])]
    lines.append("-" * len(lines[-1]))
    for row in results["rows"]:
        lines.append(_line([(fmt(row), w, a) for _, w, a, fmt in _COLUMNS]))
    if any(r["memory_source"] == "rss-delta" for r in results["rows"]):
        lines.append("~ memory estimated from the growth of the process RSS during the build "
                     "(the library reports none)")
    for name, error in results.get("failures", {}).items():
        lines.append(f"FAILED {name}: {error}")
    return "\n".join(lines)


def single_recall(row: dict) -> float:
    """The recall of a row's single-query results, which its single-thread QPS was measured at
    (rows from before the runner scored both modes carry the batch recall alone). A library may
    search a batch otherwise than one query: glass's batch takes an ef below k as it is."""
    return row.get("recall_single", row["recall"])


def best_at(rows: list[dict], algorithm: str, target: float) -> dict | None:
    """The row of `algorithm` with the highest single-thread QPS among those whose single-query
    results reach `target` recall."""
    reaching = [r for r in rows if r["algorithm"] == algorithm and single_recall(r) >= target]
    return max(reaching, key=lambda r: r["qps_single"], default=None)


def summarize(results: dict) -> list[dict]:
    """Per algorithm and recall target: the best single-thread QPS, its ef, and the ratio to hnswlib."""
    rows = results["rows"]
    algorithms = list(dict.fromkeys(r["algorithm"] for r in rows))
    summary = []
    for algorithm in algorithms:
        entry = {"algorithm": algorithm}
        for target in RECALL_TARGETS:
            best, base = best_at(rows, algorithm, target), best_at(rows, BASELINE, target)
            entry[f"{target:.2f}"] = None if best is None else {
                "qps_single": best["qps_single"], "ef": best["ef"], "recall": single_recall(best),
                f"vs_{BASELINE}": None if base is None else best["qps_single"] / base["qps_single"]}
        summary.append(entry)
    return summary


def format_summary(summary: list[dict]) -> str:
    ratio_head = f"vs {BASELINE}"
    head = [("algorithm", NAME_WIDTH, "<")]
    for target in RECALL_TARGETS:
        head += [(f"QPS@{target:.2f}", 11, ">"), ("ef", 5, ">"), (ratio_head, 11, ">")]
    lines = [f"Best single-thread QPS at recall >= {' / '.join(f'{t:.2f}' for t in RECALL_TARGETS)} "
             f"({ratio_head}: its QPS over {BASELINE}'s at the same recall target, this run)",
             _line(head)]
    lines.append("-" * len(lines[-1]))
    for entry in summary:
        cells = [(entry["algorithm"], NAME_WIDTH, "<")]
        for target in RECALL_TARGETS:
            best = entry[f"{target:.2f}"]
            if best is None:
                cells += [("not reached", 11, ">"), ("-", 5, ">"), ("-", 11, ">")]
                continue
            ratio = best[f"vs_{BASELINE}"]
            cells += [(f"{best['qps_single']:.0f}", 11, ">"), (str(best["ef"]), 5, ">"),
                      ("-" if ratio is None else f"{ratio:.2f}x", 11, ">")]
        lines.append(_line(cells))
    return "\n".join(lines)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_json(results: dict, path: Path) -> Path:
    payload = {**results, "summary": summarize(results)}
    path.write_text(json.dumps(payload, indent=1, default=_jsonable) + "\n")
    return path


def write_plot(results: dict, path: Path) -> Path | None:
    """Recall vs QPS, one line per algorithm: single-thread and batch side by side.
    Returns None (and writes nothing) when matplotlib is not installed."""
    try:
        # The object-oriented API, not pyplot: no global backend or figure state is touched.
        from matplotlib.figure import Figure
    except ImportError:
        return None
    ds, cfg = results["dataset"], results["config"]
    fig = Figure(figsize=(12, 5), layout="constrained")
    panels = (("qps_single", single_recall, "single thread (one query per call)"),
              ("qps_batch", lambda r: r["recall"], f"batch, {cfg['threads']} threads"))
    for ax, (key, recall_of, label) in zip(fig.subplots(1, 2), panels):
        for algorithm in dict.fromkeys(r["algorithm"] for r in results["rows"]):
            rows = sorted((r for r in results["rows"] if r["algorithm"] == algorithm),
                          key=lambda r: r["ef"])
            ax.plot([recall_of(r) for r in rows], [r[key] for r in rows], marker="o", markersize=3,
                    label=algorithm)
        ax.set_yscale("log")
        ax.set_xlabel(f"recall@{cfg['k']}")
        ax.set_ylabel("queries per second")
        ax.set_title(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle(f"{ds['name']} (M={cfg['M']}, efC={cfg['ef_construction']})")
    fig.savefig(path, dpi=120)
    return path


def write_all(results: dict, out_dir, log=print) -> dict:
    """Print the table and summary, write `{dataset}.json` and `{dataset}.png` into out_dir."""
    log(format_table(results))  # first: the figures are on screen whatever happens to the files
    log("")
    log(format_summary(summarize(results)))
    if results.get("interrupted"):
        log("(interrupted: the rows measured before Ctrl-C)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = results["dataset"]["name"]
    files = {"json": write_json(results, out / f"{stem}.json"), "plot": write_plot(results, out / f"{stem}.png")}
    log("")
    log(f"results: {files['json']}")
    log(f"plot:    {files['plot'] or 'skipped (pip install matplotlib)'}")
    return files
