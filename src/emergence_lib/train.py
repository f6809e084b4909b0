"""The one training loop of the course: seeded, logs named metrics at chosen steps, shows
progress, and checkpoints so an interrupted run resumes to the same weights."""

from __future__ import annotations

import contextlib
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
    """Optimisation settings; ``batch_size=None`` means full batch.

    Off by default (a default config trains exactly as before): ``clip_grad_norm`` clips the
    gradients' total norm before each update; ``autocast_after`` runs the loss (forward) of the
    updates from that step on in reduced precision (bfloat16 autocast on a CPU, float16 with a
    gradient scaler on CUDA); ``patience`` stops training when the ``monitor`` entry of
    ``evaluate``'s results (lower is better) has not improved for that many logs.
    """

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
    clip_grad_norm: float | None = None
    autocast_after: int | None = None
    patience: int | None = None
    monitor: str | None = None

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
        if self.clip_grad_norm is not None:
            check_float("clip_grad_norm", self.clip_grad_norm, minimum=0.0, strict_min=True)
        if self.autocast_after is not None:
            check_int("autocast_after", self.autocast_after, minimum=0)
        if self.patience is not None:
            check_int("patience", self.patience, minimum=1)
            if not isinstance(self.monitor, str) or not self.monitor:
                raise ValueError(f"patience needs monitor, the name of an entry of evaluate()'s "
                                 f"results to watch (lower is better), got monitor="
                                 f"{self.monitor!r}")
        elif self.monitor is not None:
            raise ValueError(f"monitor={self.monitor!r} is only used for early stopping: give "
                             f"patience too (or leave monitor at None)")


class CheckpointError(ValueError):
    """A checkpoint (or sweep-cache entry) that cannot be used; the message names the file,
    what is wrong with it and what to do."""


def _describe_unreadable(path: Path, err: BaseException) -> str:
    """Why ``torch.load`` failed, in words that never advise an unsafe load."""
    size = path.stat().st_size if path.exists() else 0
    with open(path, "rb") as f:
        head = f.read(4)
    refused = type(err).__name__ == "UnpicklingError" and "Weights only load failed" in str(err)
    if size == 0:
        return "the file is empty (written by a run that was killed, or a failed copy?)"
    if head.startswith(b"PK") and refused:
        return ("it is a PyTorch file this library did not write: it holds Python objects "
                "that a safe load (weights_only=True) refuses to run")
    if head.startswith(b"PK"):
        return ("it is a truncated or corrupt PyTorch file (written by a run that was killed, "
                "or an incomplete copy?)")
    return (f"it is not a PyTorch file this library wrote (random bytes, another format, or "
            f"a pickle that a safe load refuses to run; {type(err).__name__})")


def load_file(path: str | Path, what: str = "checkpoint", other: str = "path") -> Any:
    """``torch.load(path, weights_only=True)``, or a ``CheckpointError`` naming the file, what is
    wrong and what to do (delete it, or pass another ``other``); never an unsafe load, and never
    advice to make one."""
    path = Path(path)
    fix = f"delete it (rm '{path}') to start afresh, or pass another {other}"
    if path.is_dir():
        raise CheckpointError(f"{what} {path} is a folder, not a file: pass a file path")
    try:
        return torch.load(path, weights_only=True)
    except Exception as err:  # every failure gets the same safe advice
        reason = _describe_unreadable(path, err)
    raise CheckpointError(f"{what} {path} cannot be read: {reason}. Loading stays "
                          f"weights_only=True, so an untrusted file never runs code: {fix}.")


_CHECKPOINT_KEYS = ("config", "step", "model", "optimizer", "scheduler", "generator", "history",
                    "snapshots", "last_loss")


def _check_model_state(path: Path, state: Mapping, model: nn.Module) -> None:
    """Refuse (before touching ``model``) weights whose names or shapes differ from its own."""
    fix = f"delete it (rm '{path}') or pass another path for this model's checkpoint"
    if not isinstance(state, Mapping):
        raise CheckpointError(f"checkpoint {path} holds no model weights (its 'model' entry is "
                              f"a {type(state).__name__}): {fix}")
    own = model.state_dict()
    missing, unexpected = sorted(set(own) - set(state)), sorted(set(state) - set(own))
    shapes = [f"{k}: {tuple(state[k].shape)} in the file, {tuple(v.shape)} here"
              for k, v in own.items() if k in state and isinstance(state[k], torch.Tensor)
              and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        found = "; ".join(part for part in (
            f"missing {missing[:4]}{' ...' if len(missing) > 4 else ''}" if missing else "",
            f"unexpected {unexpected[:4]}{' ...' if len(unexpected) > 4 else ''}"
            if unexpected else "",
            f"other shapes ({'; '.join(shapes[:3])}{' ...' if len(shapes) > 3 else ''})"
            if shapes else "") if part)
        raise CheckpointError(f"checkpoint {path} holds the weights of another model "
                              f"({type(model).__name__} here: {found}): {fix}")


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
    stopped_at: int | None = None      # the last step trained
    stop_reason: str = "steps"         # "steps": all config.steps ran; "patience": early stop
    best_step: int | None = None       # with patience: the logged step of the best monitor value
    best_value: float | None = None


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
    """The config's optimizer with ``foreach=True``: one kernel per operation over all the
    parameters instead of a loop over them (PyTorch's default on a CPU), the same arithmetic
    (tests/test_train.py checks bit equality) and 10-15% faster a step on the small models."""
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay, foreach=True)
    cls = torch.optim.AdamW if config.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=config.lr, betas=config.betas, weight_decay=config.weight_decay,
               foreach=True)


def _make_scheduler(optimizer: torch.optim.Optimizer, config: TrainConfig):
    if config.schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                   total_steps=config.steps,
                                                   pct_start=config.warmup_frac)
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)


# fields added after checkpoints were first written: left out of a checkpoint's config at
# their defaults, so the files of earlier runs still match their config and load
_LATER_FIELDS = {"clip_grad_norm": None, "autocast_after": None, "patience": None,
                 "monitor": None}


def _config_dict(config: TrainConfig) -> dict:
    d = dataclasses.asdict(config)
    d["betas"] = list(d["betas"])
    for name, default in _LATER_FIELDS.items():
        if d[name] == default:
            del d[name]
    return d


def _patience_state(values: Sequence[float]) -> tuple[int, float, int]:
    """(index of the best value, best value, logs since it improved) of a monitored column."""
    best, best_i = float("inf"), -1
    for i, value in enumerate(values):
        if value < best:
            best, best_i = value, i
    return best_i, best, len(values) - 1 - best_i


def _autocast(device: torch.device):
    """Reduced precision for a forward pass on ``device``: bfloat16 on a CPU, float16 on CUDA."""
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device_type=device.type, dtype=dtype)


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
    so it needs ``optimizer="sgd"`` at a constant lr, without momentum or weight decay (and
    none of clip_grad_norm, autocast_after).
    With ``config.patience`` the run may stop before ``config.steps``: the result's
    ``stopped_at``, ``stop_reason``, ``best_step`` and ``best_value`` say where and why.
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
        if config.clip_grad_norm is not None or config.autocast_after is not None:
            raise ValueError(f"update replaces the loss, backward and optimizer step, so it "
                             f"cannot clip gradients or autocast: give clip_grad_norm=None and "
                             f"autocast_after=None, got clip_grad_norm={config.clip_grad_norm}, "
                             f"autocast_after={config.autocast_after}")
    if config.patience is not None and evaluate is None:
        raise ValueError(f"patience={config.patience} watches evaluate()'s {config.monitor!r}: "
                         f"pass evaluate=")

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
    device = next(model.parameters()).device
    scaler = None  # float16 autocast on CUDA needs loss scaling (bfloat16 on a CPU does not)
    if config.autocast_after is not None and device.type == "cuda":
        scaler = torch.amp.GradScaler("cuda")
    history = History()
    kept: dict[int, dict[str, torch.Tensor]] = {}
    start, resumed_from = 0, None
    last_loss = float("nan")  # loss of the latest update, kept so a lost log row can be redone

    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = load_file(path, "checkpoint")
        if not isinstance(state, Mapping) or not set(_CHECKPOINT_KEYS) <= set(state):
            found = sorted(state)[:6] if isinstance(state, Mapping) else type(state).__name__
            raise CheckpointError(f"checkpoint {path} is a PyTorch file but not a checkpoint of "
                                  f"train() (it holds {found}, not {list(_CHECKPOINT_KEYS)}): "
                                  f"delete it (rm '{path}') or pass another path")
        if state["config"] != _config_dict(config):
            raise CheckpointError(f"checkpoint {path} was written with config "
                                  f"{state['config']}, not {_config_dict(config)}; delete it or "
                                  f"choose another path")
        _check_model_state(path, state["model"], model)
        try:
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            generator.set_state(state["generator"])
            history = History.from_dict(state["history"])
            kept = {int(k): v for k, v in state["snapshots"].items()}
            start = resumed_from = int(state["step"])
            last_loss = float(state["last_loss"])
            if scaler is not None and "scaler" in state:
                scaler.load_state_dict(state["scaler"])
        except (KeyError, TypeError, ValueError, RuntimeError) as err:
            raise CheckpointError(f"checkpoint {path} has a damaged or foreign training state "
                                  f"({type(err).__name__}: {str(err)[:200]}): delete it "
                                  f"(rm '{path}') or pass another path") from None
        model.load_state_dict(state["model"])

    def save(step: int) -> None:
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        state = {"config": _config_dict(config), "step": step, "model": model.state_dict(),
                 "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                 "generator": generator.get_state(), "history": history.to_dict(),
                 "snapshots": {str(k): v for k, v in kept.items()}, "last_loss": last_loss}
        if scaler is not None:
            state["scaler"] = scaler.state_dict()
        torch.save(state, tmp)
        tmp.replace(path)  # atomic: a crash mid-save never leaves a broken checkpoint

    def log(step: int, loss: float) -> None:
        row = {"loss": loss}
        if evaluate is not None:
            was_training = model.training
            model.eval()
            with torch.no_grad():
                row.update(evaluate(model))
            model.train(was_training)
        if config.patience is not None and config.monitor not in row:
            raise ValueError(f"monitor={config.monitor!r} is not among evaluate()'s results "
                             f"{sorted(row)}; name one of them (lower is better)")
        history.log(step, row)
        if snapshots:
            kept[step] = {k: v.detach().clone() for k, v in model.state_dict().items()}

    def patience_ran_out() -> bool:
        if config.patience is None or config.monitor not in history.values:
            return False
        return _patience_state(history.values[config.monitor])[2] >= config.patience

    params = [p for p in model.parameters() if p.requires_grad]
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
        while step < config.steps and not patience_ran_out():
            batch = sample(config.batch_size, generator)
            reduced = config.autocast_after is not None and step >= config.autocast_after
            with _autocast(device) if reduced else contextlib.nullcontext():
                if update is None:
                    loss = loss_fn(model, batch)
                else:  # the fused step updates the weights as it goes
                    loss = update(model, batch, config.lr)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {float(loss.detach())} at step {step}; "
                                         f"try a smaller lr (now {config.lr})")
            if update is None:
                optimizer.zero_grad(set_to_none=True)
                if scaler is not None and reduced:
                    scaler.scale(loss).backward()
                    if config.clip_grad_norm is not None:
                        scaler.unscale_(optimizer)
                        torch.nn.utils.clip_grad_norm_(params, config.clip_grad_norm)
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    loss.backward()
                    if config.clip_grad_norm is not None:
                        torch.nn.utils.clip_grad_norm_(params, config.clip_grad_norm)
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
    result = TrainResult(model, history, kept, time.perf_counter() - began, resumed_from,
                         stopped_at=step)
    if config.patience is not None and config.monitor in history.values:
        best_i, best, _ = _patience_state(history.values[config.monitor])
        if best_i >= 0:  # -1: no logged value was a number below +inf (all NaN)
            result.best_step, result.best_value = history.steps[best_i], best
        if step < config.steps:
            result.stop_reason = "patience"
    return result
