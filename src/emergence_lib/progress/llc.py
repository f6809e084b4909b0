"""The local learning coefficient (LLC) of singular learning theory, estimated with SGLD.

Near a minimum w* of the training loss L_n, the LLC lambda measures how much volume of
low-loss parameters surrounds w*: a regular model with d parameters has lambda = d/2, a
degenerate (simpler) solution has less. Following Lau et al. (2023), sample the tempered,
localized posterior  exp(-n beta L_n(w) - gamma/2 |w - w*|^2)  with stochastic-gradient Langevin
dynamics and estimate  lambda = n beta (E[L_n(w)] - L_n(w*)),  with n beta = m / log m for
SGLD batches of m rows (devinterp's default). The estimate is only as good as its sampler: check
each chain's loss trace (``trace_check``: it must rise above L_n(w*) and level off) and choose
the step size with ``calibrate_llc`` before reading the numbers.
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
class TraceCheck:
    """Is the sampler healthy? ``rise``: mean loss after burn-in minus L_n(w*) (must be > 0);
    ``drift``: (second half - first half of the kept trace) / rise (near 0 when it levelled off);
    ``loss``: the mean kept loss, which must stay below ``max_loss`` (e.g. the loss of chance
    guessing, log of the number of classes: a chain above it has left the solution)."""

    rise: float
    drift: float
    max_drift: float
    loss: float = float("nan")
    max_loss: float = float("inf")

    @property
    def passed(self) -> bool:
        return (self.rise > 0 and abs(self.drift) <= self.max_drift
                and not self.loss > self.max_loss)

    def __str__(self) -> str:
        state = "ok" if self.passed else "FAILED"
        text = f"trace {state}: rise {self.rise:.3g}, drift {self.drift:+.2f} of the rise"
        return text + (f", loss {self.loss:.3g} (max {self.max_loss:.3g})"
                       if np.isfinite(self.max_loss) else "")


@dataclass(frozen=True)
class LLCEstimate:
    """The estimate, its spread over chains, and each chain's loss trace (chains, steps)."""

    llc: float
    std: float
    init_loss: float
    loss_trace: np.ndarray
    nbeta: float = float("nan")
    burnin: int = 0
    lr: float = float("nan")

    def __float__(self) -> float:
        return self.llc

    @property
    def chain_llcs(self) -> np.ndarray:
        """One estimate per chain: (chains,)."""
        return self.nbeta * (self.loss_trace[:, self.burnin:].mean(axis=1) - self.init_loss)

    def trace_check(self, max_drift: float = 0.2, max_loss: float = float("inf")) -> TraceCheck:
        """Did the chains rise above L_n(w*), level off after burn-in and stay below
        ``max_loss`` (averaged over chains)?"""
        kept = self.loss_trace[:, self.burnin:].mean(axis=0)            # (kept steps,)
        half = len(kept) // 2
        rise = float(kept.mean() - self.init_loss)
        drift = float(kept[half:].mean() - kept[:half].mean()) / rise if rise > 0 else np.inf
        return TraceCheck(rise, drift, max_drift, float(kept.mean()), max_loss)


def estimate_llc(model: nn.Module, loss_fn: Callable[[nn.Module, Batch], torch.Tensor],
                 data: Sequence[torch.Tensor], *, lr: float = 1e-4, localization: float = 100.0,
                 nbeta: float | None = None, steps: int = 200, burnin: int = 50,
                 chains: int = 2, batch_size: int | None = None, seed: int = 0) -> LLCEstimate:
    """Estimate the LLC of ``model`` (its current weights are w*) on the dataset ``data`` (tensors
    with n rows; ``loss_fn(model, batch)`` must be the mean negative log-likelihood).

    lr: SGLD step size epsilon; localization: gamma; nbeta: inverse temperature times n (default
    m / log m for batches of m rows, m = n for full batch, as devinterp); steps per chain, of
    which the first ``burnin`` are discarded; batch_size: None for full-batch gradients.
    The model itself is not changed.
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
    m = n if batch_size is None else min(batch_size, n)
    if nbeta is None:
        if m < 2:
            raise ValueError("the default nbeta = m / log m needs batches of at least 2 rows; "
                             f"got batch_size={batch_size}: pass nbeta")
        nbeta = m / math.log(m)
    else:
        nbeta = check_float("nbeta", nbeta, minimum=0.0, strict_min=True)

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
    return LLCEstimate(float(per_chain.mean()), float(per_chain.std()), init_loss, traces,
                       nbeta, burnin, lr)


@dataclass(frozen=True)
class Calibration:
    """SGLD step sizes tried at one checkpoint, their estimates and trace checks; ``lr`` is the
    largest step size whose trace passed (None if none did)."""

    lrs: tuple[float, ...]
    estimates: tuple[LLCEstimate, ...]
    checks: tuple[TraceCheck, ...]
    lr: float | None

    @property
    def estimate(self) -> LLCEstimate:
        """The estimate at the chosen step size (at the smallest tried if none passed)."""
        lr = self.lr if self.lr is not None else min(self.lrs)
        return self.estimates[self.lrs.index(lr)]

    def summary(self) -> str:
        lines = [f"lr {lr:.0e}: LLC {e.llc:8.2f} +- {e.std:.2f}   {c}"
                 for lr, e, c in zip(self.lrs, self.estimates, self.checks, strict=True)]
        lines.append("chosen: none passed" if self.lr is None else f"chosen: lr {self.lr:.0e}")
        return "\n".join(lines)


def calibrate_llc(model: nn.Module, loss_fn: Callable[[nn.Module, Batch], torch.Tensor],
                  data: Sequence[torch.Tensor], lrs: Sequence[float], *,
                  max_drift: float = 0.2, max_loss: float = float("inf"),
                  first_pass: bool = False, **settings: object) -> Calibration:
    """Run ``estimate_llc`` at each step size in ``lrs`` (other settings shared) and keep the
    largest whose chains rise, level off and stay below ``max_loss`` (devinterp's calibration:
    the largest stable step size, so the chains explore in few steps without diverging). With
    ``first_pass``, try the step sizes from the largest down and stop at the first that passes."""
    if not lrs:
        raise ValueError("lrs must list at least one step size")
    lrs = sorted(lrs, reverse=True) if first_pass else list(lrs)
    estimates, checks = [], []
    for lr in lrs:
        if first_pass and checks and checks[-1].passed:
            break
        try:
            estimate = estimate_llc(model, loss_fn, data, lr=lr, **settings)
        except FloatingPointError:   # a diverged chain fails the check
            estimate = LLCEstimate(float("nan"), float("nan"), float("nan"),
                                   np.full((1, 2), np.nan), float("nan"), 0, lr)
        estimates.append(estimate)
        checks.append(estimate.trace_check(max_drift, max_loss) if math.isfinite(estimate.llc)
                      else TraceCheck(float("nan"), float("inf"), max_drift))
    tried = lrs[:len(estimates)]
    passed = [lr for lr, c in zip(tried, checks, strict=True) if c.passed]
    return Calibration(tuple(tried), tuple(estimates), tuple(checks),
                       max(passed) if passed else None)


class _BatchIndexed(torch.utils.data.TensorDataset):
    """A TensorDataset that a DataLoader reads a whole batch at a time (one index per tensor,
    not batch_size samples collated one by one): the same batches, ~50x less Python."""

    def __getitems__(self, indices: list[int]) -> tuple[torch.Tensor, ...]:
        return tuple(t[indices] for t in self.tensors)


def _as_batch(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
    """The DataLoader's collate function for :class:`_BatchIndexed`: the batch as it is."""
    return batch


def devinterp_llc(model: nn.Module, loss_fn: Callable[[nn.Module, Batch], torch.Tensor],
                  data: Sequence[torch.Tensor], *, lr: float, localization: float,
                  nbeta: float | None = None, steps: int = 200, burnin: int = 50,
                  chains: int = 2, batch_size: int = 512, seed: int = 0) -> LLCEstimate:
    """The same estimate computed by devinterp's own sampler (``estimate_learning_coeff_with_
    summary`` with its SGLD), for validating ``estimate_llc``; needs ``pip install
    devinterp==1.3.2`` (not a dependency of the course)."""
    try:
        from devinterp.optim.sgld import SGLD
        from devinterp.slt.sampler import estimate_learning_coeff_with_summary
    except ImportError as error:
        raise ImportError("devinterp_llc needs the devinterp package (pip install "
                          "devinterp==1.3.2); the course's estimator is estimate_llc") from error
    import warnings

    from torch.utils.data import DataLoader

    batch_size = check_int("batch_size", batch_size, minimum=2)
    burnin = check_int("burnin", burnin, minimum=0, maximum=steps - 1)
    m = min(batch_size, len(data[0]))
    nbeta = m / math.log(m) if nbeta is None else nbeta
    loader = DataLoader(_BatchIndexed(*data), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed), collate_fn=_as_batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # devinterp warns that its SGLD class is deprecated
        out = estimate_learning_coeff_with_summary(
            copy.deepcopy(model), loader=loader, evaluate=lambda m_, batch: loss_fn(m_, batch),
            sampling_method=SGLD,
            optimizer_kwargs={"lr": lr, "localization": localization, "nbeta": nbeta},
            num_chains=chains, num_draws=steps - burnin, num_burnin_steps=burnin, seed=seed,
            verbose=False, online=False)
    with torch.no_grad():
        init_loss = float(loss_fn(model, tuple(data)))
    trace = np.asarray(out["loss/trace"], dtype=float)            # (chains, draws)
    return LLCEstimate(float(out["llc/mean"]), float(out["llc/std"]), init_loss, trace,
                       nbeta, 0, lr)
