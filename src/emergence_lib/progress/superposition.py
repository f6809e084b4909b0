"""Chapter 7's measures of superposition, read off the toy model's W: (m, n) for one model or
(I, m, n) for I instances (column i of W is feature i's direction W_i in the hidden space).

- ``feature_norms``: ||W_i||, how strongly feature i is represented (> ``REPRESENTED``: it is);
- ``superposition``: sum_{j != i} (Ŵ_i . W_j)^2, how much the other features project onto i's
  direction (0: i has a dimension to itself);
- ``dimensions_per_feature``: D* = m / ||W||_F^2, hidden dimensions per (unit-norm) feature;
- ``feature_dimensionality``: D_i = ||W_i||^2 / sum_j (Ŵ_i . W_j)^2 (j = i included), the share
  of a dimension feature i gets (1 alone, 1/2 antipodal pair, 2/5 pentagon...).
"""

from __future__ import annotations

import numpy as np
import torch

from .._validate import check_float

REPRESENTED = 0.5  # ||W_i|| above this: feature i is represented (Elhage et al.'s reading)
_EPS = 1e-12


def _weights(W: torch.Tensor) -> torch.Tensor:
    """W as a float tensor of shape (..., m, n), or a clear error."""
    if not isinstance(W, torch.Tensor):
        raise TypeError(f"W must be a torch.Tensor of shape (m, n) or (instances, m, n), got "
                        f"{type(W).__name__}")
    if W.ndim not in (2, 3):
        raise ValueError(f"W must have shape (m, n) or (instances, m, n), got "
                         f"{tuple(W.shape)}")
    if not torch.isfinite(W).all():
        raise ValueError("W contains NaN or infinite values")
    return W.detach().float()


def feature_norms(W: torch.Tensor) -> torch.Tensor:
    """||W_i||: (m, n) -> (n,), (I, m, n) -> (I, n)."""
    return _weights(W).norm(dim=-2)


def _overlaps(W: torch.Tensor) -> torch.Tensor:
    """(Ŵ_i . W_j)^2 for every pair: (..., m, n) -> (..., n, n), row i the projections on Ŵ_i."""
    W = _weights(W)
    unit = W / W.norm(dim=-2, keepdim=True).clamp_min(_EPS)
    return (unit.transpose(-1, -2) @ W) ** 2


def superposition(W: torch.Tensor) -> torch.Tensor:
    """sum_{j != i} (Ŵ_i . W_j)^2: (m, n) -> (n,), (I, m, n) -> (I, n); 0 for a zero feature."""
    overlaps = _overlaps(W)
    return overlaps.sum(-1) - torch.diagonal(overlaps, dim1=-2, dim2=-1)


def represented_count(W: torch.Tensor, threshold: float = REPRESENTED) -> torch.Tensor:
    """Number of features with ||W_i|| > threshold: (m, n) -> scalar, (I, m, n) -> (I,)."""
    threshold = check_float("threshold", threshold, minimum=0.0)
    return (feature_norms(W) > threshold).sum(-1)


def dimensions_per_feature(W: torch.Tensor) -> torch.Tensor:
    """D* = m / ||W||_F^2: (m, n) -> scalar, (I, m, n) -> (I,)."""
    W = _weights(W)
    return W.shape[-2] / (W ** 2).sum((-2, -1)).clamp_min(_EPS)


def feature_dimensionality(W: torch.Tensor) -> torch.Tensor:
    """D_i = ||W_i||^2 / sum_j (Ŵ_i . W_j)^2, j = i included: (m, n) -> (n,), (I, m, n) ->
    (I, n); 0 for a feature with W_i = 0."""
    overlaps = _overlaps(W)
    own = torch.diagonal(overlaps, dim1=-2, dim2=-1)          # ||W_i||^2
    return own / overlaps.sum(-1).clamp_min(_EPS)


def fraction_peaks(d: object, fractions: object, window: float = 0.01,
                   flank: float = 0.02) -> list[tuple[float, int, float]]:
    """Do the values d (e.g. D_i of represented features) cluster at each fraction? Per fraction f:
    (f, count within ``window`` of f, that count over the count an even local density would put
    there, read off the flanks window < |d - f| <= window + flank). A peak ratio well above 1 is
    a cluster; nan when the flanks are empty and the window is too."""
    d = np.asarray(d, dtype=float).ravel()
    window = check_float("window", window, minimum=0.0, strict_min=True)
    flank = check_float("flank", flank, minimum=0.0, strict_min=True)
    rows = []
    for f in np.asarray(fractions, dtype=float).ravel():
        gap = np.abs(d - f)
        inside = int(np.sum(gap <= window))
        around = int(np.sum((gap > window) & (gap <= window + flank)))
        expected = around * window / flank          # per unit width, flanks span 2 flank
        ratio = inside / expected if expected > 0 else (np.inf if inside else np.nan)
        rows.append((float(f), inside, float(ratio)))
    return rows
