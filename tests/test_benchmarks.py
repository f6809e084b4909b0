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
