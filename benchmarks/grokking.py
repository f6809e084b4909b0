"""Benchmark chapter 3's FULL model (Nanda et al.'s one-layer transformer on p=113).

Compares, in one run, the library's training loop with a plain PyTorch loop (steps per second),
reports the achieved GFLOP/s against a large fp32 matmul measured in the same run, and with
``--full`` measures the time to grok (test accuracy >= 95%). With ``--peer DIR`` (a checkout of
github.com/mechanistic-interpretability-grokking/progress-measures-paper, which is not part of
this repository) it also times that paper's own training step, ``Trainer.do_a_training_step``
of its ``transformers.py``, on the same configuration (wandb and plotly, which it imports for
logging and plots, are replaced by empty stand-ins). Loops are timed in interleaved rounds;
the table shows medians. Prints a table, writes JSON.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/grokking.py [--steps 100] [--rounds 3]
        [--full] [--peer /path/to/progress-measures-paper]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import torch
import torch.nn.functional as F

from emergence_lib.bench import matmul_gflops
from emergence_lib.recipes.grokking import (
    FULL,
    GROKKED_ACC,
    answer_logits,
    grokking_config,
    grokking_model,
    train_grokking,
)
from emergence_lib.tasks.modular import modular_addition
from emergence_lib.train import train


def flops_per_step(n_train: int) -> float:
    """Matmul FLOPs of one full-batch step (forward + backward = 3x forward), last position only
    for queries, MLP and unembedding; keys and values at all 3 positions."""
    d, h, dh, m, v = FULL.d_model, FULL.n_heads, FULL.d_head, FULL.d_mlp, FULL.p + 1
    per_example = 2 * (3 * 2 * d * h * dh          # keys and values, 3 positions
                       + d * h * dh + h * dh * d     # query and output, last position
                       + 2 * d * m + d * v)          # MLP and unembedding, last position
    return 3.0 * per_example * n_train


def plain_loop(steps: int) -> float:
    """Seconds for ``steps`` full-batch AdamW steps written directly in PyTorch."""
    data = modular_addition(FULL.p, FULL.train_frac, 0)
    model = grokking_model(FULL, 0)
    opt = torch.optim.AdamW(model.parameters(), lr=FULL.lr, betas=FULL.betas,
                            weight_decay=FULL.weight_decay)
    start = time.perf_counter()
    for _ in range(steps):
        loss = F.cross_entropy(answer_logits(model, data.x_train, FULL.p), data.y_train)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def library_loop(steps: int) -> float:
    """Seconds for the same steps through ``emergence_lib.train`` (no evaluation, no logging)."""
    data = modular_addition(FULL.p, FULL.train_frac, 0)
    model = grokking_model(FULL, 0)

    def loss_fn(m, batch):
        return F.cross_entropy(answer_logits(m, batch[0], FULL.p), batch[1])

    start = time.perf_counter()
    train(model, loss_fn, (data.x_train, data.y_train), grokking_config(FULL, 0, steps=steps),
          log_steps=[steps], progress=False)
    return time.perf_counter() - start


def load_peer(checkout: Path) -> types.ModuleType:
    """Import ``transformers.py`` of a progress-measures-paper checkout as a package module,
    with wandb and plotly (logging and plotting only) replaced by stand-ins."""
    if not (checkout / "transformers.py").is_file() or not (checkout / "helpers.py").is_file():
        raise SystemExit(f"--peer: {checkout} has no transformers.py and helpers.py; pass a "
                         "checkout of progress-measures-paper")
    for name in ("wandb", "plotly", "plotly.express", "plotly.io", "plotly.graph_objects"):
        sys.modules.setdefault(name, mock.MagicMock(name=name))
    package = types.ModuleType("progress_measures_paper")
    package.__path__ = [str(checkout)]
    sys.modules["progress_measures_paper"] = package
    return importlib.import_module("progress_measures_paper.transformers")


def peer_loop(peer: types.ModuleType) -> Callable[[int], float]:
    """Seconds for ``steps`` of the paper's own ``Trainer.do_a_training_step`` (its full-batch
    step: train and test loss in float64, AdamW, warm-up schedule) on FULL's configuration."""
    config = peer.Config(lr=FULL.lr, weight_decay=FULL.weight_decay, p=FULL.p,
                         d_model=FULL.d_model, frac_train=FULL.train_frac, seed=0,
                         device=torch.device("cpu"))

    def run(steps: int) -> float:
        with contextlib.redirect_stdout(io.StringIO()):   # it prints split sizes and losses
            trainer = peer.Trainer(config)
            start = time.perf_counter()
            for epoch in range(steps):
                trainer.do_a_training_step(epoch)
            return time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per loop (default 100)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--full", action="store_true", help="also time FULL to grokking")
    parser.add_argument("--peer", type=Path, default=None,
                        help="a checkout of progress-measures-paper: also time its own step")
    parser.add_argument("--out", default="_build/bench_grokking.json")
    args = parser.parse_args()
    if args.steps < 1:
        parser.error(f"--steps must be >= 1, got {args.steps}")
    if args.rounds < 1:
        parser.error(f"--rounds must be >= 1, got {args.rounds}")
    loops: dict[str, Callable[[int], float]] = {"plain PyTorch": plain_loop,
                                                "emergence_lib.train": library_loop}
    if args.peer is not None:
        loops["progress-measures-paper"] = peer_loop(load_peer(args.peer))

    n_train = len(modular_addition(FULL.p, FULL.train_frac, 0).x_train)
    ceiling = matmul_gflops()
    plain_loop(5)  # warm-up
    results = {"threads": torch.get_num_threads(), "steps": args.steps, "rounds": args.rounds,
               "matmul_ceiling_gflops": ceiling, "loops": {}}
    seconds: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(args.rounds):
        for name, fn in loops.items():
            seconds[name].append(fn(args.steps))
    for name, times in seconds.items():
        median = statistics.median(times)
        results["loops"][name] = {"steps_per_s": args.steps / median,
                                  "ms_per_step": 1e3 * median / args.steps,
                                  "gflops": flops_per_step(n_train) * args.steps / median / 1e9,
                                  "rounds_s": times}
    lib = results["loops"]["emergence_lib.train"]["steps_per_s"]
    for r in results["loops"].values():
        r["library_speedup"] = lib / r["steps_per_s"]
    if args.full:
        run = train_grokking(FULL, 0, snapshots=False)
        steps, acc = run.steps, run["test_acc"]
        hit = [int(s) for s, a in zip(steps, acc, strict=True) if a >= GROKKED_ACC]
        per_step = run.result.seconds / FULL.steps
        results["full"] = {"steps": FULL.steps, "seconds": run.result.seconds,
                           "grokked_step": hit[0] if hit else None,
                           "seconds_to_grok": hit[0] * per_step if hit else None,
                           "final_test_acc": float(acc[-1])}

    print(f"FULL model, {n_train} training pairs, {results['threads']} threads; "
          f"matmul ceiling {ceiling:.1f} GFLOP/s (timings under contention if the CPU is shared)")
    print(f"{'loop (median of ' + str(args.rounds) + ')':<26}{'steps/s':>10}{'ms/step':>10}"
          f"{'GFLOP/s':>10}{'% ceiling':>11}{'library is':>12}")
    for name, r in results["loops"].items():
        print(f"{name:<26}{r['steps_per_s']:>10.2f}{r['ms_per_step']:>10.1f}"
              f"{r['gflops']:>10.1f}{100 * r['gflops'] / ceiling:>10.1f}%"
              f"{r['library_speedup']:>11.2f}x")
    if "full" in results:
        f = results["full"]
        print(f"FULL: {f['steps']} steps in {f['seconds']:.0f} s; test acc >= {GROKKED_ACC:.0%} "
              f"at step {f['grokked_step']} (~{f['seconds_to_grok'] or float('nan'):.0f} s)")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
