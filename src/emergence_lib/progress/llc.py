"""The local learning coefficient (LLC) of singular learning theory, estimated with SGLD.

Near a minimum w* of the training loss L_n, the LLC lambda measures how much volume of
low-loss parameters surrounds w*: a regular model with d parameters has lambda = d/2, a
degenerate (simpler) solution has less. Following Lau et al. (2023), sample the tempered,
localized posterior  exp(-n beta L_n(w) - gamma/2 |w - w*|^2)  with stochastic-gradient Langevin
dynamics and estimate  lambda = n beta (E[L_n(w)] - L_n(w*)),  with n beta = n / log n.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from .._validate import check_float, check_int
from ..train import minibatches

Batch = object


@dataclass(frozen=True)
class LLCEstimate:
    """The estimate, its spread over chains, and each chain's loss trace (chains, steps)."""

    llc: float
    std: float
    init_loss: float
    loss_trace: np.ndarray

    def __float__(self) -> float:
        return self.llc


def estimate_llc(model: nn.Module, loss_fn: Callable[[nn.Module, Batch], torch.Tensor],
                 data: Sequence[torch.Tensor], *, lr: float = 1e-4, localization: float = 100.0,
                 nbeta: float | None = None, steps: int = 200, burnin: int = 50,
                 chains: int = 2, batch_size: int | None = None, seed: int = 0) -> LLCEstimate:
    """Estimate the LLC of ``model`` (its current weights are w*) on the dataset ``data`` (tensors
    with n rows; ``loss_fn(model, batch)`` must be the mean negative log-likelihood).

    lr: SGLD step size epsilon; localization: gamma; nbeta: inverse temperature times n (default
    n / log n); steps per chain, of which the first ``burnin`` are discarded; batch_size: None for
    full-batch gradients. The model itself is not changed.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (model, batch) -> loss, got {loss_fn!r}")
    if not isinstance(data, Sequence) or not data:
        raise TypeError("data must be a non-empty tuple of tensors with the same number of rows")
    lr = check_float("lr", lr, minimum=0.0, strict_min=True)
    localization = check_float("localization", localization, minimum=0.0)
    steps = check_int("steps", steps, minimum=2)
    burnin = check_int("burnin", burnin, minimum=0, maximum=steps - 1)
    chains = check_int("chains", chains, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    sample = minibatches(*data)
    n = len(data[0])
    if n < 2:
        raise ValueError(f"data must have at least 2 rows, got {n}")
    if batch_size is not None:
        batch_size = check_int("batch_size", batch_size, minimum=1)
    nbeta = n / math.log(n) if nbeta is None else check_float("nbeta", nbeta, minimum=0.0,
                                                               strict_min=True)

    with torch.no_grad():
        init_loss = float(loss_fn(model, tuple(data)))
    generator = torch.Generator().manual_seed(seed)
    traces = np.empty((chains, steps))
    for chain in range(chains):
        sampler = copy.deepcopy(model)
        sampler.train(model.training)
        params = [q for q in sampler.parameters() if q.requires_grad]
        anchors = [q.detach().clone() for q in params]
        for step in range(steps):
            loss = loss_fn(sampler, sample(batch_size, generator))
            value = float(loss.detach())
            if not math.isfinite(value):
                raise FloatingPointError(f"the SGLD chain diverged (loss {value} at step "
                                         f"{step}); try a smaller lr (now {lr}) or a larger "
                                         f"localization (now {localization})")
            traces[chain, step] = value
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for q, g, anchor in zip(params, grads, anchors, strict=True):
                    drift = nbeta * g + localization * (q - anchor)
                    noise = torch.randn(q.shape, generator=generator, dtype=q.dtype)
                    q.add_(-0.5 * lr * drift + math.sqrt(lr) * noise)
    per_chain = nbeta * (traces[:, burnin:].mean(axis=1) - init_loss)
    return LLCEstimate(float(per_chain.mean()), float(per_chain.std()), init_loss, traces)
