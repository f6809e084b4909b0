"""Benchmark chapter 5's batched seeds: S sparse-parity MLPs trained as one BatchedMLP (with
autograd + torch.optim.SGD, and with the fused ``hinge_sgd_update`` that the chapter uses) vs a
loop of S independent ``nn.Module`` + optimizer runs, the same work (each seed draws its own
batch), side by side in one run, with the achieved GFLOP/s against a large fp32 matmul measured
in the same run. Prints a table and writes JSON.

GFLOP/s counts model FLOPs, the usual 6 x parameters x samples of a training step (forward 2,
backward 4). A step does not compute the gradient of the inputs (they are data), so the FLOPs it
executes are fewer, 4 x parameters x samples + 2 x width x samples; the table shows both.

    .venv/bin/python benchmarks/batched_seeds.py [--seeds 32] [--widths 256 1000] [--rounds 7]

Run it on an otherwise idle machine; compare columns of one run only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from emergence_lib.bench import matmul_gflops, seconds_per_step
from emergence_lib.recipes.parity import FAST_MAIN, MAIN, training_step


def model_flops_per_step(seeds: int, batch: int, n: int, width: int) -> float:
    """Model FLOPs of one SGD step of all seeds: 6 x parameters x samples (biases included)."""
    params = n * width + width + width + 1
    return 6.0 * seeds * batch * params


def executed_flops_per_step(seeds: int, batch: int, n: int, width: int) -> float:
    """Matmul FLOPs a step executes: forward and weight gradients (2 + 2) x parameters x
    samples, plus the head's gradient into the hidden layer; no gradient of the inputs."""
    params = n * width + width + width + 1
    return seeds * batch * (4.0 * params + 2 * width)


def measure(setup: str, n: int, batch: int, width: int, steps: int,
            args: argparse.Namespace) -> dict:
    """Interleaved rounds of (matmul ceiling, looped, batched, fused chunk of steps): the
    machine's speed drifts (other tenants), so every ratio is taken within a round, and the
    table reports medians over rounds."""
    common = (args.seeds, n, args.k, width, batch, MAIN["lr"])
    runs = {"looped": training_step("loop", *common), "batched": training_step("batched", *common),
            "fused": training_step("fused", *common)}
    for step in runs.values():  # warm-up
        for _ in range(5):
            step()
    model = model_flops_per_step(args.seeds, batch, n, width)
    executed = executed_flops_per_step(args.seeds, batch, n, width)
    rounds = []
    for _ in range(args.rounds):
        ceiling = matmul_gflops(repeats=3)
        t = {name: seconds_per_step(step, steps) for name, step in runs.items()}
        rounds.append({"ceiling": ceiling, **{f"{name}_ms": 1e3 * v for name, v in t.items()},
                       "speedup_batched": t["looped"] / t["batched"],
                       "speedup_fused": t["looped"] / t["fused"],
                       "fused_model_gflops": model / t["fused"] / 1e9,
                       "fused_model_of_ceiling": model / t["fused"] / 1e9 / ceiling,
                       "fused_executed_of_ceiling": executed / t["fused"] / 1e9 / ceiling,
                       "batched_model_of_ceiling": model / t["batched"] / 1e9 / ceiling})
    median = {key: float(np.median([r[key] for r in rounds])) for key in rounds[0]}
    return {"setup": setup, "n": n, "batch": batch, "width": width, "steps": steps,
            "median": median, "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=32)
    parser.add_argument("--k", type=int, default=MAIN["k"])
    parser.add_argument("--widths", type=int, nargs="+", default=[256, 1000],
                        help="widths of the paper setup (n=50, batch 32)")
    parser.add_argument("--no-main", action="store_true",
                        help="skip the chapter's main-run setup (n=70, batch 256, width 1000)")
    parser.add_argument("--steps", type=int, default=30,
                        help="timed steps per chunk (the main-run setup, 8x the work, uses 1/4)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds per width")
    parser.add_argument("--json", type=Path, default=Path("_build/bench_batched_seeds.json"))
    args = parser.parse_args()

    rows = [measure("paper", MAIN["n"], MAIN["batch_size"], width, args.steps, args)
            for width in args.widths]
    if not args.no_main:
        rows.append(measure("main run", FAST_MAIN["n"], FAST_MAIN["batch_size"],
                            FAST_MAIN["width"], max(2, args.steps // 4), args))
    print(f"{args.seeds} seeds, k={args.k}, threads {torch.get_num_threads()}; medians over "
          f"{args.rounds} interleaved rounds. paper: Barak et al.'s n=50, batch 32; main run: "
          f"chapter 5's n=70, batch 256")
    print(f"{'setup':>8} {'width':>5} {'ceiling':>8} {'looped':>8} {'batched':>8} {'fused':>8} "
          f"{'speedup vs looped':>18} {'fused, of ceiling':>18} {'batched':>8}")
    print(f"{'':>8} {'':>5} {'GFLOP/s':>8} {'ms/step':>8} {'ms/step':>8} {'ms/step':>8} "
          f"{'batched':>9}{'fused':>9} {'model':>9}{'executed':>9} {'model':>8}")
    for row in rows:
        m = row["median"]
        print(f"{row['setup']:>8} {row['width']:>5} {m['ceiling']:>8.0f} {m['looped_ms']:>8.2f} "
              f"{m['batched_ms']:>8.2f} {m['fused_ms']:>8.2f} {m['speedup_batched']:>8.1f}x"
              f"{m['speedup_fused']:>8.1f}x {m['fused_model_of_ceiling']:>9.0%}"
              f"{m['fused_executed_of_ceiling']:>9.0%} {m['batched_model_of_ceiling']:>8.0%}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"settings": {k: (str(v) if isinstance(v, Path) else v)
                                                  for k, v in vars(args).items()},
                                     "threads": torch.get_num_threads(), "rows": rows},
                                    indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
