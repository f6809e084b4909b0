"""Which intra-op thread count and OpenMP wait policy should the book build use?

Times the training step of each chapter family's model (chapter 1's addition MLP, chapter 3's
grokking MLP and its weight-decay x train-fraction grid as instances, chapter 4's two-layer
attention-only transformer, chapter 5's batched seeds) under every combination of
``EMERGENCE_THREADS``/``OMP_NUM_THREADS`` in {1, 2} and ``OMP_WAIT_POLICY`` in {unset, PASSIVE,
ACTIVE}. Each combination runs in a fresh worker process (the OpenMP runtime reads its
environment once, at start), rounds are interleaved so a drifting machine hurts every setting
alike, and the matmul ceiling is measured in each worker beside the timings.

    .venv/bin/python benchmarks/threads.py [--rounds 2] [--scale 1.0] [--json FILE]

Run it on an otherwise idle machine: two processes training at once on 2 cores make OpenMP
threads spin, and the table would measure that instead.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

THREADS = (1, 2)
POLICIES = ("unset", "PASSIVE", "ACTIVE")


def workloads(scale: float) -> dict[str, float]:
    """Seconds per training step of each workload, in this process (the worker side)."""
    from emergence_lib import instances
    from emergence_lib.recipes import addition, grokking, induction, parity
    from emergence_lib.tasks import addition_problems

    def steps(n: int) -> int:
        return max(2, int(n * scale))

    out: dict[str, float] = {}

    def timed(name: str, n_steps: int, fn) -> None:
        start = time.perf_counter()
        fn(n_steps)
        out[name] = (time.perf_counter() - start) / n_steps

    data = addition_problems(addition.N_DIGITS, 2_000, 500, seed=0)
    timed("ch01 addition MLP (width 256)", steps(300), lambda n: addition.train_addition_model(
        256, data, steps=n, log_steps=[0, n], progress=False))
    timed("ch03 grokking MLP", steps(400), lambda n: grokking.train_grokking(
        grokking.FAST, steps=n, log_every=n, snapshots=False, progress=False))
    timed("ch03 grid, 6 instances", steps(200), lambda n: instances.grokking_grid(
        steps=n, progress=False))
    timed("ch04 2-layer transformer", steps(100), lambda n: induction.train_induction(
        induction.FAST, steps=n, log_every=n, snapshots=False, text=False, progress=False))
    main = parity.FAST_MAIN
    timed("ch05 4 seeds, width 1000", steps(100), lambda n: parity.train_parity_seeds(
        main["n"], main["k"], range(4), width=main["width"], steps=n, lr=main["lr"],
        batch_size=main["batch_size"], log_every=n, progress=False))
    return out


def worker(scale: float) -> None:
    """Print one JSON line: the ceiling and the per-step seconds, at this process's settings."""
    from emergence_lib.bench import matmul_gflops
    from emergence_lib.utils import configure_threads

    configure_threads()
    import torch

    record = {"threads": torch.get_num_threads(),
              "policy": os.environ.get("OMP_WAIT_POLICY", "unset"),
              "ceiling_gflops": matmul_gflops(1024 if scale < 0.5 else 2048)}
    record["seconds_per_step"] = workloads(scale)
    print(json.dumps(record))


def run_worker(threads: int, policy: str, scale: float) -> dict:
    """One fresh process at the given settings; its JSON record."""
    env = dict(os.environ, EMERGENCE_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env.pop("OMP_WAIT_POLICY", None)
    if policy != "unset":
        env["OMP_WAIT_POLICY"] = policy
    args = [sys.executable, __file__, "--worker", "--scale", str(scale)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker threads={threads} policy={policy} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="fraction of each workload's steps (0.1: a smoke test)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if not 0 < args.scale <= 10:
        parser.error(f"--scale must be in (0, 10], got {args.scale}")
    if args.worker:
        worker(args.scale)
        return {}
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")

    settings = [(t, p) for t in THREADS for p in POLICIES]
    records: dict[tuple[int, str], list[dict]] = {s: [] for s in settings}
    for _ in range(args.rounds):
        for threads, policy in settings:
            records[(threads, policy)].append(run_worker(threads, policy, args.scale))

    names = list(next(iter(records.values()))[0]["seconds_per_step"])
    table = []
    for (threads, policy), recs in records.items():
        row = {"threads": threads, "policy": policy,
               "ceiling_gflops": statistics.median(r["ceiling_gflops"] for r in recs),
               "ms_per_step": {n: 1e3 * statistics.median(r["seconds_per_step"][n] for r in recs)
                               for n in names}}
        table.append(row)
    base = next(r for r in table if r["threads"] == 2 and r["policy"] == "unset")
    header = f"{'threads':>7} {'OMP_WAIT_POLICY':>15} {'ceiling':>9} " + " ".join(
        f"{n[:26]:>28}" for n in names)
    print(header)
    for row in table:
        ms, ref = row["ms_per_step"], base["ms_per_step"]
        cells = " ".join(f"{ms[n]:9.2f} ms ({ref[n] / ms[n]:4.2f}x)".rjust(28) for n in names)
        print(f"{row['threads']:>7} {row['policy']:>15} {row['ceiling_gflops']:7.0f} GF {cells}")
    print("(ratio: speed relative to 2 threads with OMP_WAIT_POLICY unset, the default; "
          f"medians over {args.rounds} interleaved rounds)")
    result = {"rounds": args.rounds, "scale": args.scale, "table": table}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
