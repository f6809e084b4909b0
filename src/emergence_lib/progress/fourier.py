"""Fourier progress measures for modular addition (Nanda et al. 2023), for any model that maps
``a b =`` tokens to logits over ``(a + b) mod p``.

A model that has grokked computes the answer with a few *key frequencies* w_k = 2 pi k / p: its
embeddings are sparse in the Fourier basis of Z_p and its logits are (nearly) a sum of
cos(w_k (a + b - c)). The *restricted loss* keeps only those components of the logits, the
*excluded loss* removes them; both are computed on the logits of every pair (a, b).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import as_1d_array, check_float, check_int, check_tensor
from ..tasks.modular import all_pairs


def fourier_basis(p: int) -> torch.Tensor:
    """Orthonormal Fourier basis of functions on Z_p: (p, p), rows [1, cos 1, sin 1, cos 2, ...]."""
    p = check_int("p", p, minimum=3)
    if p % 2 == 0:
        raise ValueError(f"p must be odd (each frequency then has a cos and a sin row), got {p}")
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [torch.cos(2 * torch.pi * k * x / p), torch.sin(2 * torch.pi * k * x / p)]
    basis = torch.stack(rows)                              # (p, p)
    return (basis / basis.norm(dim=1, keepdim=True)).float()


def frequency_norms(matrix: torch.Tensor) -> np.ndarray:
    """How much of a (p, d) matrix (one row per number 0..p-1) lies at each frequency
    k = 1..(p-1)/2: the norm of its cos-k and sin-k components, shape ((p-1)/2,)."""
    matrix = check_tensor("matrix", matrix, ndim=2)
    p = matrix.shape[0]
    coeffs = fourier_basis(p) @ matrix.detach().float()   # (p, d): row 0 constant, then cos/sin
    paired = coeffs[1:].reshape((p - 1) // 2, 2, -1)      # (K, 2, d)
    return paired.pow(2).sum(dim=(1, 2)).sqrt().numpy()


def token_embeddings(model: nn.Module, p: int) -> torch.Tensor:
    """The rows of ``model``'s input embeddings for the numbers 0..p-1: (p, d).

    For a model with separate embeddings of a and b (``embed_a``, ``embed_b``) they are placed
    side by side; otherwise the first ``nn.Embedding`` with at least p rows (the token embedding)
    or a parameter named ``W_E`` is used.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    p = check_int("p", p, minimum=3)
    if hasattr(model, "embed_a") and hasattr(model, "embed_b"):
        return torch.cat([model.embed_a.weight[:p], model.embed_b.weight[:p]], dim=1).detach()
    for module in model.modules():
        if isinstance(module, nn.Embedding) and module.num_embeddings >= p:
            return module.weight[:p].detach()
    for name, param in model.named_parameters():
        if name.split(".")[-1] == "W_E" and param.shape[0] >= p:
            return param[:p].detach()
    raise ValueError(f"could not find a token embedding with at least p={p} rows in "
                     f"{type(model).__name__}")


def embedding_spectrum(model: nn.Module, p: int) -> np.ndarray:
    """Norm of the token embeddings at each frequency k = 1..(p-1)/2: ((p-1)/2,)."""
    return frequency_norms(token_embeddings(model, p))


def key_frequencies(spectrum: object, n: int | None = None, threshold: float = 0.25) -> list[int]:
    """The frequencies (1-based: entry i of ``spectrum`` is frequency i + 1) that carry the
    computation, strongest first: the ``n`` largest, or, when ``n`` is None, all whose norm is
    at least ``threshold`` times the largest."""
    spectrum = as_1d_array("spectrum", spectrum)
    if (spectrum < 0).any():
        raise ValueError("spectrum must hold norms (>= 0), got a negative value")
    order = np.argsort(-spectrum, kind="stable")
    if n is not None:
        n = check_int("n", n, minimum=1, maximum=len(spectrum))
        chosen = order[:n]
    else:
        threshold = check_float("threshold", threshold, minimum=0.0, maximum=1.0,
                                strict_min=True)
        chosen = [i for i in order if spectrum[i] >= threshold * spectrum.max()]
    return [int(i) + 1 for i in chosen]


def covering_frequencies(shares: object, coverage: float = 0.9) -> list[int]:
    """The fewest frequencies, strongest first, whose ``shares`` (entry i: frequency i + 1, e.g.
    ``logit_frequency_shares``) add up to at least ``coverage`` of their total."""
    shares = as_1d_array("shares", shares)
    if (shares < 0).any() or shares.sum() <= 0:
        raise ValueError("shares must be >= 0 with a positive total, got "
                         f"min {shares.min():.3g} and total {shares.sum():.3g}")
    coverage = check_float("coverage", coverage, minimum=0.0, maximum=1.0, strict_min=True)
    order = np.argsort(-shares, kind="stable")
    covered = np.cumsum(shares[order]) / shares.sum()
    count = int(np.searchsorted(covered, coverage - 1e-12)) + 1     # first prefix reaching it
    return [int(i) + 1 for i in order[:min(count, len(order))]]


def random_frequency_sets(p: int, size: int, draws: int, seed: int = 0) -> list[list[int]]:
    """``draws`` sets of ``size`` distinct frequencies drawn uniformly from 1..(p-1)/2 (seeded):
    the control for a set of key frequencies of that size."""
    n_freq = (check_int("p", p, minimum=3) - 1) // 2
    size = check_int("size", size, minimum=1, maximum=n_freq)
    draws = check_int("draws", draws, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    return [sorted(int(k) + 1 for k in rng.choice(n_freq, size, replace=False))
            for _ in range(draws)]


def _last_logits(out: torch.Tensor, p: int) -> torch.Tensor:
    if out.ndim == 3:          # (B, T, V): read out at the last position
        out = out[:, -1]
    return out[:, :p]          # (B, p): drop logits of non-number tokens such as "="


@torch.no_grad()
def pair_logits(model: nn.Module, p: int) -> torch.Tensor:
    """Logits of every pair: (p, p, p) indexed [a, b, c] (c = the candidate answer)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    tokens, _ = all_pairs(check_int("p", p, minimum=2))
    was_training = model.training
    model.eval()
    logits = _last_logits(model(tokens), p)
    model.train(was_training)
    return logits.reshape(p, p, p).float()


def _check_logits(logits: torch.Tensor) -> int:
    logits = check_tensor("logits", logits, ndim=3)
    p = logits.shape[0]
    if logits.shape != (p, p, p):
        raise ValueError(f"logits must have shape (p, p, p) indexed [a, b, c], got "
                         f"{tuple(logits.shape)}")
    return p


def _diagonal_profile(logits: torch.Tensor) -> torch.Tensor:
    """h[m] = mean of logits[a, b, c] over a + b - c = m (mod p): (p,). The functions of
    a + b - c in the logits are exactly the Fourier components of this profile."""
    p = logits.shape[0]
    r = torch.arange(p)
    m = (r[:, None, None] + r[None, :, None] - r[None, None, :]) % p     # (p, p, p)
    sums = torch.zeros(p, dtype=torch.float64).index_add_(0, m.flatten(),
                                                          logits.double().flatten())
    return sums / (p * p)


def _frequency_components(profile: torch.Tensor, freqs: Iterable[int]) -> torch.Tensor:
    """The part of a (p,) profile at the given frequencies (cos and sin), (p,)."""
    p = profile.shape[0]
    mask = torch.zeros(p)
    for k in freqs:
        k = check_int("frequency", k, minimum=1, maximum=(p - 1) // 2)
        mask[k] = mask[p - k] = 1.0
    return torch.fft.ifft(torch.fft.fft(profile) * mask).real


def _spread(profile: torch.Tensor) -> torch.Tensor:
    """A (p,) function of m = a + b - c laid out as (p, p, p) logits [a, b, c]."""
    p = profile.shape[0]
    r = torch.arange(p)
    return profile[(r[:, None, None] + r[None, :, None] - r[None, None, :]) % p].float()


def restricted_logits(logits: torch.Tensor, freqs: Sequence[int]) -> torch.Tensor:
    """The part of (p, p, p) logits that is a combination of cos/sin(w_k (a + b - c)) for the
    given frequencies k (its projection on those functions): (p, p, p)."""
    _check_logits(logits)
    return _spread(_frequency_components(_diagonal_profile(logits), freqs))


def logit_frequency_shares(logits: torch.Tensor) -> np.ndarray:
    """Share of the logits' variance over answers c (what the softmax sees) carried by each
    frequency's cos/sin(w_k (a + b - c)): ((p-1)/2,) in [0, 1]."""
    p = _check_logits(logits)
    total = float((logits.double() - logits.double().mean(2, keepdim=True)).pow(2).mean())
    power = torch.fft.fft(_diagonal_profile(logits)).abs().pow(2) / p**2  # per DFT index
    shares = (power[1:(p - 1) // 2 + 1] * 2 / total) if total else torch.zeros((p - 1) // 2)
    return shares.numpy()


def _loss(logits: torch.Tensor, rows: torch.Tensor | None) -> float:
    p = logits.shape[0]
    flat = logits.reshape(p * p, p)
    labels = all_pairs(p)[1]
    if rows is not None:
        rows = check_tensor("rows", rows, ndim=1, integer=True)
        flat, labels = flat[rows], labels[rows]
    return float(F.cross_entropy(flat, labels))


def restricted_loss(logits: torch.Tensor, freqs: Sequence[int],
                    rows: torch.Tensor | None = None) -> float:
    """Cross-entropy of the logits restricted to the key frequencies, over the pairs ``rows``
    (indices a * p + b; all pairs when None). The restricted logits are a function h of
    a + b - c, so every pair has the same loss, logsumexp(h) - h[0]."""
    return restricted_losses(logits, [freqs], rows)[0]


def restricted_losses(logits: torch.Tensor, freq_sets: Sequence[Sequence[int]],
                      rows: torch.Tensor | None = None) -> np.ndarray:
    """``restricted_loss`` for each set of frequencies, sharing one pass over the (p, p, p)
    logits: (len(freq_sets),)."""
    _check_logits(logits)
    if rows is not None:   # the same loss on every pair: rows are only checked
        check_tensor("rows", rows, ndim=1, integer=True)
    profile = _diagonal_profile(logits)                         # (p,)
    losses = []
    for freqs in freq_sets:
        h = _frequency_components(profile, freqs)                # (p,): h[m], m = a + b - c
        losses.append(float(torch.logsumexp(h, 0) - h[0]))
    return np.asarray(losses)


def excluded_loss(logits: torch.Tensor, freqs: Sequence[int],
                  rows: torch.Tensor | None = None) -> float:
    """Cross-entropy of the logits with the key-frequency components removed, over ``rows``."""
    return _loss(logits - restricted_logits(logits, freqs), rows)


def fourier_progress(model: nn.Module, p: int, freqs: Sequence[int],
                     train_rows: torch.Tensor) -> dict[str, float]:
    """Restricted loss (all pairs), excluded loss (training pairs) and full loss (all pairs)."""
    logits = pair_logits(model, p)
    return {"restricted_loss": restricted_loss(logits, freqs),
            "excluded_loss": excluded_loss(logits, freqs, train_rows),
            "full_loss": _loss(logits, None)}
