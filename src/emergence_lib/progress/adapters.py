"""Measures of a fine-tuning adapter and of a direction in the residual stream (chapter 6).

- ``local_cosine``: Turner et al.'s local cosine of a trajectory of vectors (e.g. a rank-1
  adapter's B saved every few steps), cos(v[t-k] - v[t], v[t+k] - v[t]): -1 on a straight path,
  0 at a right-angle turn.
- ``orthogonal_perturbation``: Soligo et al.'s norm-preserving perturbation
  x' = sqrt(1 - eps^2) x + eps y, y orthogonal to x with |y| = |x|.
- ``mean_difference``: the unit difference of two groups' mean activations.
- ``direction_hooks``: forward pre-hooks that ablate a direction from, or add it to, the inputs
  of chosen modules (e.g. every LayerNorm that reads the residual stream after a layer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import numpy as np
import torch
import torch.nn as nn

from .._validate import check_choice, check_float, check_int, check_tensor


def local_cosine(vectors: object, k: int, min_move: float = 0.0) -> np.ndarray:
    """(T, d) vectors along a trajectory -> (T,) cos(v[t-k] - v[t], v[t+k] - v[t]); NaN where
    t - k or t + k is outside, or where either step moved by at most ``min_move`` (its norm)."""
    v = torch.as_tensor(np.asarray(vectors, dtype=np.float64))
    check_tensor("vectors", v, ndim=2)
    k = check_int("k", k, minimum=1)
    min_move = check_float("min_move", min_move, minimum=0.0)
    out = np.full(len(v), np.nan)
    for t in range(k, len(v) - k):
        back, ahead = v[t - k] - v[t], v[t + k] - v[t]
        nb, na = float(back.norm()), float(ahead.norm())
        if nb > min_move and na > min_move:
            out[t] = float(back @ ahead) / (nb * na)
    return out


def orthogonal_perturbation(x: torch.Tensor, eps: float, generator: torch.Generator
                            ) -> torch.Tensor:
    """sqrt(1 - eps^2) x + eps y with y a random direction orthogonal to x and |y| = |x| (any
    shape; the norm is over all entries): the result has x's norm, at angle arcsin(eps)."""
    check_tensor("x", x)
    eps = check_float("eps", eps, minimum=0.0, maximum=1.0)
    norm = float(x.norm())
    if norm == 0:
        raise ValueError("x must be non-zero: a zero vector has no orthogonal complement to "
                         "perturb in at its own norm")
    flat = x.flatten()
    y = torch.randn(flat.shape, generator=generator, dtype=x.dtype)
    y = y - (y @ flat) / (flat @ flat) * flat
    y = y / y.norm() * norm
    return ((1 - eps**2) ** 0.5 * flat + eps * y).reshape(x.shape)


def orthogonal_noise(x: torch.Tensor, size: float, generator: torch.Generator) -> torch.Tensor:
    """x + y with y a random direction orthogonal to x of norm ``size`` (an absolute amount of
    noise, the same for any x): any shape, norm over all entries."""
    check_tensor("x", x)
    size = check_float("size", size, minimum=0.0)
    flat = x.flatten()
    y = torch.randn(flat.shape, generator=generator, dtype=x.dtype)
    if float(flat.norm()) > 0:
        y = y - (y @ flat) / (flat @ flat) * flat
    return (flat + y / y.norm() * size).reshape(x.shape)


def relative_loss_increase(perturbed: object, original: float, base: float) -> np.ndarray:
    """Soligo et al.'s stability measure 100 (L_pert - L_orig) / (L_base - L_orig): 0 = no
    damage, 100 = back at the base model's loss."""
    original = check_float("original", original)
    base = check_float("base", base)
    if base == original:
        raise ValueError(f"base and original loss must differ (both {base}): the measure "
                         f"divides by their gap")
    return 100 * (np.asarray(perturbed, dtype=float) - original) / (base - original)


def mean_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n_a, d) and (n_b, d) activations -> the unit vector along mean(a) - mean(b), (d,)."""
    check_tensor("a", a, ndim=2)
    check_tensor("b", b, ndim=2)
    if len(a) == 0 or len(b) == 0 or a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must be non-empty with the same width, got shapes "
                         f"{tuple(a.shape)} and {tuple(b.shape)}")
    diff = a.mean(0) - b.mean(0)
    if float(diff.norm()) == 0:
        raise ValueError("the two groups have the same mean: there is no direction")
    return diff / diff.norm()


def ablate(x: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """x (..., d) with its component along the unit ``direction`` (d,) removed."""
    u = direction / direction.norm()
    return x - (x @ u)[..., None] * u


@contextlib.contextmanager
def direction_hooks(modules: Sequence[nn.Module], direction: torch.Tensor, mode: str,
                    amount: float = 0.0) -> Iterator[None]:
    """While active, every module in ``modules`` reads its input with ``direction`` (d,)
    ablated (mode "ablate") or with ``amount`` times the unit direction added ("add")."""
    check_choice("mode", mode, ["ablate", "add"])
    check_tensor("direction", direction, ndim=1)
    amount = check_float("amount", amount)
    if float(direction.norm()) == 0:
        raise ValueError("direction must be non-zero")
    if not modules or not all(isinstance(m, nn.Module) for m in modules):
        raise TypeError(f"modules must be a non-empty list of nn.Module, got {modules!r}")
    u = (direction / direction.norm()).detach()

    def hook(module: nn.Module, args: tuple) -> tuple:
        x = args[0]
        if x.shape[-1] != len(u):
            raise ValueError(f"direction has {len(u)} entries but the module's input has width "
                             f"{x.shape[-1]}")
        return (ablate(x, u) if mode == "ablate" else x + amount * u, *args[1:])

    handles = [m.register_forward_pre_hook(hook) for m in modules]
    try:
        yield
    finally:
        for h in handles:
            h.remove()
