"""Chapter 3's weight-decay x train-fraction grid trained as instances vs in a loop, side by side
in one run, with the machine's matmul ceiling measured in every round.

Two tables. End to end: the grid as the chapter runs it (``recipes.grokking.grokking_grid``, nine
``train()`` runs one after the other) against ``instances.grokking_grid`` (one batched model,
hand-written gradients) with one instance per matmul (chunk 1) and all at once (chunk all), each
with its evaluations every ``GRID_LOG_EVERY`` steps. Training step only, the ways of batching
measured: a loop of nn.Modules with torch.optim.AdamW; torch.func (stack_module_state + vmap +
functional_call over all p * p pairs with per-instance masks) with autograd; the hand-batched
BatchedSquaredMLP with autograd; and its fused_backward, chunk 1 and chunk all. Every batched
way steps the weights with ``instances.InstanceAdamW``.

    .venv/bin/python benchmarks/instances.py [--steps 300] [--rounds 3] [--tiny] [--json FILE]

The roofline line: the loop's training step does 6 * n_train * width * p multiply-add FLOPs
per instance (the unembedding matmul forward and its two backward products; everything else is
memory-bound), so ceiling / (the loop's achieved GFLOP/s) bounds what any way of batching can
gain without skipping arithmetic.

Rounds interleave the ways, so each round's ratios compare the same machine state; the medians
over rounds are printed last. Run it on an otherwise idle machine; CPU seconds (process time)
are shown beside wall seconds because they suffer less from other tenants.
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
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

from emergence_lib import instances
from emergence_lib.bench import matmul_gflops
from emergence_lib.instances import InstanceAdamW, _chunk_rows
from emergence_lib.models.batched_modular import BatchedSquaredMLP
from emergence_lib.recipes import grokking as recipe
from emergence_lib.tasks.modular import all_pairs, modular_addition


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (process) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def timed_steps(step: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Wall and CPU milliseconds per call over ``repeats`` consecutive calls."""
    wall, cpu = timed(lambda: [step() for _ in range(repeats)])
    return 1e3 * wall / repeats, 1e3 * cpu / repeats


def step_functions(wds: list[float], fracs: list[float], seed: int) -> dict[str, Callable]:
    """One full-batch AdamW step of every grid instance, for each way of batching."""
    setup = recipe.FAST
    pairs = [(wd, f) for wd in wds for f in fracs]
    S = len(pairs)
    datas = [modular_addition(setup.p, f, seed) for _, f in pairs]
    decays = [wd for wd, _ in pairs]
    adam = {"lr": setup.lr, "betas": setup.betas}

    def fresh() -> list:
        return [recipe.grokking_model(setup, seed) for _ in pairs]

    models = fresh()
    optims = [torch.optim.AdamW(m.parameters(), weight_decay=wd, **adam)
              for m, wd in zip(models, decays, strict=True)]

    def loop() -> None:
        for m, opt, d in zip(models, optims, datas, strict=True):
            loss = F.cross_entropy(m(d.x_train), d.y_train)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

    # torch.func: the same tokens for every instance (all p * p pairs), a mask per instance
    x, y = all_pairs(setup.p)
    mask = torch.zeros(S, len(y))
    for i, d in enumerate(datas):
        mask[i, d.train_idx] = 1.0 / len(d.train_idx)
    params, buffers = stack_module_state(fresh())
    params = {k: v.detach().clone().requires_grad_() for k, v in params.items()}
    base = recipe.grokking_model(setup, seed).to("meta")

    def instance_loss(p: dict, weight: torch.Tensor) -> torch.Tensor:
        logits = functional_call(base, (p, buffers), (x,))
        return (F.cross_entropy(logits, y, reduction="none") * weight).sum()

    batched_loss = vmap(instance_loss)
    vmap_opt = InstanceAdamW(list(params.values()), decays, **adam)

    def func() -> None:
        vmap_opt.zero_grad()
        batched_loss(params, mask).sum().backward()
        vmap_opt.step()

    # hand-batched, autograd: each instance's training rows padded to the longest
    auto = BatchedSquaredMLP.from_modules(fresh())
    _, a, b, yy, weight = _chunk_rows(datas, 0, S, torch.device("cpu"))
    tokens = torch.stack([a, b], -1)
    auto_opt = InstanceAdamW(auto.parameters(), decays, **adam)

    def autograd() -> None:
        auto_opt.zero_grad()
        ce = F.cross_entropy(auto(tokens).flatten(0, 1), yy.flatten(), reduction="none")
        (ce.view(S, -1) * weight).sum().backward()
        auto_opt.step()

    def fused(chunk: int) -> Callable[[], None]:
        model = BatchedSquaredMLP.from_modules(fresh())
        chunks = [_chunk_rows(datas, i, min(i + chunk, S), torch.device("cpu"))
                  for i in range(0, S, chunk)]
        opt = InstanceAdamW(model.parameters(), decays, **adam)

        def step() -> None:
            for start, *rows in chunks:
                model.fused_backward(*rows, start=start)
            opt.step()
        return step

    return {"loop of modules": loop, "torch.func vmap": func, "batched autograd": autograd,
            "fused, chunk 1": fused(1), "fused, chunk all": fused(S)}


def grid_step_flops(wds: list[float], fracs: list[float], seed: int) -> float:
    """Matmul FLOPs of one training step of every grid instance: forward (2 * n * width * p)
    and backward (twice that) of the unembedding, the model's only matmul."""
    setup = recipe.FAST
    rows = sum(len(modular_addition(setup.p, f, seed).y_train) for _ in wds for f in fracs)
    return 6.0 * rows * setup.width * setup.p


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300,
                        help=f"grid length end to end (the chapter: {recipe.GRID_STEPS})")
    parser.add_argument("--step-repeats", type=int, default=20,
                        help="timed training steps per way and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true",
                        help="a 2 x 1 grid, 30 steps, 1 round, 2 timed steps (smoke test)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    wds, fracs = list(recipe.GRID_WEIGHT_DECAYS), list(recipe.GRID_TRAIN_FRACS)
    if args.tiny:
        wds, fracs, args.steps, args.rounds, args.step_repeats = wds[:2], fracs[:1], 30, 1, 2

    grids = {
        "looped (recipe.grokking_grid)": lambda: recipe.grokking_grid(
            wds, fracs, steps=args.steps, seed=args.seed, progress=False),
        "instances, chunk 1": lambda: instances.grokking_grid(
            wds, fracs, steps=args.steps, seed=args.seed, chunk=1, progress=False),
        "instances, chunk all": lambda: instances.grokking_grid(
            wds, fracs, steps=args.steps, seed=args.seed, chunk=None, progress=False),
    }
    steps = step_functions(wds, fracs, args.seed)
    flops = grid_step_flops(wds, fracs, args.seed)
    for step in steps.values():  # warm-up
        step()
    looped, batched = (grids[k]() for k in ("looped (recipe.grokking_grid)",
                                            "instances, chunk 1"))
    worst = max(float(np.max(np.abs(looped[k]["test_loss"] - batched[k]["test_loss"])))
                for k in looped)
    worst_acc = max(float(np.max(np.abs(looped[k]["test_acc"] - batched[k]["test_acc"])))
                    for k in looped)
    same_grok = all(recipe.grokking_report(looped[k]).grokked_step
                    == recipe.grokking_report(batched[k]).grokked_step for k in looped)
    print(f"grid {len(wds)} x {len(fracs)}, {args.steps} steps; torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); instances vs looped: largest difference in "
          f"test loss {worst:.2e}, in test accuracy {worst_acc:.2e}; grokking steps "
          f"{'all equal' if same_grok else 'NOT all equal'}")

    rounds = []
    for r in range(args.rounds):
        ceiling = matmul_gflops(repeats=3)
        row: dict = {"matmul_gflops": ceiling}
        for name, fn in grids.items():
            row[name] = dict(zip(("wall_s", "cpu_s"), timed(fn), strict=True))
        for name, step in steps.items():
            row[name] = dict(zip(("wall_ms", "cpu_ms"), timed_steps(step, args.step_repeats),
                                 strict=True))
        base = row["looped (recipe.grokking_grid)"]
        for name in grids:
            row[name]["speedup_wall"] = base["wall_s"] / row[name]["wall_s"]
            row[name]["speedup_cpu"] = base["cpu_s"] / row[name]["cpu_s"]
        for name in steps:
            row[name]["speedup_cpu"] = row["loop of modules"]["cpu_ms"] / row[name]["cpu_ms"]
            row[name]["gflops"] = flops / (row[name]["wall_ms"] / 1e3) / 1e9
        row["speedup_bound"] = ceiling / row["loop of modules"]["gflops"]
        rounds.append(row)
        print(f"\nround {r + 1}: matmul ceiling {ceiling:.0f} GFLOP/s (fp32, "
              f"{torch.get_num_threads()} thread(s))")
        print(f"  {'grid end to end':<32}{'wall s':>9}{'CPU s':>9}{'x wall':>8}{'x CPU':>8}")
        for name in grids:
            v = row[name]
            print(f"  {name:<32}{v['wall_s']:>9.2f}{v['cpu_s']:>9.2f}"
                  f"{v['speedup_wall']:>8.2f}{v['speedup_cpu']:>8.2f}")
        print(f"  {'training step, all instances':<32}{'wall ms':>9}{'CPU ms':>9}{'x CPU':>8}"
              f"{'GFLOP/s':>9}")
        for name in steps:
            v = row[name]
            print(f"  {name:<32}{v['wall_ms']:>9.1f}{v['cpu_ms']:>9.1f}{v['speedup_cpu']:>8.2f}"
                  f"{v['gflops']:>9.1f}")
        print(f"  roofline: the loop runs its matmul FLOPs at "
              f"{row['loop of modules']['gflops']:.1f} GFLOP/s, so no batching can beat it by "
              f"more than {row['speedup_bound']:.1f}x here")

    median = {name: {k: float(np.median([r[name][k] for r in rounds])) for k in rounds[0][name]}
              for name in [*grids, *steps]}
    bound = float(np.median([r["speedup_bound"] for r in rounds]))
    ceilings = [r["matmul_gflops"] for r in rounds]
    print(f"\nmedians over {args.rounds} round(s); matmul ceiling {min(ceilings):.0f}-"
          f"{max(ceilings):.0f} GFLOP/s across rounds")
    for name in grids:
        print(f"  {name:<32} x{median[name]['speedup_cpu']:.2f} CPU, "
              f"x{median[name]['speedup_wall']:.2f} wall")
    for name in steps:
        print(f"  {name:<32} {median[name]['cpu_ms']:.1f} CPU ms/step, "
              f"x{median[name]['speedup_cpu']:.2f} CPU")
    verdict = ("so a 5x speed-up from batching is impossible on this machine" if bound < 5
               else "so a 5x speed-up is not ruled out by arithmetic here")
    print(f"  roofline bound on any batching: x{bound:.1f} (matmul ceiling / the loop's "
          f"achieved matmul GFLOP/s), {verdict}")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "grid": {"weight_decays": wds, "train_fracs": fracs, "steps": args.steps},
            "machine": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(), "test_loss_max_difference": worst,
            "test_acc_max_difference": worst_acc, "grokked_steps_equal": same_grok,
            "matmul_gflops": float(np.median(ceilings)), "step_matmul_flops": flops,
            "speedup_bound": bound, "rounds": rounds, "median": median},
            indent=1))


if __name__ == "__main__":
    main()
