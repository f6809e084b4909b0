"""Smoke test: the instances benchmark runs every way of batching end to end on a tiny grid (no
timing asserted, only that each way ran and the instances matched the looped grid)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_instances_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "instances.py"), "--tiny",
                           "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert report["matmul_gflops"] > 0 and "matmul ceiling" in done.stdout
    assert report["test_loss_max_difference"] < 1e-4 and report["grokked_steps_equal"]
    (row,) = report["rounds"]
    grids = ["looped (recipe.grokking_grid)", "instances, chunk 1", "instances, chunk all"]
    steps = ["loop of modules", "torch.func vmap", "batched autograd", "fused, chunk 1",
             "fused, chunk all"]
    assert all(row[k]["wall_s"] > 0 and row[k]["cpu_s"] >= 0 for k in grids)
    assert all(row[k]["wall_ms"] > 0 and row[k]["cpu_ms"] >= 0 for k in steps)
