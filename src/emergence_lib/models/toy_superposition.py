"""Elhage et al.'s toy model of superposition, x' = ReLU(W^T W x + b), alone or I at once.

``BatchedToyModel`` keeps a leading **instance** dimension in every weight (W (I, m, n), b (I, n)),
so every sparsity, importance or seed of a sweep is one instance of one model trained in one loop.
``instance(i)`` gives instance i back as an ordinary ``ToyModel``; ``from_modules`` stacks
ordinary models. With ``instance_losses`` summed over instances, each instance's gradient is its
separate-run gradient (tests/test_superposition.py checks batched against looped training).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import check_int


def _init_w(m: int, n: int) -> torch.Tensor:
    """(m, n) Xavier-normal weights (std sqrt(2 / (m + n))), from the global generator."""
    return torch.randn(m, n) * (2.0 / (m + n)) ** 0.5


class ToyModel(nn.Module):
    """One toy model: x (B, n) -> ReLU(x W^T W + b) (B, n), with W (m, n) and b (n,)."""

    def __init__(self, n_features: int, n_hidden: int):
        super().__init__()
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.n_hidden = check_int("n_hidden", n_hidden, minimum=1)
        self.W = nn.Parameter(_init_w(n_hidden, n_features))   # (m, n): column i is feature i
        self.b = nn.Parameter(torch.zeros(n_features))          # (n,)

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, n) -> h = W x (B, m)."""
        if x.ndim != 2 or x.shape[1] != self.n_features:
            raise ValueError(f"x must have shape (batch, {self.n_features}), "
                             f"got {tuple(x.shape)}")
        return x @ self.W.T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.hidden(x) @ self.W + self.b)  # (B, n)


class BatchedToyModel(nn.Module):
    """I independent toy models: x (I, B, n) -> ReLU(W_i^T W_i x + b_i) (I, B, n).

    W (I, m, n), b (I, n). Instance i is initialised like ``ToyModel`` under ``seeded(seeds[i])``
    when built with ``seeded``, so the same seed gives the same start, batched or not.
    """

    def __init__(self, n_instances: int, n_features: int, n_hidden: int):
        super().__init__()
        n_inst = self.n_instances = check_int("n_instances", n_instances, minimum=1)
        self.n_features = check_int("n_features", n_features, minimum=1)
        self.n_hidden = check_int("n_hidden", n_hidden, minimum=1)
        self.W = nn.Parameter(torch.stack([_init_w(n_hidden, n_features) for _ in range(n_inst)]))
        self.b = nn.Parameter(torch.zeros(n_inst, n_features))

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError unless x has shape (n_instances, batch, n_features)."""
        n_inst, n = self.n_instances, self.n_features
        if x.ndim != 3 or x.shape[0] != n_inst or x.shape[2] != n:
            raise ValueError(f"x must have shape ({n_inst}, batch, {n}), got {tuple(x.shape)}")

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """x (I, B, n) -> h = W x (I, B, m)."""
        self.check_input(x)
        return torch.bmm(x, self.W.transpose(1, 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden(x)                                                  # (I, B, m)
        return F.relu(torch.baddbmm(self.b[:, None, :], h, self.W))         # (I, B, n)

    def fused_backward(self, x: torch.Tensor, importance: torch.Tensor, *,
                       with_loss: bool = False) -> torch.Tensor | None:
        """Write the gradient of ``instance_losses(x, self(x), importance).sum()`` into W.grad
        and b.grad by hand (about twice as fast as autograd here; tested equal to it).
        x (I, B, n), importance (I, n); returns the (I,) losses if ``with_loss``, else None."""
        self.check_input(x)
        W, b = self.W.detach(), self.b.detach()
        h = torch.bmm(x, W.transpose(1, 2))                          # (I, B, m)
        out = torch.baddbmm(b[:, None, :], h, W).clamp_(min=0)       # (I, B, n)
        r = out - x                                                  # (I, B, n)
        loss = ((importance[:, None, :] * r * r).sum(-1).mean(-1) if with_loss else None)
        # dL/dz = 2 I_j (x'_j - x_j) / B where z > 0 (ReLU's gradient), else 0
        dz = r.mul_(out > 0).mul_(importance[:, None, :] * (2.0 / x.shape[1]))
        grad_w = torch.bmm(h.transpose(1, 2), dz)                    # through W in h W
        grad_w.baddbmm_(torch.bmm(W, dz.transpose(1, 2)), x)         # through W in W x
        self.W.grad, self.b.grad = grad_w, dz.sum(1)
        return loss

    @classmethod
    def seeded(cls, seeds: Sequence[int], n_features: int, n_hidden: int) -> BatchedToyModel:
        """One instance per seed, instance i initialised as ``ToyModel`` under seeded(seeds[i])."""
        return cls.from_modules(seeded_toy_models(seeds, n_features, n_hidden))

    @classmethod
    def from_modules(cls, modules: Sequence[ToyModel]) -> BatchedToyModel:
        """Stack ordinary toy models of the same shape into one batched model."""
        modules = list(modules)
        if not modules or not all(isinstance(m, ToyModel) for m in modules):
            raise TypeError(f"modules must be a non-empty sequence of ToyModel, got "
                            f"{[type(m).__name__ for m in modules]}")
        shapes = {(m.n_features, m.n_hidden) for m in modules}
        if len(shapes) > 1:
            raise ValueError(f"modules must share (n_features, n_hidden), got {sorted(shapes)}")
        (n, m), = shapes
        batched = cls(len(modules), n, m)
        with torch.no_grad():
            batched.W.copy_(torch.stack([mod.W for mod in modules]))
            batched.b.copy_(torch.stack([mod.b for mod in modules]))
        return batched

    def instance(self, i: int) -> ToyModel:
        """Instance i as an ordinary ToyModel (a copy of its current weights)."""
        i = check_int("i", i, minimum=0, maximum=self.n_instances - 1)
        module = ToyModel(self.n_features, self.n_hidden)
        with torch.no_grad():
            module.W.copy_(self.W[i])
            module.b.copy_(self.b[i])
        return module


def seeded_toy_models(seeds: Sequence[int], n_features: int, n_hidden: int) -> list[ToyModel]:
    """One ToyModel per seed, each built under ``seeded(seed)``."""
    from ..utils import seeded

    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must be a non-empty sequence of integers, got []")
    models = []
    for seed in seeds:
        with seeded(seed):
            models.append(ToyModel(n_features, n_hidden))
    return models


def instance_losses(x: torch.Tensor, out: torch.Tensor, importance: torch.Tensor) -> torch.Tensor:
    """Per-instance loss mean_batch sum_i I_i (x_i - x'_i)^2: x, out (I, B, n) (or (B, n)),
    importance (I, n) (or (n,)) -> (I,) (or a scalar). Sum it to train every instance at once."""
    if x.shape != out.shape:
        raise ValueError(f"x and out must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(out.shape)}")
    if importance.shape != x.shape[:-2] + x.shape[-1:]:
        raise ValueError(f"importance must have shape {tuple(x.shape[:-2] + x.shape[-1:])} "
                         f"(instances, features), got {tuple(importance.shape)}")
    error = importance.unsqueeze(-2) * (x - out) ** 2       # (I, B, n)
    return error.sum(-1).mean(-1)
