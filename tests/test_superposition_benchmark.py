"""Smoke test: the superposition benchmark runs every way end to end at a tiny size (no timing
asserted, only that each way ran, the ceiling was printed and the ways ended with equal weights)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_superposition_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "superposition.py"),
                           "--tiny", "--json", str(out)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["matmul_gflops"] > 0 and "matmul ceiling" in done.stdout
    assert report["weight_max_difference"] < 1e-4
    (row,) = report["rounds"]
    for way in ("loop of ToyModels", "batched autograd", "batched fused_backward"):
        assert row[way]["wall_s"] > 0 and row[way]["cpu_s"] >= 0
