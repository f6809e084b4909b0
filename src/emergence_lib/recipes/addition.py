"""The addition recipe of chapters 1-2: a family of MLPs of several widths trained alike on
4-digit addition (COURSE.md section 1). Every number of the setup lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .._validate import check_int
from ..metrics import per_position_accuracy, score_predictions
from ..models import DigitMLP
from ..tasks import AdditionData, addition_problems
from ..train import TrainConfig, TrainResult, train
from ..utils import count_parameters, seeded

N_DIGITS = 4
N_TRAIN = 30_000
N_TEST = 5_000
DEPTH = 2
STEPS = 3_000
WIDTHS = (8, 16, 32, 64, 128, 256)
FAST = {"widths": WIDTHS, "seeds": (0,), "splits": (0,)}
FULL = {"widths": WIDTHS, "seeds": (0, 1, 2), "splits": (0, 1)}
# Along the training axis the jump of the widest model sits between steps 250 and 750.
STEP_AXIS_LOGS = sorted({*range(0, 250, 50), *range(250, 1000, 25), *range(1000, STEPS + 1, 250)})


def addition_config(steps: int = STEPS, seed: int = 0) -> TrainConfig:
    """AdamW lr 3e-3 (weight decay 0.01), one-cycle schedule with 10% warm-up, batch 256."""
    return TrainConfig(steps=steps, lr=3e-3, batch_size=256, optimizer="adamw",
                       weight_decay=0.01, schedule="onecycle", warmup_frac=0.1, seed=seed)


def addition_model(width: int, seed: int = 0, n_digits: int = N_DIGITS) -> DigitMLP:
    """The family's member of a given width: 2 hidden ReLU layers, a head of (n+1) x 10 logits."""
    with seeded(seed):
        return DigitMLP(n_inputs=2 * n_digits, n_outputs=n_digits + 1, width=width, depth=DEPTH)


def sequence_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy over answer tokens: x (B, n_in), y (B, L)."""
    x, y = batch
    logits = model(x)                                   # (B, L, V)
    return F.cross_entropy(logits.flatten(0, 1), y.flatten())


def evaluate_addition(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
                      prefix: str = "test_") -> dict[str, float]:
    """Every sequence metric on (x, y), plus the accuracy of each answer position."""
    logits = model(x)
    scores = {prefix + k: v for k, v in score_predictions(logits, y).items()}
    for i, acc in enumerate(per_position_accuracy(logits.argmax(-1), y)):
        scores[f"{prefix}pos{i}_accuracy"] = float(acc)
    return scores


@dataclass
class FamilyMember:
    """One trained model of the family and its final test scores and test logits (N, L, V)."""

    width: int
    seed: int
    split: int
    n_params: int
    scores: dict[str, float]
    test_logits: torch.Tensor
    result: TrainResult


def train_addition_model(width: int, data: AdditionData, *, seed: int = 0, steps: int = STEPS,
                         log_steps: Sequence[int] | int | None = None,
                         checkpoint: str | Path | None = None,
                         progress: bool = True) -> TrainResult:
    """Train one member of the family on ``data``, logging test metrics at ``log_steps``."""
    width = check_int("width", width, minimum=1)
    model = addition_model(width, seed, data.n_digits)
    return train(model, sequence_loss, (data.x_train, data.y_train),
                 addition_config(steps, seed),
                 evaluate=lambda m: evaluate_addition(m, data.x_test, data.y_test),
                 log_steps=log_steps if log_steps is not None else [0, steps],
                 checkpoint=checkpoint, progress=progress, desc=f"width {width}")


def train_addition_family(widths: Sequence[int] = WIDTHS, seeds: Sequence[int] = (0,),
                          splits: Sequence[int] = (0,), *, steps: int = STEPS,
                          log_steps: Sequence[int] | None = None,
                          cache_dir: str | Path | None = None,
                          progress: bool = True) -> list[FamilyMember]:
    """Train every (split, seed, width) combination, logging test metrics at ``log_steps``
    (default: dense around the jump, see STEP_AXIS_LOGS). With ``cache_dir`` each run
    checkpoints there, so re-running (or resuming after an interrupt) reuses finished work."""
    if log_steps is None:
        log_steps = [s for s in STEP_AXIS_LOGS if s <= steps] + [steps]
    if not widths or not seeds or not splits:
        raise ValueError(f"widths, seeds and splits must be non-empty, got {list(widths)}, "
                         f"{list(seeds)}, {list(splits)}")
    members = []
    runs = [(s, seed, w) for s in splits for seed in seeds for w in widths]
    for split, seed, width in tqdm(runs, desc="family", disable=not progress, leave=False):
        data = addition_problems(N_DIGITS, N_TRAIN, N_TEST, seed=split)
        path = None if cache_dir is None else (
            Path(cache_dir) / f"addition_w{width}_seed{seed}_split{split}_steps{steps}.pt")
        result = train_addition_model(width, data, seed=seed, steps=steps, log_steps=log_steps,
                                      checkpoint=path, progress=False)
        with torch.no_grad():
            logits = result.model(data.x_test)
        scores = {k.removeprefix("test_"): v[-1] for k, v in result.history.values.items()}
        members.append(FamilyMember(width, seed, split, count_parameters(result.model), scores,
                                    logits, result))
    return members


def family_table(members: Sequence[FamilyMember], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(n_params, values) of one metric over the family, one entry per member."""
    if not members:
        raise ValueError("members must be non-empty")
    if metric not in members[0].scores:
        raise KeyError(f"no metric {metric!r}; the family has {sorted(members[0].scores)}")
    return (np.array([m.n_params for m in members], dtype=float),
            np.array([m.scores[metric] for m in members]))
