"""Chapter 8's data: exactly whitened Gaussian inputs with a linear teacher of chosen singular
values (Saxe et al. 2014; Atanasov et al. 2021), and two classes of scikit-learn's bundled 8x8
handwritten digits, whitened or partially whitened (nothing is downloaded)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .._validate import as_1d_array, check_float, check_int

EIG_FLOOR = 1e-6   # covariance eigenvalues below EIG_FLOOR * largest are dropped (constant pixels)


def whitened_inputs(n_samples: int, dim: int, seed: int = 0) -> torch.Tensor:
    """Gaussian inputs made exactly white: X (P, D) with X^T X / P = I (needs P >= D)."""
    n_samples = check_int("n_samples", n_samples, minimum=1)
    dim = check_int("dim", dim, minimum=1)
    if n_samples < dim:
        raise ValueError(f"n_samples must be >= dim to whiten exactly, got n_samples={n_samples} "
                         f"and dim={dim}")
    gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    q, _ = torch.linalg.qr(torch.randn(n_samples, dim, generator=gen, dtype=torch.float64))
    return (q * n_samples ** 0.5).float()          # (P, D): columns orthogonal, norm sqrt(P)


@dataclass(frozen=True)
class Teacher:
    """A linear map W = U diag(s) V^T: W (D_out, D_in), U (D_out, r), s (r,), V (D_in, r)."""

    W: torch.Tensor
    U: torch.Tensor
    s: torch.Tensor
    V: torch.Tensor


def linear_teacher(singular_values: Sequence[float], d_in: int, d_out: int,
                   seed: int = 0) -> Teacher:
    """A teacher with the given singular values on random orthonormal singular vectors."""
    s = as_1d_array("singular_values", singular_values, positive=True)
    d_in = check_int("d_in", d_in, minimum=1)
    d_out = check_int("d_out", d_out, minimum=1)
    if len(s) > min(d_in, d_out):
        raise ValueError(f"singular_values has {len(s)} values, at most min(d_in, d_out) = "
                         f"{min(d_in, d_out)} allowed")
    gen = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    U, _ = torch.linalg.qr(torch.randn(d_out, len(s), generator=gen, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(d_in, len(s), generator=gen, dtype=torch.float64))
    st = torch.as_tensor(s, dtype=torch.float64)
    return Teacher((U * st) @ V.T, U, st, V)


def partial_whitening(X: np.ndarray, gamma: float, mean: np.ndarray | None = None,
                      basis: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Centre X (P, D) and map its covariance eigenvalues lambda_k -> lambda_k^gamma: gamma = 0
    whitens fully, gamma = 1 only centres and rotates. Returns (P, D_kept); eigen-directions
    with lambda_k < EIG_FLOOR * max are dropped. ``mean``/``basis`` reuse a training set's."""
    gamma = check_float("gamma", gamma, minimum=0.0, maximum=1.0)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"X must be two-dimensional (samples, features), got shape {X.shape}")
    mean = X.mean(0) if mean is None else mean
    if basis is None:
        lam, vecs = np.linalg.eigh(np.cov(X - mean, rowvar=False, bias=True))
        keep = lam > EIG_FLOOR * lam.max()
        basis = (lam[keep], vecs[:, keep])
    lam, vecs = basis
    return (X - mean) @ vecs * lam ** ((gamma - 1) / 2)


@dataclass(frozen=True)
class DigitsTask:
    """Two digit classes as +-1 targets: x_train (P, D), y_train (P,), x_test (Q, D), y_test."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    gamma: float


def digits_two_class(classes: tuple[int, int] = (0, 1), gamma: float = 0.0,
                     n_train: int = 200, seed: int = 0) -> DigitsTask:
    """scikit-learn's bundled 8x8 digits (shipped with the package), two classes, targets +-1,
    split at random into n_train training points and the rest as test; the (partial)
    whitening is fitted on the training points and applied to both."""
    from sklearn.datasets import load_digits

    a, b = (check_int("classes[0]", classes[0], minimum=0, maximum=9),
            check_int("classes[1]", classes[1], minimum=0, maximum=9))
    if a == b:
        raise ValueError(f"classes must be two different digits, got {classes}")
    digits = load_digits()
    pick = np.isin(digits.target, (a, b))
    X, y = digits.data[pick], np.where(digits.target[pick] == a, 1.0, -1.0)
    n_train = check_int("n_train", n_train, minimum=2, maximum=len(y) - 1)
    order = np.random.default_rng(check_int("seed", seed, minimum=0)).permutation(len(y))
    tr, te = order[:n_train], order[n_train:]
    mean = X[tr].mean(0)
    lam, vecs = np.linalg.eigh(np.cov(X[tr] - mean, rowvar=False, bias=True))
    keep = lam > EIG_FLOOR * lam.max()
    basis = (lam[keep], vecs[:, keep])
    xtr = partial_whitening(X[tr], gamma, mean, basis)
    xte = partial_whitening(X[te], gamma, mean, basis)
    scale = np.sqrt((xtr ** 2).sum(1).mean() / xtr.shape[1])   # unit variance per kept axis
    f = torch.float32
    return DigitsTask(torch.tensor(xtr / scale, dtype=f), torch.tensor(y[tr], dtype=f),
                      torch.tensor(xte / scale, dtype=f), torch.tensor(y[te], dtype=f), gamma)
