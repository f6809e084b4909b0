"""The same sweep (chapter 1's MLP family on 4-digit addition, through the recipe's own sweep
function ``recipes.addition.train_member``) through sweep.run's three backends, side by side in
one run: serial in this process with every core's threads, loky with one worker per core (1
thread each), and a local Dask cluster of as many 1-thread workers. Prints a table with the
matmul ceiling, wall and CPU seconds (this process plus its worker processes), writes JSON.

    .venv/bin/python benchmarks/sweep.py [--steps 300] [--widths 8 32 128 256] [--seeds 0 1]
                                         [--workers 2] [--fast-family] [--tiny] [--json FILE]

--fast-family runs chapter 1's FAST family exactly (recipes.addition.FAST: 6 widths, 2,000
steps, the chapter's logged steps). Wall times include starting the workers (what a user waits
for); the Dask cluster's own start is timed apart. Run it on an otherwise idle machine: wall
times under contention mean little, CPU seconds somewhat more.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from emergence_lib import sweep
from emergence_lib.bench import matmul_gflops
from emergence_lib.recipes.addition import FAST, member_config, train_member

try:  # CPU seconds of the worker processes (psutil comes with ipykernel and distributed)
    import psutil
except ImportError:
    psutil = None


def same(a: list[dict], b: list[dict]) -> bool:
    """Bit-identical members: weights, history and test logits (training seconds aside)."""
    for x, y in zip(a, b, strict=True):
        if x["weights"].keys() != y["weights"].keys() or x["history"] != y["history"]:
            return False
        if not all(torch.equal(x["weights"][k], y["weights"][k]) for k in x["weights"]):
            return False
        if not torch.equal(x["test_logits"], y["test_logits"]):
            return False
    return True


def cpu_seconds() -> float | None:
    """User + system CPU seconds of this process and its live child processes (None without
    psutil)."""
    if psutil is None:
        return None
    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def timed(configs: list[dict], **kwargs) -> tuple[float, float | None, list]:
    """Wall and CPU seconds of one uncached sweep, and its results. CPU counts the workers that
    are alive at the end (loky keeps its workers; a Dask cluster is measured inside its block)."""
    cpu0, start = cpu_seconds(), time.perf_counter()
    results = sweep.run(train_member, configs, progress=False, **kwargs)
    wall, cpu1 = time.perf_counter() - start, cpu_seconds()
    return wall, None if cpu0 is None else cpu1 - cpu0, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--widths", type=int, nargs="+", default=[8, 32, 128, 256])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--workers", type=int, default=sweep.default_workers())
    parser.add_argument("--fast-family", action="store_true",
                        help="chapter 1's FAST family exactly (widths, seeds, steps, log steps)")
    parser.add_argument("--tiny", action="store_true", help="a smoke test: 2 tiny configs")
    parser.add_argument("--json", type=Path, default=Path("_build/bench_sweep.json"))
    args = parser.parse_args()
    if args.fast_family:
        args.widths, args.seeds = list(FAST["widths"]), list(FAST["seeds"])
        configs = [member_config(w, s, split, steps=FAST["steps"]) for split in FAST["splits"]
                   for s in args.seeds for w in args.widths]
        args.steps = configs[0]["steps"]
    else:
        sizes = {"n_train": 512, "n_test": 128} if args.tiny else {}
        if args.tiny:
            args.steps, args.widths, args.seeds = 3, [8, 16], [0]
        configs = [member_config(w, s, 0, steps=args.steps, log_steps=[0, args.steps], **sizes)
                   for s in args.seeds for w in args.widths]
    workers = args.workers

    ceiling = matmul_gflops(n=256 if args.tiny else 2048)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{workers} workers; matmul ceiling {ceiling:.1f} GFLOP/s (fp32)")
    print(f"sweep: {len(configs)} configs (widths {args.widths} x seeds {args.seeds}), "
          f"{args.steps} steps each")

    rows = []
    serial_s, serial_cpu, reference = timed(configs, backend="serial", threads=workers)
    rows.append({"backend": "serial", "workers": 1, "threads": workers, "wall_s": serial_s,
                 "cpu_s": serial_cpu, "same_as_serial": True})
    loky_s, loky_cpu, loky = timed(configs, backend="loky", n_jobs=workers, threads=1)
    rows.append({"backend": "loky", "workers": workers, "threads": 1, "wall_s": loky_s,
                 "cpu_s": loky_cpu, "same_as_serial": same(loky, reference)})
    try:
        import distributed
    except ImportError:
        print("dask: skipped (pip install 'emergence-lib[cluster]' to include it)")
    else:
        start = time.perf_counter()
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            startup = time.perf_counter() - start
            dask_s, dask_cpu, dask = timed(configs, backend="dask",
                                           address=cluster.scheduler_address)
        rows.append({"backend": "dask-local", "workers": workers, "threads": 1,
                     "wall_s": dask_s, "cpu_s": dask_cpu, "cluster_start_s": startup,
                     "same_as_serial": same(dask, reference)})

    print(f"{'backend':>11} {'workers x threads':>18} {'wall s':>8} {'CPU s':>7} "
          f"{'vs serial':>10} {'same results':>13}")
    for row in rows:
        row["speedup_vs_serial"] = serial_s / row["wall_s"]
        extra = f"  (+{row['cluster_start_s']:.1f} s cluster start)" if "cluster_start_s" in row \
            else ""
        cpu = "n/a" if row["cpu_s"] is None else f"{row['cpu_s']:.1f}"
        print(f"{row['backend']:>11} {row['workers']:>9} x {row['threads']:<6} "
              f"{row['wall_s']:>8.2f} {cpu:>7} {row['speedup_vs_serial']:>9.2f}x "
              f"{str(row['same_as_serial']):>13}{extra}")
    if workers > 1 and not all(row["same_as_serial"] for row in rows):
        print(f"results differ from serial: serial used {workers} torch threads, the workers 1")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "configs": len(configs),
                                     "steps": args.steps, "matmul_gflops": ceiling,
                                     "torch": torch.__version__, "tiny": args.tiny}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
