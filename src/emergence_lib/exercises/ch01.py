"""Checkers and reference functions for chapter 1 (the scaling paradox): the weakest link and
a prediction about it (CS student), the crossing size and the small-task verdict (applied
researcher), and the frontier target."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..detect import first_crossing
from ..metrics import exact_match_from_positions
from .core import CheckResult, check_function, check_number, check_verdict, interval_above


def weakest_link_reference(skill_probs: np.ndarray) -> np.ndarray:
    """Success probability of tasks needing every sub-skill: (..., m) -> (...)."""
    return exact_match_from_positions(skill_probs)  # the same product: every part must succeed


def check_weakest_link(student: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """CS-student exercise: the product of independent sub-skill probabilities."""
    cases = [
        {"skill_probs": np.array([0.9, 0.9, 0.9])},
        {"skill_probs": np.array([[0.5, 1.0], [0.2, 0.5], [1.0, 1.0]])},
        {"skill_probs": np.full((2, 3, 5), 0.8)},
    ]
    hints = [
        (lambda skill_probs: np.mean(skill_probs, axis=-1),
         "you averaged the sub-skills; a chain is only as strong as *all* its links (multiply)."),
        (lambda skill_probs: np.min(skill_probs, axis=-1),
         "you took the weakest sub-skill alone; the others can fail too (multiply them)."),
        (lambda skill_probs: np.prod(skill_probs),
         "you multiplied over every axis; multiply over the last axis only (axis=-1)."),
        (lambda skill_probs: np.prod(skill_probs, axis=0),
         "you multiplied over the first axis; the sub-skills are on the last axis (axis=-1)."),
    ]
    return check_function(student, weakest_link_reference, cases, name="weakest_link",
                          hints=hints)


def crossing_size_reference(sizes: np.ndarray, accuracy: np.ndarray, level: float) -> float:
    """Smallest size at which accuracy reaches ``level``, interpolated linearly in log(size)."""
    order = np.argsort(sizes)
    at = first_crossing(np.log(np.asarray(sizes, dtype=float)[order]),
                        np.asarray(accuracy, dtype=float)[order], level)
    return float("nan") if at is None else float(np.exp(at))


def check_crossing_size(student: Callable[[np.ndarray, np.ndarray, float], float]) -> CheckResult:
    """Applied-researcher exercise: where a family's accuracy crosses a level, in log-size."""
    cases = [
        {"sizes": np.array([1e3, 1e4, 1e5]), "accuracy": np.array([0.0, 0.5, 1.0]),
         "level": 0.5},
        {"sizes": np.array([1e3, 1e4, 1e5]), "accuracy": np.array([0.0, 0.2, 1.0]),
         "level": 0.6},
        {"sizes": np.array([1e5, 1e3, 1e4]), "accuracy": np.array([0.9, 0.1, 0.3]),
         "level": 0.5},
        {"sizes": np.array([10.0, 100.0]), "accuracy": np.array([0.1, 0.2]), "level": 0.5},
    ]
    hints = [
        (lambda sizes, accuracy, level: float(np.interp(level, accuracy, sizes)),
         "you interpolated in size itself; interpolate in log(size), the axis of the plot."),
        (lambda sizes, accuracy, level: float(np.exp(np.interp(
            level, np.asarray(accuracy), np.log(sizes)))),
         "sort the points by size first (the third test gives them out of order)."),
    ]
    return check_function(student, crossing_size_reference, cases, name="crossing_size",
                          rtol=1e-4, hints=hints)


# ---- CS student: a prediction about the weakest link ------------------------------------------

def threshold_shift_reference(m: int, steepness: float) -> float:
    """How many times larger than x_c the size is where all of m sub-skills, each the logistic
    1 / (1 + (x / x_c)**-k), succeed together half the time: exp(logit(0.5**(1/m)) / k)."""
    p = 0.5 ** (1.0 / m)
    return float(np.exp(np.log(p / (1.0 - p)) / steepness))


THRESHOLD_SHIFT_RTOL = 0.15   # the predicted factor counts when within 15% of the widget's


def check_threshold_shift(answer: object, measured: float) -> CheckResult:
    """The student's predicted factor against the one the widget's curve gives (within
    THRESHOLD_SHIFT_RTOL)."""
    return check_number(answer, measured, name="threshold_shift", rtol=THRESHOLD_SHIFT_RTOL,
                        unit="x x_c",
                        explain="The product reaches 50% only when every factor is at "
                        "0.5**(1/m) (0.87 for m = 5), well above one sub-skill's own 50%: "
                        "solve 1 / (1 + (x / x_c)**-k) = 0.5**(1/m) for x / x_c.")


# ---- applied researcher: does the paradox hold on a shorter answer? ---------------------------

def paradox_on_small_task(ratio_interval: tuple[float, float]) -> bool:
    """The researcher's verdict: exact match is steeper than per-digit accuracy within the
    uncertainty, i.e. the paired-bootstrap interval of k(exact)/k(per-digit) lies above 1."""
    return interval_above(ratio_interval, 1.0, name="ratio_interval")


def check_paradox_verdict(answer: object, ratio_interval: tuple[float, float]) -> CheckResult:
    """The student's ``verdict`` (True/False) against the reference run's interval."""
    lo, hi = ratio_interval
    return check_verdict(answer, paradox_on_small_task(ratio_interval),
                         name="verdict", explain=f"The run's steepness ratio has the 95% "
                         f"interval [{lo:.2f}, {hi:.2f}]: the hypothesis holds within the "
                         "uncertainty only when the whole interval lies above 1.")


# ---- frontier researcher: predict the crossing from the positions -----------------------------

FRONTIER_TOLERANCE = 0.3   # the stated target: predicted 50% crossing within 30% of the measured


def prediction_met(predicted: float, measured: float,
                   tolerance: float = FRONTIER_TOLERANCE) -> bool:
    """Whether a predicted crossing size is within ``tolerance`` (relative) of the measured one;
    False when either is NaN (a curve that never crosses)."""
    if not (np.isfinite(predicted) and np.isfinite(measured)) or measured <= 0:
        return False
    return bool(abs(predicted - measured) <= tolerance * measured)


def small_task_ratio(members: Sequence, seed: int = 0) -> tuple[float, tuple[float, float]]:
    """The reference run's k(exact)/k(per-digit) on a family (e.g. ``recipes.addition.SMALL``)
    and its 95% paired-bootstrap interval, fitted as chapter 1 fits (floor and ceiling fixed at
    chance and perfect, ``recipes.mirage.fit_metric``)."""
    from ..fit import steepness_ratio
    from ..recipes import addition, mirage

    length = members[0].test_logits.shape[1]
    n_params, exact = addition.family_table(members, "exact_match")
    _, digit = addition.family_table(members, "token_accuracy")
    ratio = steepness_ratio(
        mirage.fit_metric(n_params, exact, "exact_match", length=length, seed=seed),
        mirage.fit_metric(n_params, digit, "token_accuracy", length=length, seed=seed))
    return float(ratio.ratio), (float(ratio.interval[0]), float(ratio.interval[1]))
