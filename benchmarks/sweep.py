"""The same sweep (chapter 1's MLP family on 4-digit addition) through sweep.run's three
backends, side by side in one run: serial in this process with every core's threads, loky with
one worker per core (1 thread each), and a local Dask cluster of as many 1-thread workers.
Prints a table with the matmul ceiling, writes JSON.

    .venv/bin/python benchmarks/sweep.py [--steps 300] [--widths 8 32 128 256] [--seeds 0 1]
                                         [--workers 2] [--tiny] [--json FILE]

Wall times include starting the workers (what a user waits for); the Dask cluster's own start
is timed apart. Run it on an otherwise idle machine: timings under contention mean little.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from emergence_lib import sweep
from emergence_lib.bench import matmul_gflops
from emergence_lib.recipes.addition import N_DIGITS, train_addition_model
from emergence_lib.tasks import addition_problems


def train_one(config: dict) -> dict:
    """One member of the family, seeded by its config: final test scores and loss curve."""
    data = addition_problems(N_DIGITS, config["n_train"], config["n_test"], seed=0)
    result = train_addition_model(config["width"], data, seed=config["seed"],
                                  steps=config["steps"], log_steps=[0, config["steps"]],
                                  progress=False)
    return {"loss": result.history["loss"], "exact_match": result.history["test_exact_match"]}


def same(a: list[dict], b: list[dict]) -> bool:
    return all(np.array_equal(x[k], y[k]) for x, y in zip(a, b, strict=True) for k in x)


def timed(configs: list[dict], **kwargs) -> tuple[float, list]:
    """Wall seconds of one uncached sweep, and its results."""
    start = time.perf_counter()
    results = sweep.run(train_one, configs, progress=False, **kwargs)
    return time.perf_counter() - start, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 32, 128, 256])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--workers", type=int, default=sweep.default_workers())
    parser.add_argument("--tiny", action="store_true", help="a smoke test: 2 tiny configs")
    parser.add_argument("--json", type=Path, default=Path("_build/bench_sweep.json"))
    args = parser.parse_args()
    n_train, n_test = 30_000, 5_000
    if args.tiny:
        args.steps, args.widths, args.seeds, n_train, n_test = 3, [8, 16], [0], 512, 128
    configs = [{"width": w, "seed": s, "steps": args.steps, "n_train": n_train,
                "n_test": n_test} for s in args.seeds for w in args.widths]
    workers = args.workers

    ceiling = matmul_gflops(n=256 if args.tiny else 2048)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{workers} workers; matmul ceiling {ceiling:.1f} GFLOP/s (fp32)")
    print(f"sweep: {len(configs)} configs (widths {args.widths} x seeds {args.seeds}), "
          f"{args.steps} steps each")

    rows = []
    serial_s, reference = timed(configs, backend="serial", threads=workers)
    rows.append({"backend": "serial", "workers": 1, "threads": workers, "wall_s": serial_s,
                 "same_as_serial": True})
    loky_s, loky = timed(configs, backend="loky", n_jobs=workers, threads=1)
    rows.append({"backend": "loky", "workers": workers, "threads": 1, "wall_s": loky_s,
                 "same_as_serial": same(loky, reference)})
    try:
        import distributed
    except ImportError:
        print("dask: skipped (pip install 'emergence-lib[cluster]' to include it)")
    else:
        start = time.perf_counter()
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            startup = time.perf_counter() - start
            dask_s, dask = timed(configs, backend="dask", address=cluster.scheduler_address)
        rows.append({"backend": "dask-local", "workers": workers, "threads": 1,
                     "wall_s": dask_s, "cluster_start_s": startup,
                     "same_as_serial": same(dask, reference)})

    print(f"{'backend':>11} {'workers x threads':>18} {'wall s':>8} {'vs serial':>10} "
          f"{'same results':>13}")
    for row in rows:
        row["speedup_vs_serial"] = serial_s / row["wall_s"]
        extra = f"  (+{row['cluster_start_s']:.1f} s cluster start)" if "cluster_start_s" in row \
            else ""
        print(f"{row['backend']:>11} {row['workers']:>9} x {row['threads']:<6} "
              f"{row['wall_s']:>8.2f} {row['speedup_vs_serial']:>9.2f}x "
              f"{str(row['same_as_serial']):>13}{extra}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "configs": len(configs),
                                     "steps": args.steps, "matmul_gflops": ceiling,
                                     "torch": torch.__version__, "tiny": args.tiny}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
