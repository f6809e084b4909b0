"""Chapter 7's sparsity sweep trained as instances of one BatchedToyModel vs a loop of separate
ToyModels, side by side in one run, with the machine's matmul ceiling measured in every round.

Three ways, the same instances, batches and AdamW settings: a Python loop of ``ToyModel``s, each
with its own ``torch.optim.AdamW`` and autograd; one ``BatchedToyModel`` with autograd; and one
``BatchedToyModel`` with the hand-written gradient (``fused_backward``), as the chapter trains.
After the timed steps the loop's and the batched models' weights are compared.

    .venv/bin/python benchmarks/superposition.py [--steps 300] [--rounds 3] [--tiny] [--json F]

Rounds interleave the ways, so each round's ratios compare the same machine state; medians over
rounds are printed last. CPU seconds (process time) are shown beside wall seconds because they
suffer less from other tenants; run with EMERGENCE_THREADS=1 on a shared machine. The achieved
GFLOP/s count only the five matmuls of a step (10 B n m FLOPs per instance): the toy model is
small, so drawing the sparse batch and the elementwise work dominate, far below the ceiling.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from emergence_lib.bench import matmul_gflops
from emergence_lib.models.toy_superposition import (
    BatchedToyModel,
    instance_losses,
    seeded_toy_models,
)
from emergence_lib.recipes import superposition as recipe
from emergence_lib.tasks.sparse_features import as_density, geometric_importance, sparse_features
from emergence_lib.utils import configure_threads


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (process) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def ways(n_inst: int, n: int, m: int, batch: int, steps: int, lr: float) -> tuple[dict, Callable]:
    """One training run of ``steps`` steps per way, all on the same pre-drawn batches; and a
    function returning the largest |W_loop - W_fused| after the runs."""
    S = np.linspace(0, 0.99, n_inst)
    density = as_density(torch.tensor(1 - S, dtype=torch.float32), n_inst, n)
    imp = geometric_importance(n, 0.9).expand(n_inst, n).contiguous()
    gen = torch.Generator().manual_seed(0)
    batches = [sparse_features(density, batch, gen) for _ in range(steps)]
    seeds = list(range(n_inst))
    adam = {"lr": lr, "weight_decay": recipe.WEIGHT_DECAY}
    models = {}

    def loop() -> None:
        mods = seeded_toy_models(seeds, n, m)
        opts = [torch.optim.AdamW(mod.parameters(), **adam) for mod in mods]
        for x in batches:
            for i, (mod, opt) in enumerate(zip(mods, opts, strict=True)):
                loss = instance_losses(x[i], mod(x[i]), imp[i])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        models["loop"] = torch.stack([mod.W.detach() for mod in mods])

    def autograd() -> None:
        model = BatchedToyModel.seeded(seeds, n, m)
        opt = torch.optim.AdamW(model.parameters(), **adam)
        for x in batches:
            loss = instance_losses(x, model(x), imp).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        models["autograd"] = model.W.detach()

    def fused() -> None:
        model = BatchedToyModel.seeded(seeds, n, m)
        opt = torch.optim.AdamW(model.parameters(), **adam)
        for x in batches:
            model.fused_backward(x, imp)
            opt.step()
        models["fused"] = model.W.detach()

    def difference() -> float:
        return max(float((models["loop"] - models[k]).abs().max()) for k in ("autograd", "fused"))

    return {"loop of ToyModels": loop, "batched autograd": autograd,
            "batched fused_backward": fused}, difference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="a few steps, one round (smoke test)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    threads = configure_threads()
    sp = recipe.FAST["sparse"]
    n_inst, n, m, batch = len(sp["sparsities"]), sp["n"], sp["m"], sp["batch"]
    steps, rounds = (5, 1) if args.tiny else (args.steps, args.rounds)
    print(f"{n_inst} instances of n={n}, m={m}, batch {batch}, {steps} AdamW steps per way; "
          f"torch {torch.__version__}, {threads} thread(s), {platform.processor() or 'cpu'}")
    report = {"instances": n_inst, "n": n, "m": m, "batch": batch, "steps": steps,
              "threads": threads, "rounds": []}
    diffs = []
    for r in range(rounds):
        ceiling = matmul_gflops(1024 if args.tiny else 2048, repeats=3)
        fns, difference = ways(n_inst, n, m, batch, steps, sp["lr"])
        row = {"matmul_gflops": ceiling}
        for name, fn in fns.items():
            wall, cpu = timed(fn)
            # matmul FLOPs of one instance-step: h = W x, W^T h, and the two gradient matmuls
            # plus W dz^T: 5 products of 2 B n m each (the elementwise work is not counted)
            flops = 10 * batch * n * m * n_inst * steps
            row[name] = {"wall_s": wall, "cpu_s": cpu,
                         "instance_steps_per_s": n_inst * steps / wall,
                         "matmul_gflops_achieved": flops / cpu / 1e9 if cpu > 0 else 0.0}
        diffs.append(difference())
        report["rounds"].append(row)
        base = row["loop of ToyModels"]["wall_s"]
        print(f"round {r + 1}: matmul ceiling {ceiling:.0f} GFLOP/s")
        for name in fns:
            t = row[name]
            print(f"  {name:>24}: {t['wall_s']:7.3f} s wall, {t['cpu_s']:7.3f} s CPU, "
                  f"{t['instance_steps_per_s']:9,.0f} instance-steps/s, "
                  f"{t['matmul_gflops_achieved']:5.1f} GFLOP/s of matmul per CPU s, "
                  f"{base / t['wall_s']:5.1f}x the loop")
    names = list(report["rounds"][0])[1:]
    print("median over rounds:", ", ".join(
        f"{name} {np.median([row[name]['wall_s'] for row in report['rounds']]):.3f} s"
        for name in names), f"| matmul ceiling "
        f"{np.median([row['matmul_gflops'] for row in report['rounds']]):.0f} GFLOP/s")
    report["matmul_gflops"] = float(np.median([row["matmul_gflops"] for row in report["rounds"]]))
    report["weight_max_difference"] = float(max(diffs))
    print(f"largest |W_loop - W_batched| after the runs: {max(diffs):.2e}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
