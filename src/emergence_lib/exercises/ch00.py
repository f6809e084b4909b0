"""Checkers for chapter 0 (what is emergence): reading a logistic's steepness, and interval
coverage."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import CheckResult, check_function


def transition_width_reference(steepness: float, low: float = 0.1, high: float = 0.9) -> float:
    """Factor by which x grows while the logistic in log-x climbs from ``low`` to ``high`` of the
    way from floor to ceiling: exp((logit(high) - logit(low)) / k)."""
    logit = np.log(high / (1 - high)) - np.log(low / (1 - low))
    return float(np.exp(logit / steepness))


def check_transition_width(student: Callable[..., float]) -> CheckResult:
    """CS-student exercise: how many times larger x must get to cross from 10% to 90%."""
    cases = [{"steepness": 1.0}, {"steepness": 4.0}, {"steepness": 2.0, "low": 0.25, "high": 0.75},
             {"steepness": 8.0, "low": 0.05, "high": 0.95}]
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731 - one-line helper for the hints
    hints = [
        (lambda steepness, low=0.1, high=0.9: (logit(high) - logit(low)) / steepness,
         "that is the width in ln x; the question asks for the factor in x itself (take exp)."),
        (lambda steepness, low=0.1, high=0.9: 10 ** ((logit(high) - logit(low)) / steepness),
         "k is per unit of the natural log ln x, not of log10 x: use exp, not 10**."),
        (lambda steepness, low=0.1, high=0.9: float(np.exp((logit(high) - logit(low))
                                                            * steepness)),
         "a steeper curve (larger k) crosses over a *narrower* range: divide by k."),
        (lambda steepness, low=0.1, high=0.9: float(np.exp((high - low) / steepness)),
         "solve the logistic for ln x at each level: the inverse involves log(p / (1 - p))."),
    ]
    return check_function(student, transition_width_reference, cases, name="transition_width",
                          rtol=1e-4, hints=hints)


def coverage_reference(intervals: np.ndarray, truth: float) -> float:
    """Share of intervals (n, 2) rows [lo, hi] that contain ``truth`` (ends included)."""
    intervals = np.asarray(intervals, dtype=float)
    return float(np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])))


def check_coverage(student: Callable[[np.ndarray, float], float]) -> CheckResult:
    """Applied-researcher exercise: how often a 95% interval actually contains the truth."""
    cases = [
        {"intervals": np.array([[0.0, 2.0], [1.5, 3.0], [0.5, 0.9]]), "truth": 1.0},
        {"intervals": np.array([[1.0, 2.0], [2.0, 3.0]]), "truth": 2.0},
        {"intervals": np.array([[5e3, 2e4], [1.1e4, 3e4], [9e3, 1.05e4], [1e3, 1e5]]),
         "truth": 1e4},
    ]
    hints = [
        (lambda intervals, truth: float(np.sum((np.asarray(intervals)[:, 0] <= truth)
                                               & (truth <= np.asarray(intervals)[:, 1]))),
         "you counted the intervals that contain the truth; return the share (divide by n)."),
        (lambda intervals, truth: float(np.mean((np.asarray(intervals)[:, 0] < truth)
                                                & (truth < np.asarray(intervals)[:, 1]))),
         "an interval whose end equals the truth contains it: use <= on both sides."),
    ]
    return check_function(student, coverage_reference, cases, name="coverage", hints=hints)
