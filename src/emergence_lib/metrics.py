"""Metrics on predicted token sequences: the sharp ones (exact match) and the smooth ones
(token accuracy, edit distance, Brier score, log-probability of the correct answer), overall and
per answer position, and the chance value of the edit distance."""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F

from ._validate import check_choice, check_float, check_int, check_tensor


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


EXACT_CHANCE_MAX_LENGTH = 6      # longer answers: a seeded Monte Carlo estimate (see below)
CHANCE_SAMPLES = 200_000         # random answer pairs of that estimate (std. error ~ 0.003)


def _string_patterns(length: int) -> list[tuple[int, ...]]:
    """Every string of ``length`` symbols up to renaming of the symbols (restricted growth
    strings): (0, 0, 1) stands for "aab", "ccd", ... ."""
    patterns = [(0,)]
    for _ in range(length - 1):
        patterns = [p + (c,) for p in patterns for c in range(max(p) + 2)]
    return patterns


def chance_edit_distance(length: int, vocab: int = 10) -> float:
    """Expected Levenshtein distance between two independent uniformly random strings of
    ``length`` symbols from ``vocab``: the edit distance of a chance answer. Exact for
    length <= EXACT_CHANCE_MAX_LENGTH; longer lengths get a seeded Monte Carlo estimate."""
    return _chance_edit_distance(check_int("length", length, minimum=1),
                                 check_int("vocab", vocab, minimum=1))


@functools.cache
def _chance_edit_distance(length: int, vocab: int) -> float:
    if length > EXACT_CHANCE_MAX_LENGTH:
        rng = np.random.default_rng(0)
        a, b = (torch.from_numpy(rng.integers(0, vocab, (CHANCE_SAMPLES, length)))
                for _ in range(2))
        return float(edit_distances(a, b).mean())
    # The target t matters only through its pattern of repeated symbols. For one pattern,
    # propagate the exact distribution of the dynamic programme's row (distances from the
    # random string's prefix to every prefix of t) as the random string grows by one symbol:
    # a new symbol equals one of t's distinct symbols (probability 1/vocab each) or none.
    total = 0.0
    for t in _string_patterns(length):
        distinct = max(t) + 1
        if distinct > vocab:
            continue
        weight = math.perm(vocab, distinct) / vocab**length     # P(target has pattern t)
        symbols = [(tuple(tj == c for tj in t), 1.0 / vocab) for c in range(distinct)]
        if vocab > distinct:
            symbols.append(((False,) * length, (vocab - distinct) / vocab))
        rows = {tuple(range(length + 1)): 1.0}
        for i in range(1, length + 1):
            grown: dict[tuple[int, ...], float] = {}
            for row, p in rows.items():
                for equal, q in symbols:
                    new = [i]
                    for j in range(1, length + 1):
                        new.append(min(row[j] + 1, new[j - 1] + 1,
                                       row[j - 1] + (not equal[j - 1])))
                    key = tuple(new)
                    grown[key] = grown.get(key, 0.0) + p * q
            rows = grown
        total += weight * sum(row[-1] * p for row, p in rows.items())
    return total


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


def correct_token_probs(logits: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Probability the model gives the correct token at each position: (N, L, V), (N, L) ->
    (N, L)."""
    _check_logits(logits, target)
    probs = logits.float().softmax(-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return probs.detach().cpu().numpy()


def per_position_brier(logits: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Brier score at each answer position, sum_c (p_c - 1[c = target])^2 averaged over rows:
    (N, L, V), (N, L) -> (L,) in [0, 2]."""
    _check_logits(logits, target)
    probs = logits.float().softmax(-1)
    onehot = F.one_hot(target, logits.shape[2]).float()
    return ((probs - onehot) ** 2).sum(-1).mean(0).detach().cpu().numpy()


def per_position_log_prob(logits: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """Mean log-probability of the correct token at each answer position (nats, <= 0):
    (N, L, V), (N, L) -> (L,)."""
    _check_logits(logits, target)
    logp = logits.float().log_softmax(-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
    return logp.mean(0).detach().cpu().numpy()


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


# --- Chapter 2 (the metric mirage): metrics on the first L answer positions, the analytic
# p**L and L*(1-p) predictions, and a helper that scores many models under many metrics.

METRICS = ("exact_match", "token_accuracy", "edit_distance", "brier", "log_prob")


def _check_length(length: object, available: int) -> int:
    return check_int("length", length, minimum=1, maximum=available)


def exact_match_first(pred: torch.Tensor, target: torch.Tensor, length: int) -> float:
    """Exact match on the first ``length`` answer positions only: (N, L), (N, L) -> float."""
    _check_pair(pred, target)
    length = _check_length(length, pred.shape[1])
    return exact_match(pred[:, :length], target[:, :length])


def exact_match_any_positions(pred: torch.Tensor, target: torch.Tensor, length: int) -> float:
    """Exact match of a ``length``-token answer averaged over every choice of ``length`` of the
    L positions: (N, L), (N, L) -> float. A row with c right tokens scores C(c, k) / C(L, k)."""
    _check_pair(pred, target)
    length = _check_length(length, pred.shape[1])
    right = (pred == target).sum(dim=1).numpy()                      # (N,) right tokens per row
    ways = np.array([math.comb(int(c), length) for c in right], dtype=float)
    return float(ways.mean() / math.comb(pred.shape[1], length))


def exact_match_from_accuracy(accuracy: object, length: int) -> np.ndarray:
    """The analytic mirage model: exact match of an L-token answer if every token is right with
    probability p independently, p**L. accuracy: any shape of values in [0, 1]."""
    length = check_int("length", length, minimum=1)
    p = _as_probabilities("accuracy", accuracy)
    return p ** length


def edit_distance_from_accuracy(accuracy: object, length: int) -> np.ndarray:
    """Expected number of wrong tokens of an L-token answer, L * (1 - p): the smooth twin of
    p**L (an upper bound on the edit distance, which may also align by shifting)."""
    length = check_int("length", length, minimum=1)
    p = _as_probabilities("accuracy", accuracy)
    return length * (1.0 - p)


def exact_match_from_positions(position_accuracy: object) -> np.ndarray:
    """Exact match predicted from each position's own accuracy, prod_i p_i (positions
    independent): (..., L) -> (...)."""
    p = _as_probabilities("position_accuracy", position_accuracy)
    if p.ndim == 0:
        raise ValueError("position_accuracy must have a last axis of answer positions, "
                         "got a scalar")
    return np.prod(p, axis=-1)


def _as_probabilities(name: str, values: object) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    try:
        p = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers in [0, 1], got {values!r}") from err
    if not np.isfinite(p).all() or ((p < 0) | (p > 1)).any():
        raise ValueError(f"{name} must be finite numbers in [0, 1], got values from "
                         f"{np.nanmin(p) if p.size else 'nothing'} to "
                         f"{np.nanmax(p) if p.size else 'nothing'}")
    return p


def score_models(logits: object, target: torch.Tensor, *, length: int | None = None,
                 metrics: tuple[str, ...] = METRICS) -> dict[str, np.ndarray]:
    """Score several models' test logits on the same targets under many metrics.

    logits: a sequence of (N, L, V) tensors, one per model; target: (N, L); ``length`` keeps
    only the first positions of each answer. Returns {metric: (n_models,) values}.
    """
    if isinstance(logits, torch.Tensor) or not isinstance(logits, (list, tuple)):
        raise TypeError(f"logits must be a list or tuple of (N, L, V) tensors, one per model, "
                        f"got {type(logits).__name__}")
    if not logits:
        raise ValueError("logits must hold at least one model's (N, L, V) tensor, got none")
    for name in metrics:
        check_choice("metrics", name, METRICS)
    check_tensor("target", target, ndim=2, integer=True)
    if length is not None:
        length = _check_length(length, target.shape[1])
        target = target[:, :length]
    table: dict[str, list[float]] = {name: [] for name in metrics}
    for i, model_logits in enumerate(logits):
        check_tensor(f"logits[{i}]", model_logits, ndim=3)
        if length is not None:
            model_logits = model_logits[:, :length]
        scores = score_predictions(model_logits, target)
        for name in metrics:
            table[name].append(scores[name])
    return {name: np.array(values) for name, values in table.items()}


def rate_with_interval(hits: object, n: int | None = None, *, seed: int = 0,
                       confidence: float = 0.95) -> tuple[float, float, float]:
    """A success rate measured on ``n`` examples drawn without replacement from ``hits``
    (0/1 per example; all of them if ``n`` is None): (rate, low, high), Wilson interval."""
    if isinstance(hits, torch.Tensor):
        hits = hits.detach().cpu().numpy()
    arr = np.asarray(hits)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"hits must be a non-empty 1-D array of 0/1, got shape {arr.shape}")
    if not np.isin(arr, (0, 1)).all():
        raise ValueError("hits must hold only 0/1 (or False/True) values")
    if n is not None:
        n = check_int("n", n, minimum=1, maximum=arr.size)
        seed = check_int("seed", seed, minimum=0)
        arr = np.random.default_rng(seed).choice(arr, size=n, replace=False)
    successes = int(arr.sum())
    rate = successes / arr.size
    low, high = wilson_interval(successes, arr.size, confidence)
    return rate, min(low, rate), max(high, rate)          # no rounding error outside the rate


# The gating activation G lives in its own module (its sources of gate logits sit with it);
# re-exported here so ``metrics.gating_activation`` is where a reader of the course brief looks.
from .gating import gating_activation, gating_chance, gating_maximum, gating_ratio  # noqa: E402, F401
