"""Smoke test: the batched-seeds benchmark runs end to end on tiny sizes (no timing asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_batched_seeds_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "batched_seeds.py"),
                           "--seeds", "2", "--widths", "8", "--steps", "2", "--rounds", "2",
                           "--no-main", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    row = json.loads(out.read_text())["rows"][0]
    assert row["width"] == 8 and len(row["rounds"]) == 2
    assert row["median"]["fused_ms"] > 0 and "speedup vs looped" in done.stdout


def load_chapters_benchmark():
    """Import benchmarks/chapters.py (benchmarks/ is not a package)."""
    import importlib.util

    path = ROOT / "benchmarks" / "chapters.py"
    spec = importlib.util.spec_from_file_location("bench_chapters", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chapters_benchmark_prints_the_matmul_ceiling(tmp_path, capsys):
    """Each chapter's time is printed beside the matmul ceiling measured before it."""
    bench = load_chapters_benchmark()
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n"
        "  - file: notebooks/00_a\n  - file: notebooks/01_b\n")
    from bookbuild.common import ChapterRun

    def fake_execute(chapter, out_dir, **kwargs):
        return ChapterRun(chapter, 3.0 if chapter.number == "00" else 5.0, ok=True)

    ceilings = iter([300.0, 100.0])
    record = bench.bench(None, 2, False, 60, root=tmp_path, execute=fake_execute,
                         ceiling=lambda: next(ceilings))
    assert [r["ceiling_gflops"] for r in record["chapters"]] == [300.0, 100.0]
    assert record["ceiling_gflops_median"] == 200.0 and record["total_median_s"] == 8.0
    bench.print_table(record)
    out = capsys.readouterr().out
    assert "matmul GFLOP/s" in out and "300.0" in out and "100.0" in out


def test_chapters_benchmark_measures_a_real_ceiling():
    assert load_chapters_benchmark().matmul_ceiling() > 0


def test_chapters_benchmark_reads_per_cell_times(tmp_path, capsys):
    """The per-cell profile comes from papermill's durations, median over runs, slowest first."""
    bench = load_chapters_benchmark()
    nb = {"cells": [{"cell_type": "markdown", "source": "# t", "metadata": {}},
                    {"cell_type": "code", "source": ["run = train()\n", "x"],
                     "metadata": {"papermill": {"duration": 4.0}}},
                    {"cell_type": "code", "source": "plot()", "metadata": {"papermill": {}}}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    cells = bench.cell_seconds(path)
    assert cells == [("run = train()", 4.0), ("plot()", 0.0)]
    assert bench.cell_seconds(tmp_path / "missing.ipynb") == []
    merged = bench.median_cells([cells, [("run = train()", 2.0), ("plot()", 1.0)]])
    assert [c["seconds"] for c in merged] == [3.0, 0.5]
    bench.print_cells({"chapters": [{"chapter": "notebooks/00_a", "cells": merged}]}, 1)
    out = capsys.readouterr().out
    assert "3.5 s in code cells" in out and "run = train()" in out and "plot()" not in out


def test_threads_benchmark_worker_runs_at_its_settings():
    """One fresh worker at 1 thread and OMP_WAIT_POLICY=PASSIVE times every family's step."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_threads",
                                                  ROOT / "benchmarks" / "threads.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    record = module.run_worker(1, "PASSIVE", 0.02)
    assert record["threads"] == 1 and record["policy"] == "PASSIVE"
    assert record["ceiling_gflops"] > 0 and len(record["seconds_per_step"]) == 5
    assert all(s > 0 for s in record["seconds_per_step"].values())


def load_grokking_benchmark():
    """Import benchmarks/grokking.py (benchmarks/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_grokking",
                                                  ROOT / "benchmarks" / "grokking.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_grokking_benchmark_names_a_checkout_without_the_peer_code(tmp_path):
    import pytest

    with pytest.raises(SystemExit, match="--peer: .* has no transformers.py"):
        load_grokking_benchmark().load_peer(tmp_path)


def test_grokking_benchmark_imports_the_peer_with_its_logging_stood_in(tmp_path):
    """The peer's module imports wandb and plotly and its sibling helpers; it loads without them."""
    before = set(sys.modules)
    (tmp_path / "helpers.py").write_text("import plotly.express as px\nVALUE = 3\n")
    (tmp_path / "transformers.py").write_text(
        "import wandb\nfrom . import helpers\n\n"
        "def value():\n    wandb.init(project='x')\n    return helpers.VALUE\n")
    try:
        peer = load_grokking_benchmark().load_peer(tmp_path)
        assert peer.value() == 3
    finally:   # the stand-ins and the fake peer leave this test process again
        for name in set(sys.modules) - before:
            if name.split(".")[0] in ("wandb", "plotly", "progress_measures_paper"):
                del sys.modules[name]
