"""Hidden progress in sparse parity: measures that move while accuracy sits at chance.

All take one network's first-layer weights w (width, n) -- a member of a BatchedMLP is
``w1[i, :, :n_i]`` -- and its secret subset (k,) of coordinates.
"""

from __future__ import annotations

import torch

from .._validate import check_int, check_tensor


def _weights_and_secret(w: torch.Tensor, secret: torch.Tensor) -> tuple[torch.Tensor,
                                                                         torch.Tensor]:
    check_tensor("w", w, ndim=2)
    check_tensor("secret", secret, ndim=1, integer=True)
    n = w.shape[1]
    if len(secret) == 0 or len(secret) >= n or int(secret.min()) < 0 or int(secret.max()) >= n:
        raise ValueError(f"secret must hold 1 to {n - 1} coordinates in [0, {n}) (some must be "
                         f"left over for 'the others'), got {secret.tolist()}")
    other = torch.ones(n, dtype=torch.bool)
    other[secret] = False
    return w.detach(), other


def weight_change_inf(w: torch.Tensor, w0: torch.Tensor, secret: torch.Tensor) -> dict[str, float]:
    """``||W_t - W_0||_inf`` (largest absolute change of one weight) on the secret columns and on
    the other columns: {"secret": float, "other": float}."""
    w, other = _weights_and_secret(w, secret)
    check_tensor("w0", w0, ndim=2)
    if w0.shape != w.shape:
        raise ValueError(f"w0 must have the shape of w {tuple(w.shape)}, got {tuple(w0.shape)}")
    change = (w - w0.detach()).abs()
    return {"secret": float(change[:, ~other].max()), "other": float(change[:, other].max())}


def secret_weight_ratio(w: torch.Tensor, secret: torch.Tensor) -> float:
    """Mean |weight| on the secret columns over mean |weight| on the others: about 1 at a random
    init, growing as the network finds the secret."""
    w, other = _weights_and_secret(w, secret)
    return float(w[:, ~other].abs().mean() / w[:, other].abs().mean())


def fourier_coefficients(outputs: torch.Tensor, x: torch.Tensor,
                         subsets: torch.Tensor) -> torch.Tensor:
    """Estimated Fourier coefficients E[f(x) prod_{j in A} x_j] of the network's outputs on the
    probe inputs: outputs (M,), x (M, n) in {-1, +1}, subsets (R, k) -> (R,)."""
    check_tensor("outputs", outputs, ndim=1)
    check_tensor("x", x, ndim=2)
    check_tensor("subsets", subsets, ndim=2, integer=True)
    if len(outputs) != len(x):
        raise ValueError(f"outputs and x must have the same length, got {len(outputs)} and "
                         f"{len(x)}")
    if subsets.numel() and (int(subsets.min()) < 0 or int(subsets.max()) >= x.shape[1]):
        raise ValueError(f"subsets must hold coordinates in [0, {x.shape[1]})")
    chi = x[:, subsets].prod(-1)                  # (M, R): the parity of each subset
    return outputs.detach() @ chi / len(outputs)  # (R,)


def random_subsets(n: int, k: int, count: int, seed: int = 0) -> torch.Tensor:
    """``count`` seeded random k-subsets of [0, n), sorted within each row: (count, k)."""
    n = check_int("n", n, minimum=1)
    k = check_int("k", k, minimum=1, maximum=n)
    count = check_int("count", count, minimum=1)
    generator = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    return torch.rand(count, n, generator=generator).argsort(-1)[:, :k].sort(-1).values


def fourier_gap(outputs: torch.Tensor, x: torch.Tensor, secret: torch.Tensor,
                others: torch.Tensor) -> float:
    """|f^(secret)| minus the largest |f^(A)| over a panel of other k-subsets ``others`` (R, k):
    how far the network's correlation with the true parity stands out from the noise floor."""
    check_tensor("secret", secret, ndim=1, integer=True)
    return panel_gap(outputs, fourier_panel(x, secret, others))


def fourier_panel(x: torch.Tensor, secret: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
    """The parities of the probe inputs x (M, n) on the secret (column 0) and on every subset of
    ``others`` (R, k) but the secret: (M, 1 + R'). Compute once, reuse at every evaluation."""
    check_tensor("secret", secret, ndim=1, integer=True)
    check_tensor("x", x, ndim=2)
    check_tensor("others", others, ndim=2, integer=True)
    keep = ~(others.sort(-1).values == secret.sort().values).all(-1)  # drop the secret itself
    if not keep.any():
        raise ValueError("others must contain at least one subset other than the secret")
    subsets = torch.cat([secret[None], others[keep]])
    if int(subsets.min()) < 0 or int(subsets.max()) >= x.shape[1]:
        raise ValueError(f"secret and others must hold coordinates in [0, {x.shape[1]})")
    return x[:, subsets].prod(-1)


def panel_gap(outputs: torch.Tensor, panel: torch.Tensor) -> float:
    """``fourier_gap`` from a precomputed ``fourier_panel`` (M, 1 + R') and outputs (M,)."""
    check_tensor("outputs", outputs, ndim=1)
    check_tensor("panel", panel, ndim=2)
    if len(outputs) != len(panel):
        raise ValueError(f"outputs and panel must have the same length, got {len(outputs)} and "
                         f"{len(panel)}")
    coef = (outputs.detach() @ panel / len(outputs)).abs()
    return float(coef[0] - coef[1:].max())
