"""Smoke test: the sweep benchmark runs its three backends end to end on tiny sizes through the
chapter's own sweep function (no timing asserted, only that every backend ran, counted its CPU
seconds where psutil is installed, and gave the serial results)."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sweep_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "sweep.py"), "--tiny",
                           "--workers", "2", "--json", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    expected = ["serial", "loky"]
    if importlib.util.find_spec("distributed") is not None:
        expected.append("dask-local")
    assert [row["backend"] for row in report["rows"]] == expected
    assert all(row["wall_s"] > 0 and row["same_as_serial"] for row in report["rows"])
    if importlib.util.find_spec("psutil") is not None:
        assert all(row["cpu_s"] > 0 for row in report["rows"])
    assert report["matmul_gflops"] > 0 and "matmul ceiling" in done.stdout
