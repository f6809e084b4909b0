"""CPU cost of one sweep point of chapter 9 part 2 (``recipes.hops.train_point``) for each
(layers, heads), split into the training steps alone and the rest (logging accuracy and G every
``log_every`` steps, the rounded-weight evaluations, the capacity counts). CPU seconds of this
process (``time.process_time``), which at one thread approximate the wall time of an idle
machine; the matmul ceiling is printed for comparison between machines.

    EMERGENCE_THREADS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hops.py \
        [--steps 300] [--layers 1 2 3] [--heads 1 2] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from emergence_lib.bench import matmul_gflops
from emergence_lib.recipes import hops as R
from emergence_lib.utils import configure_threads


def measure(steps: int, layers: int, heads: int) -> dict:
    """CPU seconds of train_point and of the bare training (logging only at the end)."""
    setup = replace(R.FAST, steps=steps)
    config = {**setup.configs()[0], "layers": layers, "heads": heads}
    began = time.process_time()
    R.train_point(config)
    point = time.process_time() - began
    began = time.process_time()
    R.train_hops(replace(setup, log_every=steps), layers, heads, 0)
    bare = time.process_time() - began
    return {"layers": layers, "heads": heads, "steps": steps, "train_point_s": point,
            "training_only_s": bare, "ms_per_step": 1000 * bare / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=R.FAST.steps)
    parser.add_argument("--layers", type=int, nargs="+", default=list(R.FAST.layers))
    parser.add_argument("--heads", type=int, nargs="+", default=list(R.FAST.heads))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    threads = configure_threads()
    ceiling = matmul_gflops()
    print(f"torch threads {threads}, matmul ceiling {ceiling:.0f} GFLOP/s")
    rows = [measure(args.steps, L, H) for L in args.layers for H in args.heads]
    print(f"{'layers':>6} {'heads':>5} {'train_point s':>13} {'training s':>10} {'ms/step':>8}")
    for r in rows:
        print(f"{r['layers']:>6} {r['heads']:>5} {r['train_point_s']:>13.2f} "
              f"{r['training_only_s']:>10.2f} {r['ms_per_step']:>8.1f}")
    total = sum(r["train_point_s"] for r in rows) * len(R.FAST.seeds)
    print(f"FAST sweep estimate ({len(R.FAST.seeds)} seeds): {total:.1f} s CPU")
    if args.json:
        args.json.write_text(json.dumps({"threads": threads, "ceiling_gflops": ceiling,
                                         "rows": rows, "fast_sweep_estimate_s": total},
                                        indent=1))


if __name__ == "__main__":
    main()
