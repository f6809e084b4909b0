"""Instances, not loops: many small runs of one architecture trained as one model with a leading
instance dimension, each with its own weight decay, train split and seed.

``train_instances`` trains chapter 3's squared-embedding model (``recipes.grokking.FAST``) for S
settings at once and returns one ``GrokkingRun`` per instance, with the same history a separate
``recipes.grokking.train_grokking`` run logs (equal to float tolerance: tests/test_instances.py).
``grokking_grid`` is a drop-in for ``recipes.grokking.grokking_grid``.

How it matches separate runs: full-batch training, so an instance's "train fraction" is only
which rows of the p * p pairs it trains on. Instance i's loss is sum_n weight[i, n] * CE(n) with
weight 1/n_train on its own training rows (0 on padding), so its gradient is its separate-run
gradient; ``InstanceAdamW`` applies AdamW's decoupled decay p <- p (1 - lr wd_i) per instance and
then one elementwise Adam step on the stacked weights, the same arithmetic as
``torch.optim.AdamW(weight_decay=wd_i)`` on each instance alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

import torch
from tqdm.auto import tqdm

from ._validate import check_float, check_int
from .models.batched_modular import BatchedSquaredMLP
from .recipes.grokking import (
    FAST,
    GRID_LOG_EVERY,
    GRID_STEPS,
    GRID_TRAIN_FRACS,
    GRID_WEIGHT_DECAYS,
    GrokkingRun,
    GrokkingSetup,
    evaluate_modular,
    grokking_model,
)
from .tasks.modular import modular_addition
from .train import History, TrainResult


class InstanceAdamW:
    """AdamW on stacked weights (S, ...) with one weight decay per instance.

    Each step first shrinks instance i's weights by (1 - lr * weight_decays[i]) (AdamW's
    decoupled decay), then takes a plain Adam step (``torch.optim.AdamW``, weight_decay=0),
    which is elementwise: per instance, the same arithmetic as ``torch.optim.AdamW``.
    """

    def __init__(self, params: Iterable[torch.Tensor], weight_decays: Sequence[float], *,
                 lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        decays = _floats("weight_decays", weight_decays, minimum=0.0)
        self.lr = check_float("lr", lr, minimum=0.0, strict_min=True)
        S = len(decays)
        for i, q in enumerate(self.params):
            if q.ndim == 0 or q.shape[0] != S:
                raise ValueError(f"params[{i}] must have a leading instance dimension of "
                                 f"len(weight_decays)={S}, got shape {tuple(q.shape)}")
        if not self.params:
            raise ValueError("InstanceAdamW needs at least one parameter")
        # float32 factors, as torch.optim.AdamW multiplies a float32 tensor by 1 - lr * wd
        self.factors = [torch.tensor([1.0 - self.lr * wd for wd in decays], dtype=q.dtype,
                                     device=q.device).view(S, *[1] * (q.ndim - 1))
                        for q in self.params]
        self.adam = torch.optim.AdamW(self.params, lr=self.lr, betas=betas, eps=eps,
                                      weight_decay=0.0, foreach=True)

    @torch.no_grad()
    def step(self) -> None:
        """Decay each instance's weights, then one Adam step with the gradients in ``.grad``."""
        for q, factor in zip(self.params, self.factors, strict=True):
            q.mul_(factor)
        self.adam.step()

    def zero_grad(self) -> None:
        self.adam.zero_grad(set_to_none=True)


def _floats(name: str, values: Sequence[float], **bounds) -> list[float]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ValueError(f"{name} must be a non-empty sequence of numbers, got {values!r}")
    return [check_float(f"{name}[{i}]", v, **bounds) for i, v in enumerate(values)]


def _per_instance(name: str, values: object, n: int) -> list:
    """``values`` as a list of n entries: a sequence of length n, or one value repeated."""
    if isinstance(values, Sequence) and not isinstance(values, (str, bytes)):
        if len(values) != n:
            raise ValueError(f"{name} must have one entry per instance (len(weight_decays)={n})"
                             f" or be a single value, got {len(values)} entries")
        return list(values)
    return [values] * n


def _chunk_rows(datas: Sequence, start: int, stop: int, device: torch.device) -> tuple:
    """Instances start..stop-1's training rows, padded to the longest: a, b, y (s, n) ids and
    weight (s, n) = 1/n_train on real rows, 0 on padding."""
    n = max(len(d.y_train) for d in datas[start:stop])
    s = stop - start
    a = torch.zeros(s, n, dtype=torch.long)
    b, y = torch.zeros_like(a), torch.zeros_like(a)
    weight = torch.zeros(s, n)
    for j, d in enumerate(datas[start:stop]):
        k = len(d.y_train)
        a[j, :k], b[j, :k], y[j, :k] = d.x_train[:, 0], d.x_train[:, 1], d.y_train
        weight[j, :k] = 1.0 / k
    return start, a.to(device), b.to(device), y.to(device), weight.to(device)


def train_instances(setup: GrokkingSetup = FAST, *, weight_decays: Sequence[float],
                    train_fracs: Sequence[float] | float | None = None,
                    seeds: Sequence[int] | int = 0, steps: int | None = None,
                    log_every: int | None = None, chunk: int | None = 1,
                    snapshots: bool = False, until: float | None = None,
                    progress: bool = True) -> list[GrokkingRun]:
    """Train S = len(weight_decays) instances of the setup's squared-embedding model at once.

    Instance i has weight decay weight_decays[i], train fraction train_fracs[i] and seed
    seeds[i] (split and initial weights, as ``train_grokking(setup, seeds[i], ...)``); a single
    value is used for every instance. chunk: instances per batched matmul (1 is fastest on a
    CPU, where the model is compute-bound; None = all S at once, for an accelerator).
    snapshots: keep each instance's weights at every logged step (as ``train(snapshots=True)``,
    for the chapter's progress measures). until: stop training an instance at the first logged
    step where its test accuracy is >= until (its history ends there; a sweep that only needs
    the step a level is reached then trains no further). Returns one GrokkingRun per instance,
    with the history of a separate run: "loss" (the update's loss), train/test loss and
    accuracy and weight norm at every ``log_every`` steps, step 0 and the last (or the stop);
    ``result.seconds`` is the whole batched run's, ``result.stopped_at`` the last step trained.
    A non-finite loss is caught at the next logged step (a separate run catches it at once).
    """
    if not isinstance(setup, GrokkingSetup) or setup.model != "squared_mlp":
        raise ValueError(f"setup must be a GrokkingSetup of the squared_mlp model (e.g. "
                         f"recipes.grokking.FAST), got {setup!r}")
    decays = _floats("weight_decays", weight_decays, minimum=0.0)
    S = len(decays)
    fracs = [check_float(f"train_fracs[{i}]", f, minimum=0.0, maximum=1.0, strict_min=True,
                         strict_max=True) for i, f in
             enumerate(_per_instance("train_fracs", setup.train_frac if train_fracs is None
                                     else train_fracs, S))]
    seed_list = [check_int(f"seeds[{i}]", s, minimum=0)
                 for i, s in enumerate(_per_instance("seeds", seeds, S))]
    steps = setup.steps if steps is None else check_int("steps", steps, minimum=1)
    every = setup.log_every if log_every is None else check_int("log_every", log_every,
                                                                minimum=1)
    chunk = S if chunk is None else min(check_int("chunk", chunk, minimum=1), S)
    if until is not None:
        until = check_float("until", until, minimum=0.0, maximum=1.0)
    wanted = set(range(0, steps + 1, every)) | {steps}

    datas = [modular_addition(setup.p, f, s) for f, s in zip(fracs, seed_list, strict=True)]
    members = [grokking_model(setup, s) for s in seed_list]   # reused to evaluate each instance
    model = BatchedSquaredMLP.from_modules(members)
    device = model.embed_a.device
    chunks = [_chunk_rows(datas, i, min(i + chunk, S), device) for i in range(0, S, chunk)]
    optimizer = InstanceAdamW(model.parameters(), decays, lr=setup.lr, betas=setup.betas)
    histories = [History() for _ in range(S)]
    kept: list[dict[int, dict[str, torch.Tensor]]] = [{} for _ in range(S)]
    stopped: list[int | None] = [None] * S        # the step each instance stopped at

    @torch.no_grad()
    def log(step: int, losses: torch.Tensor | None) -> None:
        for i, history in enumerate(histories):
            if stopped[i] is not None:
                continue
            row = evaluate_modular(model.member(i, out=members[i]), datas[i])
            # step 0: the loss before training is the train loss (as train() logs it)
            history.log(step, {"loss": row["train_loss"] if losses is None
                               else float(losses[i]), **row})
            if snapshots:
                kept[i][step] = {k: v.detach().clone()
                                 for k, v in members[i].state_dict().items()}
            if until is not None and row["test_acc"] >= until:
                stopped[i] = step

    began = time.perf_counter()
    if 0 in wanted:
        log(0, None)
    for step in tqdm(range(1, steps + 1), desc=f"{S} instances", disable=not progress,
                     leave=False):
        losses = [model.fused_backward(*rows[1:], start=rows[0])
                  if any(stopped[i] is None for i in range(rows[0], rows[0] + len(rows[1])))
                  else torch.zeros(len(rows[1])) for rows in chunks]
        optimizer.step()   # a stopped instance's weights move on, unused: members[i] kept them
        if step in wanted:
            losses = torch.cat(losses)
            bad = [i for i in range(S) if stopped[i] is None and not torch.isfinite(losses[i])]
            if bad:
                raise FloatingPointError(f"the loss of instance(s) {bad} became non-finite by "
                                         f"step {step}; try a smaller lr (now {setup.lr})")
            log(step, losses)
            if all(at is not None for at in stopped):
                break
    seconds = time.perf_counter() - began
    last = step if steps else 0
    return [GrokkingRun(replace(setup, train_frac=fracs[i], weight_decay=decays[i]), datas[i],
                        TrainResult(members[i] if stopped[i] is not None
                                    else model.member(i, out=members[i]), histories[i], kept[i],
                                    seconds, stopped_at=last if stopped[i] is None
                                    else stopped[i]))
            for i in range(S)]


def grokking_grid(weight_decays: Sequence[float] = GRID_WEIGHT_DECAYS,
                  train_fracs: Sequence[float] = GRID_TRAIN_FRACS, *, steps: int = GRID_STEPS,
                  seed: int = 0, chunk: int | None = 1,
                  progress: bool = True) -> dict[tuple[float, float], GrokkingRun]:
    """``recipes.grokking.grokking_grid`` trained as instances: the same runs, keys and
    histories (to float tolerance), the weight-decay x train-fraction pairs trained at once."""
    if not weight_decays or not train_fracs:
        raise ValueError(f"weight_decays and train_fracs must be non-empty, got "
                         f"{list(weight_decays)} and {list(train_fracs)}")
    pairs = [(check_float("weight_decay", wd, minimum=0.0), f) for wd in weight_decays
             for f in train_fracs]
    runs = train_instances(FAST, weight_decays=[wd for wd, _ in pairs],
                           train_fracs=[f for _, f in pairs], seeds=seed, steps=steps,
                           log_every=GRID_LOG_EVERY, chunk=chunk, progress=progress)
    return dict(zip(pairs, runs, strict=True))
