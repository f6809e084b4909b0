"""Checkers for chapter 9 (the phase-transition lab): the student's accuracy jump across a
threshold, and the student's verdict on "doubling the heads halves log C_c", against the
library's references on fixed inputs, with plain-words hints."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .core import CheckResult, check_function

JUMP_POINTS = 20.0     # ex-09-jump: "accuracy jumps" when it rises by at least this many points
ESTIMATOR_RTOL = 0.3   # ex-09-estimator: an estimated depth threshold within this share of the
                       # measured one counts as predicted


def accuracy_jump(values: Sequence[float], accuracies: Sequence[float],
                  threshold: float) -> float:
    """Mean accuracy of the configurations at or above ``threshold`` minus the mean of those
    below, in percentage points (NaN when either side is empty)."""
    x, y = np.asarray(values, dtype=float), np.asarray(accuracies, dtype=float)
    above, below = y[x >= threshold], y[x < threshold]
    if not len(above) or not len(below):
        return float("nan")
    return float(100 * (above.mean() - below.mean()))


def halving_supported(threshold_single: float, interval_double: tuple[float, float]) -> bool:
    """Is "doubling the heads halves log C_c" supported? True when the doubled-heads
    threshold's interval contains half the single-heads threshold and excludes the
    single-heads threshold itself (a shift that is there, of the claimed size)."""
    lo, hi = interval_double
    half = threshold_single / 2
    return bool(lo <= half <= hi and not lo <= threshold_single <= hi)


def _jump_cases() -> list[dict]:
    return [{"values": [-1.0, -0.5, 0.0, 0.5, 1.0], "accuracies": [0.2, 0.2, 0.6, 1.0, 1.0],
             "threshold": 0.0},
            {"values": [1, 1, 2, 2, 3, 3], "accuracies": [0.1, 0.3, 0.5, 0.7, 0.9, 0.9],
             "threshold": 2.5},
            {"values": [0.2, 0.4], "accuracies": [0.5, 0.6], "threshold": 1.0}]


def check_accuracy_jump(student: Callable[..., float]) -> CheckResult:
    """CS-student exercise: the jump in accuracy (points) once the predictor passes the
    threshold."""
    hints = [
        (lambda values, accuracies, threshold: accuracy_jump(values, accuracies, threshold) / 100,
         "give the jump in percentage points (x 100), not as a fraction."),
        (lambda values, accuracies, threshold: float(
            100 * (np.mean([a for v, a in zip(values, accuracies, strict=True) if v > threshold])
                   - np.mean([a for v, a in zip(values, accuracies, strict=True)
                              if v <= threshold]))),
         "a configuration exactly at the threshold counts as above it (>=), not below."),
    ]
    return check_function(student, accuracy_jump, _jump_cases(), name="accuracy_jump",
                          rtol=1e-6, atol=1e-6, hints=hints)


def _halving_cases() -> list[dict]:
    return [{"threshold_single": 8.0, "interval_double": (3.5, 4.5)},    # halves: supported
            {"threshold_single": 8.0, "interval_double": (3.0, 9.0)},    # too wide to tell
            {"threshold_single": 8.0, "interval_double": (7.0, 8.5)},    # no shift
            {"threshold_single": 8.0, "interval_double": (1.0, 2.0)}]    # shifts, but more


def check_halving_verdict(student: Callable[[float, tuple[float, float]], bool]) -> CheckResult:
    """Applied-researcher exercise: the verdict on "doubling the heads halves log C_c" from the
    two thresholds' numbers."""
    hints = [
        (lambda threshold_single, interval_double:
         interval_double[0] <= threshold_single / 2 <= interval_double[1],
         "an interval wide enough to hold both the halved and the unchanged threshold cannot "
         "support a halving: require that it excludes the single-heads threshold too."),
        (lambda threshold_single, interval_double:
         not interval_double[0] <= threshold_single <= interval_double[1],
         "a shift is not a halving: the interval must also contain half the single-heads "
         "threshold."),
    ]
    return check_function(student, halving_supported, _halving_cases(),
                          name="halving_supported", hints=hints)
