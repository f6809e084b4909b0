"""The addition recipe of chapters 1-2: a family of MLPs of several widths trained alike on
4-digit addition (COURSE.md section 1). Every number of the setup lives here.

The family trains through ``sweep.run`` (one config per member, ``train_member``), so the same
call runs in this process, on every core (``EMERGENCE_SWEEP_BACKEND=loky``) or on a Dask cluster
(``EMERGENCE_DASK_SCHEDULER=tcp://host:8786``) without changing a chapter."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import sweep
from .._validate import check_int
from ..metrics import per_position_accuracy, score_predictions
from ..models import DigitMLP
from ..tasks import AdditionData, addition_problems
from ..train import History, TrainConfig, TrainResult, train
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


def addition_model(width: int, seed: int = 0, n_digits: int = N_DIGITS,
                   depth: int = DEPTH) -> DigitMLP:
    """The family's member of a given width: ``depth`` (DEPTH = 2) hidden ReLU layers, a head of
    (n+1) x 10 logits."""
    with seeded(seed):
        return DigitMLP(n_inputs=2 * n_digits, n_outputs=n_digits + 1, width=width, depth=depth)


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


def member_config(width: int, seed: int = 0, split: int = 0, *, steps: int = STEPS,
                  log_steps: Sequence[int] | None = None, n_digits: int = N_DIGITS,
                  n_train: int = N_TRAIN, n_test: int = N_TEST) -> dict:
    """The sweep config of one member (JSON values): everything ``train_member`` needs, so its
    hash (the cache key) changes whenever a number of the setup does."""
    width, seed = check_int("width", width, minimum=1), check_int("seed", seed, minimum=0)
    split, steps = check_int("split", split, minimum=0), check_int("steps", steps, minimum=1)
    if log_steps is None:
        log_steps = [s for s in STEP_AXIS_LOGS if s <= steps] + [steps]
    logged = sorted({check_int("log_steps[i]", s, minimum=0, maximum=steps) for s in log_steps})
    train_config = dataclasses.asdict(addition_config(steps, seed))
    train_config["betas"] = list(train_config["betas"])
    return {"width": width, "seed": seed, "split": split, "steps": steps, "log_steps": logged,
            "n_digits": check_int("n_digits", n_digits, minimum=1),
            "n_train": check_int("n_train", n_train, minimum=1),
            "n_test": check_int("n_test", n_test, minimum=1), "depth": DEPTH,
            "train": train_config}


def train_member(config: dict) -> dict:
    """Train one member from its ``member_config`` (data split ``config["split"]``): its weights,
    logged history and final test logits (n_test, n_digits + 1, 10). Run by ``sweep.run``."""
    data = addition_problems(config["n_digits"], config["n_train"], config["n_test"],
                             seed=config["split"])
    model = addition_model(config["width"], config["seed"], config["n_digits"], config["depth"])
    train_config = TrainConfig(**{**config["train"], "betas": tuple(config["train"]["betas"])})
    result = train(model, sequence_loss, (data.x_train, data.y_train), train_config,
                   evaluate=lambda m: evaluate_addition(m, data.x_test, data.y_test),
                   log_steps=config["log_steps"], progress=False)
    with torch.no_grad():
        logits = model(data.x_test)                      # (n_test, L, V)
    return {"weights": model.state_dict(), "history": result.history.to_dict(),
            "test_logits": logits, "seconds": result.seconds}


def train_addition_family(widths: Sequence[int] = WIDTHS, seeds: Sequence[int] = (0,),
                          splits: Sequence[int] = (0,), *, steps: int = STEPS,
                          log_steps: Sequence[int] | None = None,
                          cache_dir: str | Path | None = None,
                          backend: str | None = None, n_jobs: int | None = None,
                          progress: bool = True) -> list[FamilyMember]:
    """Train every (split, seed, width) combination through ``sweep.run``, logging test metrics
    at ``log_steps`` (default: dense around the jump, see STEP_AXIS_LOGS).

    With ``cache_dir`` each finished member is kept in ``cache_dir/addition/`` (keyed by its
    config), so a re-run, chapter 2, or a sweep resumed after an interrupt reuses it. backend,
    n_jobs: as in ``sweep.run`` (default: ``EMERGENCE_SWEEP_BACKEND``, else "dask" when
    ``EMERGENCE_DASK_SCHEDULER`` is set, else "serial" in this process)."""
    if not widths or not seeds or not splits:
        raise ValueError(f"widths, seeds and splits must be non-empty, got {list(widths)}, "
                         f"{list(seeds)}, {list(splits)}")
    runs = [(split, seed, width) for split in splits for seed in seeds for width in widths]
    configs = [member_config(width, seed, split, steps=steps, log_steps=log_steps)
               for split, seed, width in runs]
    folder = None if cache_dir is None else Path(cache_dir) / "addition"
    outputs = sweep.run(train_member, configs, backend, n_jobs, cache_dir=folder,
                        progress=progress)
    members = []
    for config, out in zip(configs, outputs, strict=True):
        model = addition_model(config["width"], config["seed"], config["n_digits"],
                               config["depth"])
        model.load_state_dict(out["weights"])
        history = History.from_dict(out["history"])
        scores = {k.removeprefix("test_"): v[-1] for k, v in history.values.items()}
        members.append(FamilyMember(config["width"], config["seed"], config["split"],
                                    count_parameters(model), scores, out["test_logits"],
                                    TrainResult(model, history, seconds=out["seconds"])))
    return members


def family_table(members: Sequence[FamilyMember], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(n_params, values) of one metric over the family, one entry per member."""
    if not members:
        raise ValueError("members must be non-empty")
    if metric not in members[0].scores:
        raise KeyError(f"no metric {metric!r}; the family has {sorted(members[0].scores)}")
    return (np.array([m.n_params for m in members], dtype=float),
            np.array([m.scores[metric] for m in members]))
