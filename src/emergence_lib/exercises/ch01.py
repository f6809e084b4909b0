"""Checkers for chapter 1 (the scaling paradox)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..detect import first_crossing
from ..metrics import exact_match_from_positions
from .core import CheckResult, check_function


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
