"""vidx.bench end to end on a tiny generated set: the CLI builds, sweeps, scores and writes its files."""
import importlib.util
import os
import subprocess
import sys
import json

import numpy as np
import pytest

from vidx.bench import cli, recall, runner


def test_cli_quick_run_writes_results(tmp_path, capsys):
    algorithms = ["vidx", "vidx:f32_split"] + (["hnswlib"] if importlib.util.find_spec("hnswlib") else [])
    # Fewer single-thread queries than test queries: recall_single scores a prefix of the set.
    code = cli.main(["--quick", "--synthetic", "2000,16", "--algorithms", ",".join(algorithms),
                     "--queries", "150", "--threads", "2", "--out", str(tmp_path)])
    assert code == 0

    results = json.loads((tmp_path / "clustered-2000-16-euclidean.json").read_text())
    rows = results["rows"]
    assert sorted({r["algorithm"] for r in rows}) == sorted(algorithms)
    assert len(rows) == len(algorithms) * len(cli.QUICK_EFS)
    for row in rows:
        assert row["queries_single"] == 150 and row["queries_batch"] == 200
        assert 0.0 <= row["recall"] <= 1.0 and 0.0 <= row["recall_single"] <= 1.0
        assert row["qps_single"] > 0 and row["qps_batch"] > 0 and row["build_s"] > 0
    # A graph search on 2000 clustered points at ef=128 must find nearly everything.
    for name in ("vidx", "vidx:f32_split"):
        assert max(r["recall"] for r in rows if r["algorithm"] == name) > 0.9
    assert [s["algorithm"] for s in results["summary"]] == algorithms
    assert results["failures"] == {}

    printed = capsys.readouterr().out
    assert "QPS-1thread" in printed and "Best single-thread QPS" in printed
    # Each QPS column beside its own mode's recall (the one recall column was the batch's).
    assert "recall-1t  QPS-1thread recall-batch" in printed
    if importlib.util.find_spec("matplotlib"):
        assert (tmp_path / "clustered-2000-16-euclidean.png").stat().st_size > 0


def test_unknown_algorithm_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["--quick", "--synthetic", "100,4", "--algorithms", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown algorithm" in capsys.readouterr().err


def test_recall_counts_by_distance_and_ignores_padding():
    train = np.array([[0.0], [1.0], [1.0], [3.0]], dtype=np.float32)  # ids 1 and 2 tie
    query = np.zeros((1, 1), dtype=np.float32)
    gt = np.array([[0.0, 1.0]], dtype=np.float32)  # true 2-NN distances
    assert recall.recall_at_k(train, query, np.array([[0, 2]]), gt, "euclidean", k=2) == 1.0
    assert recall.recall_at_k(train, query, np.array([[0, 3]]), gt, "euclidean", k=2) == 0.5
    assert recall.recall_at_k(train, query, np.array([[0, -1]]), gt, "euclidean", k=2) == 0.5
    assert recall.recall_at_k(train, query, np.array([[0, 0]]), gt, "euclidean", k=2) == 0.5  # an id counts once
    assert recall.recall_at_k(train, query, np.array([[-1, -1]]), gt, "euclidean", k=2) == 0.0


def test_recall_slack_is_ann_benchmarks_absolute_one_thousandth():
    # A near miss 1.5 beyond a k-th distance of 1,500 (fashion-mnist's scale) used to count under
    # the relative slack; ann-benchmarks' +1e-3 does not count it. A float32-rounded k-th
    # distance still counts the true neighbour recomputed in float64.
    from vidx.bench import recall

    train = np.array([[1500.0], [1501.5], [1500.0004]], dtype=np.float64).astype(np.float32)
    query = np.zeros((1, 1), dtype=np.float32)
    gt = np.array([[1500.0]], dtype=np.float32)
    assert recall.recall_at_k(train, query, np.array([[1]]), gt, "euclidean", k=1) == 0.0
    assert recall.recall_at_k(train, query, np.array([[0]]), gt, "euclidean", k=1) == 1.0
    assert recall.recall_at_k(train, query, np.array([[2]]), gt, "euclidean", k=1) == 1.0


def test_timed_loops_pause_the_collector_and_restore_it():
    import gc

    from vidx.bench.timing import gc_paused, timed_call

    assert gc.isenabled()
    seconds, seen = timed_call(gc.isenabled)
    assert seen is False and seconds >= 0.0 and gc.isenabled()
    try:
        with gc_paused():
            raise KeyError("inside a timed loop")
    except KeyError:
        pass
    assert gc.isenabled()  # back on after an error too
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_unknown_variant_is_a_usage_error(tmp_path, capsys):
    assert cli.main(["--quick", "--synthetic", "100,4", "--algorithms", "vidx:nope", "--out", str(tmp_path)]) == 2
    assert "nope" in capsys.readouterr().err


def test_single_thread_summary_reads_each_row_at_its_single_query_recall():
    # A library whose batch search returns less than its single search (glass's batch takes an
    # ef below k as it is): the single-thread summary must not charge it the batch's recall.
    from vidx.bench import report

    def row(algorithm, ef, single, batch, qps):
        return {"algorithm": algorithm, "ef": ef, "recall_single": single, "recall": batch, "qps_single": qps}

    rows = [row("hnswlib", 10, 0.96, 0.96, 1000.0), row("peer", 4, 0.96, 0.79, 3000.0),
            row("peer", 16, 0.99, 0.99, 1500.0)]
    best = report.best_at(rows, "peer", 0.95)
    assert best["ef"] == 4 and report.single_recall(best) == 0.96
    summary = {e["algorithm"]: e for e in report.summarize({"rows": rows})}
    assert summary["peer"]["0.95"]["vs_hnswlib"] == 3.0
    # Rows written before recall_single existed are read at their one recall.
    assert report.single_recall({"recall": 0.9}) == 0.9


@pytest.mark.parametrize("flag", ["--k", "--queries", "--runs", "--threads", "--train-size", "--test-size"])
@pytest.mark.parametrize("value", ["0", "-5"])
def test_count_flags_below_one_are_usage_errors(flag, value, tmp_path, capsys):
    # --queries -5 crashed after every build; 0 for --queries/--runs/--train-size silently became
    # the default (`x or default`) and --k 0 ran (--ef-construction 0 crashed hnswlib's build).
    # All are refused before anything is built.
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--quick", "--synthetic", "100,4", "--algorithms", "vidx", flag, value, "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"argument {flag}: expected a positive integer, got '{value}'" in capsys.readouterr().err


@pytest.mark.parametrize("flag,value,message", [
    ("--M", "1", "M must be between 2 and 2048, got '1'"),  # faiss's HNSW ends the process at M=1
    ("--M", "0", "M must be between 2 and 2048, got '0'"),
    ("--M", "4096", "M must be between 2 and 2048, got '4096'"),
    ("--ef-construction", "0", "expected an integer from 1 to 1,000,000, got '0'"),
    ("--ef-construction", "10000000000", "expected an integer from 1 to 1,000,000"),
    ("--ef", "10,0", "expected positive integers, got '10,0'"),
    ("--ef", "10,20000000", "expected values from 1 to 1,000,000, got '10,20000000'"),
])
def test_graph_flags_outside_what_every_library_runs_are_usage_errors(flag, value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--quick", "--synthetic", "100,4", "--algorithms", "vidx", flag, value, "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert f"argument {flag}: {message}" in capsys.readouterr().err


def test_a_reader_that_leaves_the_pipe_costs_no_result(tmp_path):
    # `vidx-bench | head -1` used to end in a BrokenPipeError traceback at the next line printed,
    # before the results were written; the run now goes on with stdout discarded.
    out = tmp_path / "out"
    script = (f"import sys; sys.argv = ['vidx-bench']; from vidx.bench import cli; "
              f"sys.exit(cli.main(['--quick', '--synthetic', '400,4', '--algorithms', 'vidx', '--out', {str(out)!r}]))")
    reader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    reader.stdout.readline()
    reader.stdout.close()  # the reader leaves after one line
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=120) == 0, err
    assert "BrokenPipeError" not in err and "Traceback" not in err
    assert sorted(p.suffix for p in out.iterdir() if p.suffix == ".json")


@pytest.mark.parametrize("value", ["0", "1.5", "-0.1", "nan"])
def test_stop_recall_must_be_a_recall(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--quick", "--synthetic", "100,4", "--algorithms", "vidx", "--stop-recall", value,
                  "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --stop-recall: expected a recall in (0, 1]" in capsys.readouterr().err


def test_explicit_values_win_over_the_mode_defaults():
    args = cli.build_parser().parse_args(["--quick", "--queries", "1", "--runs", "1", "--stop-recall", "1"])
    config = cli._config(args)
    assert (config.queries, config.runs, config.stop_recall) == (1, 1, 1.0)
    with pytest.raises(ValueError, match="queries must be a positive integer, got 0"):
        runner.BenchConfig(queries=0)  # the library face refuses it before any build too
    with pytest.raises(ValueError, match="stop_recall must be in"):
        runner.BenchConfig(stop_recall=2.0)


def _no_fallback(*args):
    raise AssertionError("replaced the dataset with a generated one")


@pytest.mark.parametrize("explicit", [False, True])
def test_a_damaged_cached_dataset_is_reported_not_replaced(explicit, tmp_path, capsys, monkeypatch):
    # A truncated cached default dataset raised h5py's OSError, which the fallback took for "not
    # available": the run went on with generated data, and the bad file stayed.
    h5py = pytest.importorskip("h5py")
    path = tmp_path / f"{cli.DEFAULT_DATASET}.hdf5"
    with h5py.File(path, "w") as f:
        f.create_dataset("train", data=np.zeros((1000, 4), np.float32))
    path.write_bytes(path.read_bytes()[:1000])
    monkeypatch.setattr(cli, "_synthetic", _no_fallback)
    argv = ["--quick", "--cache-dir", str(tmp_path), "--no-download", "--out", str(tmp_path / "out")]
    code = cli.main(argv + (["--dataset", cli.DEFAULT_DATASET] if explicit else []))
    assert code == 2
    captured = capsys.readouterr()
    assert f"vidx-bench: error: {path} is not a readable HDF5 file" in captured.err
    assert "Delete it" in captured.err and "Traceback" not in captured.err + captured.out
    assert "GENERATED" not in captured.out and not (tmp_path / "out").exists()


def test_an_absent_default_dataset_still_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "_synthetic", lambda *args: "generated")
    args = cli.build_parser().parse_args(["--cache-dir", str(tmp_path), "--no-download"])
    lines = []
    assert cli._dataset(args, lines.append) == "generated"
    assert any("GENERATED" in line for line in lines)


@pytest.mark.parametrize("argv,message", [
    (["--algorithms", "vidx,vidx"], "given twice"),
    (["--algorithms", "vidx", "--dataset", "glove6b-50-angular"], "give one"),
])
def test_conflicting_or_repeated_choices_are_usage_errors(argv, message, tmp_path, capsys):
    assert cli.main(["--quick", "--synthetic", "100,4", "--out", str(tmp_path)] + argv) == 2
    assert message in capsys.readouterr().err


def test_an_output_folder_that_cannot_be_written_is_refused_before_the_run(tmp_path, capsys):
    # It used to be found after every build and sweep, as a traceback that threw the figures away.
    not_a_folder = tmp_path / "results"
    not_a_folder.write_text("a file")
    for flag in ("--out", "--export-ann-benchmarks"):
        code = cli.main(["--quick", "--synthetic", "100,4", "--algorithms", "vidx", flag, str(not_a_folder)])
        assert code == 2
        captured = capsys.readouterr()
        assert "is a file, not a folder" in captured.err and "building" not in captured.out


def test_ctrl_c_during_the_sweep_keeps_the_rows_measured(tmp_path, capsys, monkeypatch):
    # The second row's measurement is interrupted: the first is printed and written, exit 130.
    measured = []
    real_row = runner._row

    def row_then_interrupt(*args):
        if measured:
            raise KeyboardInterrupt
        measured.append(real_row(*args))
        return measured[-1]

    monkeypatch.setattr(runner, "_row", row_then_interrupt)
    code = cli.main(["--quick", "--synthetic", "500,8", "--algorithms", "vidx", "--out", str(tmp_path)])
    assert code == 130
    results = json.loads((tmp_path / "clustered-500-8-euclidean.json").read_text())
    assert results["interrupted"] is True and len(results["rows"]) == 1
    assert "interrupted" in capsys.readouterr().out
