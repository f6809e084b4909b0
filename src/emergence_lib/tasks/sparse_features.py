"""Sparse synthetic features for the toy model of superposition (chapter 7): each feature is 0
with probability S (the sparsity) and Uniform[0, 1] otherwise, independently, with its own
feature probability 1 - S per instance (and optionally per feature)."""

from __future__ import annotations

import torch

from .._validate import check_int


def as_density(density: object, n_instances: int, n_features: int) -> torch.Tensor:
    """Feature probabilities as an (I, n) tensor: from a number, an (I,) or an (I, n) array;
    every value must lie in (0, 1]."""
    p = torch.as_tensor(density, dtype=torch.float32)
    if p.ndim == 0:
        p = p.expand(n_instances, n_features)
    elif p.ndim == 1 and p.shape[0] == n_instances:
        p = p[:, None].expand(n_instances, n_features)
    elif p.shape != (n_instances, n_features):
        raise ValueError(f"density must be a number, ({n_instances},) per instance or "
                         f"({n_instances}, {n_features}) per instance and feature, got shape "
                         f"{tuple(p.shape)}")
    bad = ~((p > 0) & (p <= 1))
    if bad.any():
        raise ValueError(f"density (feature probability 1 - S) must lie in (0, 1], got "
                         f"{float(p[bad][0])}")
    return p.contiguous()


def sparse_features(density: torch.Tensor, batch: int, generator: torch.Generator | None = None
                    ) -> torch.Tensor:
    """x (I, batch, n): feature j of instance i is Uniform[0, 1] with probability density[i, j],
    else 0. One uniform draw u per entry: x = (u - (1 - p)) / p if u > 1 - p (probability p;
    then x ~ U[0, 1]), else 0, computed in place."""
    if not isinstance(density, torch.Tensor) or density.ndim != 2:
        raise ValueError("density must be an (instances, features) tensor; build it with "
                         f"as_density, got {type(density).__name__}")
    batch = check_int("batch", batch, minimum=1)
    n_inst, n = density.shape
    p = density[:, None, :]
    u = torch.rand(n_inst, batch, n, generator=generator)
    return u.sub_(1.0 - p).clamp_(min=0.0).div_(p)


def geometric_importance(n_features: int, decay: float) -> torch.Tensor:
    """(n,) importances decay**i, i = 0..n-1 (decay 1: every feature equally important)."""
    n = check_int("n_features", n_features, minimum=1)
    if not 0 < float(decay) <= 1:
        raise ValueError(f"decay must lie in (0, 1], got {decay}")
    return float(decay) ** torch.arange(n, dtype=torch.float32)
