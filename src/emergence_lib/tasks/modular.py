"""Modular addition ``(a + b) mod p``: the task of chapter 3 (grokking).

Every pair (a, b) with 0 <= a, b < p is enumerated once and split, seeded, into train and test.
Inputs are the three tokens ``a b =`` (the ``=`` token has id p), the label is ``(a + b) % p``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .._validate import check_float, check_int


def is_prime(n: int) -> bool:
    """True when the integer ``n`` is prime."""
    n = check_int("n", n)
    if n < 2:
        return False
    return all(n % d for d in range(2, int(n**0.5) + 1))


def all_pairs(p: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every ``a b =`` input and its label, in row-major order of (a, b): (p*p, 3), (p*p,)."""
    p = check_int("p", p, minimum=2)
    a = torch.arange(p).repeat_interleave(p)             # (p*p,) 0,0,...,1,1,...
    b = torch.arange(p).repeat(p)                        # (p*p,) 0,1,...,0,1,...
    equals = torch.full_like(a, p)                       # the "=" token
    return torch.stack([a, b, equals], dim=1), (a + b) % p


@dataclass(frozen=True)
class ModularData:
    """A seeded train/test split of all pairs of ``(a + b) mod p``.

    x_*: (N, 3) tokens ``a b =``; y_*: (N,) labels; train_idx/test_idx: (N,) row numbers of the
    pairs in ``all_pairs(p)`` order (row = a * p + b).
    """

    p: int
    train_frac: float
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    train_idx: torch.Tensor
    test_idx: torch.Tensor

    @property
    def vocab(self) -> int:
        """Token ids 0..p-1 for numbers and p for ``=``."""
        return self.p + 1


def modular_addition(p: int = 113, train_frac: float = 0.3, seed: int = 0) -> ModularData:
    """All ``p * p`` pairs of ``(a + b) mod p`` (p prime), a ``train_frac`` share for training."""
    p = check_int("p", p, minimum=2)
    if not is_prime(p):
        raise ValueError(f"p must be a prime number (the task is arithmetic in the field Z_p), "
                         f"got p={p}")
    train_frac = check_float("train_frac", train_frac, minimum=0.0, maximum=1.0,
                             strict_min=True, strict_max=True)
    seed = check_int("seed", seed, minimum=0)
    x, y = all_pairs(p)
    n_train = int(round(train_frac * p * p))
    if not 1 <= n_train < p * p:
        raise ValueError(f"train_frac={train_frac} leaves {n_train} of {p * p} pairs for "
                         f"training; choose a fraction that keeps both sets non-empty")
    order = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
    train_idx, test_idx = order[:n_train].sort().values, order[n_train:].sort().values
    return ModularData(p, train_frac, x[train_idx], y[train_idx], x[test_idx], y[test_idx],
                       train_idx, test_idx)
