"""The one training loop of the course: seeded, logs named metrics at chosen steps, shows
progress, and checkpoints so an interrupted run resumes to the same weights."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from ._validate import check_choice, check_float, check_int

Batch = Any
LossFn = Callable[[nn.Module, Batch], torch.Tensor]
Sampler = Callable[[int | None, torch.Generator], Batch]


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings; ``batch_size=None`` means full batch."""

    steps: int
    lr: float = 1e-3
    batch_size: int | None = None
    optimizer: str = "adamw"
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    momentum: float = 0.0
    schedule: str = "constant"
    warmup_frac: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        check_int("steps", self.steps, minimum=1)
        check_float("lr", self.lr, minimum=0.0, strict_min=True)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_choice("optimizer", self.optimizer, ["adamw", "adam", "sgd"])
        check_float("weight_decay", self.weight_decay, minimum=0.0)
        if len(self.betas) != 2:
            raise ValueError(f"betas must be a pair, got {self.betas!r}")
        for i, beta in enumerate(self.betas):
            check_float(f"betas[{i}]", beta, minimum=0.0, maximum=1.0, strict_max=True)
        check_float("momentum", self.momentum, minimum=0.0, maximum=1.0, strict_max=True)
        check_choice("schedule", self.schedule, ["constant", "onecycle"])
        check_float("warmup_frac", self.warmup_frac, minimum=0.0, maximum=1.0,
                    strict_min=True, strict_max=True)
        check_int("seed", self.seed, minimum=0)


class History:
    """Metric values recorded at logged steps: ``history["test_acc"]`` -> array over ``steps``."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}

    def log(self, step: int, metrics: Mapping[str, float]) -> None:
        """Append one row; every row must have the same metric names."""
        if self.steps and set(metrics) != set(self.values):
            raise ValueError(f"metrics logged at step {step} are {sorted(metrics)}, "
                             f"but earlier rows have {sorted(self.values)}")
        self.steps.append(int(step))
        for name, value in metrics.items():
            self.values.setdefault(name, []).append(float(value))

    @property
    def names(self) -> list[str]:
        return list(self.values)

    def __getitem__(self, name: str) -> np.ndarray:
        if name == "step":
            return np.asarray(self.steps)
        if name not in self.values:
            raise KeyError(f"no metric {name!r} in this history; it has {self.names}")
        return np.asarray(self.values[name])

    def __len__(self) -> int:
        return len(self.steps)

    def final(self, name: str) -> float:
        """Last logged value of ``name``."""
        return float(self[name][-1])

    def to_dict(self) -> dict[str, list]:
        return {"step": list(self.steps), **{k: list(v) for k, v in self.values.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence]) -> History:
        history = cls()
        history.steps = [int(s) for s in data["step"]]
        history.values = {k: [float(x) for x in v] for k, v in data.items() if k != "step"}
        return history

    def __repr__(self) -> str:
        return f"History({len(self)} rows, metrics={self.names})"


@dataclass
class TrainResult:
    """What ``train`` returns: the trained model, its history, optional weight snapshots."""

    model: nn.Module
    history: History
    snapshots: dict[int, dict[str, torch.Tensor]] = field(default_factory=dict)
    seconds: float = 0.0
    resumed_from: int | None = None


def log_spaced_steps(steps: int, n: int = 50, first: int = 0) -> list[int]:
    """About ``n`` distinct steps from ``first`` to ``steps``, evenly spaced in log(step + 1)."""
    steps = check_int("steps", steps, minimum=1)
    n = check_int("n", n, minimum=2)
    grid = np.unique(np.round(np.geomspace(first + 1, steps + 1, n) - 1).astype(int))
    return sorted(set(grid.tolist()) | {first, steps})


def minibatches(*tensors: torch.Tensor) -> Sampler:
    """A sampler over a fixed dataset: random rows (with replacement across batches), or the
    whole dataset when the batch size is None."""
    if not tensors:
        raise ValueError("minibatches needs at least one tensor")
    n = len(tensors[0])
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"tensors[{i}] must be a torch.Tensor, got {type(t).__name__}")
        if len(t) != n:
            raise ValueError(f"all tensors must have the same first dimension: tensors[0] has "
                             f"{n} rows, tensors[{i}] has {len(t)}")

    def sample(batch_size: int | None, generator: torch.Generator) -> tuple[torch.Tensor, ...]:
        if batch_size is None:
            return tensors
        idx = torch.randint(n, (batch_size,), generator=generator)
        return tuple(t[idx] for t in tensors)

    return sample


def _make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay)


def _make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                   total_steps=config.steps,
                                                   pct_start=config.warmup_frac)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


def _config_dict(config: TrainConfig) -> dict:
    d = dataclasses.asdict(config)
    d["betas"] = list(d["betas"])
    return d


def train(model: nn.Module, loss_fn: LossFn, data: Sampler | Sequence[torch.Tensor],
          config: TrainConfig, *,
          evaluate: Callable[[nn.Module], Mapping[str, float]] | None = None,
          log_steps: Iterable[int] | int | None = None, checkpoint: str | Path | None = None,
          checkpoint_every: int | None = None, snapshots: bool = False,
          progress: bool = True, desc: str | None = None,
          update: Callable[[nn.Module, Batch, float], torch.Tensor] | None = None) -> TrainResult:
    """Train ``model`` for ``config.steps`` updates of ``loss_fn(model, batch)``.

    data: a sampler ``(batch_size, generator) -> batch`` or a tuple of tensors (see minibatches).
    evaluate: ``model -> {name: value}``, run without gradients at each logged step.
    log_steps: the steps to log (0 = before training), an int for "every k steps", or None for
    about 50 log-spaced steps. checkpoint: a file to save to every ``checkpoint_every`` steps, at
    the end and on KeyboardInterrupt; if it exists, training resumes from it (a finished
    checkpoint returns at once). snapshots: keep a copy of the weights at every logged step.
    update: a hand-fused step ``(model, batch, lr) -> loss`` that replaces loss, backward and
    ``optimizer.step()`` (e.g. ``recipes.parity.hinge_sgd_update``); it applies plain SGD itself,
    so it needs ``optimizer="sgd"`` at a constant lr, without momentum or weight decay.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (model, batch) -> loss, got {loss_fn!r}")
    sample = data if callable(data) else minibatches(*data)
    if update is not None:
        if not callable(update):
            raise TypeError(f"update must be callable (model, batch, lr) -> loss, got {update!r}")
        if (config.optimizer != "sgd" or config.momentum or config.weight_decay
                or config.schedule != "constant"):
            raise ValueError(f"update applies plain SGD at a constant lr itself: it needs "
                             f"optimizer='sgd', momentum=0, weight_decay=0 and "
                             f"schedule='constant', got optimizer={config.optimizer!r}, "
                             f"momentum={config.momentum}, weight_decay={config.weight_decay}, "
                             f"schedule={config.schedule!r}")

    if log_steps is None:
        wanted = set(log_spaced_steps(config.steps))
    elif isinstance(log_steps, int):
        every = check_int("log_steps", log_steps, minimum=1)
        wanted = set(range(0, config.steps + 1, every)) | {config.steps}
    else:
        wanted = {check_int("log_steps[i]", s, minimum=0, maximum=config.steps)
                  for s in log_steps}
    if checkpoint_every is not None:
        checkpoint_every = check_int("checkpoint_every", checkpoint_every, minimum=1)

    generator = torch.Generator().manual_seed(config.seed)
    optimizer = _make_optimizer(model, config)
    scheduler = _make_scheduler(optimizer, config)
    history = History()
    kept: dict[int, dict[str, torch.Tensor]] = {}
    start, resumed_from = 0, None
    last_loss = float("nan")  # loss of the latest update, kept so a lost log row can be redone

    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = torch.load(path, weights_only=True)
        if state["config"] != _config_dict(config):
            raise ValueError(f"checkpoint {path} was written with config {state['config']}, "
                             f"not {_config_dict(config)}; delete it or choose another path")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        history = History.from_dict(state["history"])
        kept = {int(k): v for k, v in state["snapshots"].items()}
        start = resumed_from = int(state["step"])
        last_loss = float(state["last_loss"])

    def save(step: int) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        torch.save({"config": _config_dict(config), "step": step, "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(), "history": history.to_dict(),
                    "snapshots": {str(k): v for k, v in kept.items()},
                    "last_loss": last_loss}, tmp)
        tmp.replace(path)  # atomic: a crash mid-save never leaves a broken checkpoint

    def log(step: int, loss: float) -> None:
        row = {"loss": loss}
        if evaluate is not None:
            was_training = model.training
            model.eval()
            with torch.no_grad():
                row.update(evaluate(model))
            model.train(was_training)
        history.log(step, row)
        if snapshots:
            kept[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    began = time.perf_counter()
    step = start
    bar = tqdm(total=config.steps, initial=start, desc=desc, disable=not progress, leave=False)
    model.train()
    try:
        if start == 0 and 0 in wanted:
            with torch.no_grad():  # a side generator, so the training batches are unchanged
                side = torch.Generator().manual_seed(config.seed + 1)
                log(0, float(loss_fn(model, sample(config.batch_size, side))))
        elif start in wanted and history.steps[-1:] != [start]:  # a row lost to an interrupt
            log(start, last_loss)
        while step < config.steps:
            batch = sample(config.batch_size, generator)
            if update is None:
                loss = loss_fn(model, batch)
            else:  # the fused step updates the weights as it goes
                loss = update(model, batch, config.lr)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {float(loss.detach())} at step {step}; "
                                         f"try a smaller lr (now {config.lr})")
            if update is None:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
            step += 1
            bar.update(1)
            if step in wanted:
                last_loss = float(loss.detach())
                log(step, last_loss)
                bar.set_postfix(loss=f"{last_loss:.3g}", refresh=False)
            if checkpoint_every and step % checkpoint_every == 0 and step < config.steps:
                save(step)
    except KeyboardInterrupt:
        save(step)
        bar.close()
        if path is not None:
            print(f"Interrupted at step {step}; saved to {path}. Run again to resume.")
        raise
    bar.close()
    save(step)
    return TrainResult(model, history, kept, time.perf_counter() - began, resumed_from)
