"""Metrics on predicted token sequences: the sharp ones (exact match) and the smooth ones
(token accuracy, edit distance, Brier score, log-probability of the correct answer)."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ._validate import check_float, check_int, check_tensor


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    check_tensor("pred", pred, ndim=2, integer=True)
    check_tensor("target", target, ndim=2, integer=True)
    if pred.shape != target.shape:
        raise ValueError(f"pred and target must have the same shape (N, L), got "
                         f"{tuple(pred.shape)} and {tuple(target.shape)}")


def _check_logits(logits: torch.Tensor, target: torch.Tensor) -> None:
    check_tensor("logits", logits, ndim=3)
    check_tensor("target", target, ndim=2, integer=True)
    if logits.shape[:2] != target.shape:
        raise ValueError(f"logits (N, L, V) and target (N, L) must agree on N and L, got "
                         f"{tuple(logits.shape)} and {tuple(target.shape)}")
    if target.numel() and (int(target.min()) < 0 or int(target.max()) >= logits.shape[2]):
        raise ValueError(f"target must hold token ids in [0, {logits.shape[2]}), got values "
                         f"from {int(target.min())} to {int(target.max())}")


def exact_match(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Share of rows where every token is right: (N, L), (N, L) -> float in [0, 1]."""
    _check_pair(pred, target)
    return float((pred == target).all(dim=1).float().mean())


def token_accuracy(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Share of tokens that are right: (N, L), (N, L) -> float in [0, 1]."""
    _check_pair(pred, target)
    return float((pred == target).float().mean())


def per_position_accuracy(pred: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Accuracy at each answer position: (N, L), (N, L) -> (L,)."""
    _check_pair(pred, target)
    return (pred == target).float().mean(dim=0).numpy()


def edit_distances(pred: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Levenshtein distance between each predicted and target token row: -> (N,) ints."""
    _check_pair(pred, target)
    a, b = pred.numpy(), target.numpy()
    n, length = a.shape
    prev = np.tile(np.arange(length + 1), (n, 1))          # (N, L + 1): distance to b[:j]
    for i in range(1, length + 1):
        row = np.empty_like(prev)
        row[:, 0] = i
        for j in range(1, length + 1):
            substitute = prev[:, j - 1] + (a[:, i - 1] != b[:, j - 1])
            row[:, j] = np.minimum(np.minimum(prev[:, j] + 1, row[:, j - 1] + 1), substitute)
        prev = row
    return prev[:, length]


def edit_distance(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Mean token edit distance: (N, L), (N, L) -> float in [0, L]."""
    return float(edit_distances(pred, target).mean())


def brier_score(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over tokens of sum_c (p_c - 1[c = target])^2: (N, L, V), (N, L) -> float in [0, 2]."""
    _check_logits(logits, target)
    probs = logits.float().softmax(-1)
    onehot = F.one_hot(target, logits.shape[2]).float()
    return float(((probs - onehot) ** 2).sum(-1).mean())


def log_prob_correct(logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over rows of log p(whole correct answer) = sum of per-token log-probs (nats, <= 0)."""
    _check_logits(logits, target)
    logp = logits.float().log_softmax(-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return float(logp.sum(1).mean())


def score_predictions(logits: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Every metric of this module at once: (N, L, V) logits, (N, L) targets -> {name: value}."""
    _check_logits(logits, target)
    pred = logits.argmax(-1)
    return {"exact_match": exact_match(pred, target),
            "token_accuracy": token_accuracy(pred, target),
            "edit_distance": edit_distance(pred, target),
            "brier": brier_score(logits, target),
            "log_prob": log_prob_correct(logits, target)}


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a rate measured as ``successes`` out of ``n`` trials."""
    n = check_int("n", n, minimum=1)
    successes = check_int("successes", successes, minimum=0, maximum=n)
    confidence = check_float("confidence", confidence, minimum=0.0, maximum=1.0,
                             strict_min=True, strict_max=True)
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + confidence / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
