"""The library's training loop against a plain PyTorch loop training the same model the same
way (chapter 1's addition MLP), side by side in one run. Prints a table, writes JSON.

    .venv/bin/python benchmarks/train_loop.py [--steps 500] [--widths 64 256] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

from emergence_lib.bench import matmul_gflops, seconds_per_step
from emergence_lib.recipes.addition import (
    N_DIGITS,
    N_TEST,
    N_TRAIN,
    addition_config,
    addition_model,
    sequence_loss,
)
from emergence_lib.tasks import addition_problems
from emergence_lib.train import train
from emergence_lib.utils import count_parameters


def plain_loop(width: int, steps: int, x: torch.Tensor, y: torch.Tensor) -> float:
    """Seconds for ``steps`` updates written as a bare PyTorch loop (same model, optimiser,
    schedule and batches as the library's)."""
    model = addition_model(width, seed=0)
    config = addition_config(steps)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, betas=config.betas,
                                  weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                    total_steps=steps,
                                                    pct_start=config.warmup_frac)
    generator = torch.Generator().manual_seed(config.seed)

    def step() -> None:
        idx = torch.randint(len(x), (config.batch_size,), generator=generator)
        loss = sequence_loss(model, (x[idx], y[idx]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()

    return seconds_per_step(step, steps) * steps


def library_loop(width: int, steps: int, x: torch.Tensor, y: torch.Tensor) -> float:
    """Seconds for ``steps`` updates through ``emergence_lib.train.train`` (no evaluation)."""
    model = addition_model(width, seed=0)
    result = train(model, sequence_loss, (x, y), addition_config(steps), log_steps=[steps],
                   progress=False)
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("_build/bench_train_loop.json"))
    args = parser.parse_args()

    data = addition_problems(N_DIGITS, N_TRAIN, N_TEST, seed=0)
    x, y = data.x_train, data.y_train
    rows = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}")
    print(f"matmul ceiling: {matmul_gflops():.1f} GFLOP/s (fp32, 2048^3)")
    print(f"{'width':>6} {'params':>8} {'plain steps/s':>14} {'library steps/s':>16} {'ratio':>6}")
    for width in args.widths:
        plain = min(plain_loop(width, args.steps, x, y) for _ in range(args.repeats))
        library = min(library_loop(width, args.steps, x, y) for _ in range(args.repeats))
        row = {"width": width, "params": count_parameters(addition_model(width)),
               "steps": args.steps, "plain_steps_per_s": args.steps / plain,
               "library_steps_per_s": args.steps / library, "library_over_plain": plain / library}
        rows.append(row)
        print(f"{width:>6} {row['params']:>8} {row['plain_steps_per_s']:>14.0f} "
              f"{row['library_steps_per_s']:>16.0f} {row['library_over_plain']:>6.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "torch": torch.__version__,
                                    "threads": torch.get_num_threads()}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
