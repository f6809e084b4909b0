"""Checkers for chapter 6 (emergent misalignment in a toy model organism)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..metrics import wilson_interval
from ..progress.adapters import local_cosine
from .core import CheckResult, check_function


def harmful_rate_reference(hits: np.ndarray) -> tuple[float, float, float]:
    """The share of 1s in a 0/1 array and its 95% Wilson interval."""
    hits = np.asarray(hits)
    low, high = wilson_interval(int(hits.sum()), len(hits))
    return float(hits.mean()), low, high


def check_harmful_rate(student: Callable[[np.ndarray], tuple[float, float, float]]
                       ) -> CheckResult:
    """CS-student exercise: a harmful-answer rate with its Wilson interval."""
    cases = [{"hits": np.array([1, 0, 1, 1, 0, 0, 0, 1, 1, 1])},
             {"hits": np.zeros(24, dtype=int)},
             {"hits": np.ones(8, dtype=int)},
             {"hits": (np.arange(200) % 7 == 0).astype(int)}]

    def normal(hits):
        p, n = float(np.mean(hits)), len(hits)
        half = 1.96 * np.sqrt(p * (1 - p) / n)
        return p, max(0.0, p - half), min(1.0, p + half)

    hints = [(normal, "that is the normal-approximation (Wald) interval; it collapses to a point "
                      "at 0% and 100%. Use the Wilson score interval."),
             (lambda hits: (float(np.mean(hits)), 0.0, 1.0),
              "the interval must shrink with the number of answers n.")]
    return check_function(student, harmful_rate_reference, cases, name="harmful_rate",
                          rtol=1e-3, atol=1e-3, hints=hints)


def local_cos_reference(vectors: np.ndarray, k: int) -> np.ndarray:
    """cos(v[t-k] - v[t], v[t+k] - v[t]) along a (T, d) trajectory; NaN at the ends."""
    return local_cosine(vectors, k)


def check_local_cosine(student: Callable[[np.ndarray, int], np.ndarray]) -> CheckResult:
    """Applied-researcher exercise: Turner et al.'s local cosine of an adapter trajectory."""
    rng = np.random.default_rng(6)
    straight = np.outer(np.arange(8), rng.normal(size=5))
    corner = np.array([[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]], dtype=float)
    walk = np.cumsum(rng.normal(size=(12, 4)), axis=0)
    cases = [{"vectors": straight, "k": 1}, {"vectors": corner, "k": 1},
             {"vectors": walk, "k": 2}, {"vectors": walk, "k": 4}]

    def forward_only(vectors, k):
        v = np.asarray(vectors, dtype=float)
        out = np.full(len(v), np.nan)
        for t in range(k, len(v) - k):
            a, b = v[t] - v[t - k], v[t + k] - v[t]
            out[t] = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
        return out

    def marked(fn: Callable[[np.ndarray, int], np.ndarray]) -> Callable[..., np.ndarray]:
        # check_function compares hints without equal_nan, so the ends are marked as NO_VALUE
        return lambda vectors, k: np.nan_to_num(np.asarray(fn(vectors, k), dtype=float),
                                                nan=NO_VALUE)

    hints = [(marked(forward_only), "both differences start at v[t]: cos(v[t-k] - v[t], "
                                    "v[t+k] - v[t]), so a straight path gives -1, not +1."),
             (marked(lambda vectors, k: np.zeros(len(vectors))),
              f"positions without both neighbours must be NaN (shown as {NO_VALUE:g} here).")]
    return check_function(marked(student), marked(local_cos_reference), cases,
                          name=f"local_cos (NaN shown as {NO_VALUE:g})", rtol=1e-6, hints=hints)


NO_VALUE = -9.0  # how the checker shows NaN (no local cosine at the trajectory's ends)
