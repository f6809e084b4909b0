"""Checkers and reference functions for chapter 2 (the metric mirage): the product of positions
and a prediction with it (CS student), the test-set size and the answer-length verdict (applied
researcher), and the frontier target."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..metrics import exact_match_from_positions
from .core import CheckResult, check_function, check_number, check_verdict, interval_above


def exact_match_from_positions_reference(position_accuracy: np.ndarray) -> np.ndarray:
    """Exact match predicted from independent positions, prod_i p_i: (..., L) -> (...)."""
    return exact_match_from_positions(position_accuracy)


def check_exact_match_from_positions(student: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """CS-student exercise: predict exact match from the accuracy of each answer position."""
    cases = [
        {"position_accuracy": np.array([0.9, 0.9, 0.9])},
        {"position_accuracy": np.array([1.0, 0.1, 0.5, 1.0])},
        {"position_accuracy": np.array([[0.1, 0.1, 0.9, 1.0, 1.0], [1.0, 1.0, 0.5, 0.9, 1.0]])},
    ]
    hints = [
        (lambda position_accuracy: np.mean(position_accuracy, axis=-1)
         ** np.shape(position_accuracy)[-1],
         "you averaged the positions first and then raised to the power L; that is p**L with "
         "the average p, which overestimates when positions differ (multiply the positions)."),
        (lambda position_accuracy: np.mean(position_accuracy, axis=-1),
         "you returned the per-token accuracy; a whole answer needs every position right."),
        (lambda position_accuracy: np.min(position_accuracy, axis=-1),
         "you took the weakest position alone; the other positions can fail too (multiply)."),
        (lambda position_accuracy: np.prod(position_accuracy),
         "you multiplied over every axis; multiply over the last axis only (axis=-1)."),
    ]
    return check_function(student, exact_match_from_positions_reference, cases,
                          name="exact_match_from_positions", hints=hints)


def samples_needed_reference(rate: float, confidence: float) -> int:
    """Smallest n with P(at least one success in n independent tries) >= confidence."""
    n = math.log(1.0 - confidence) / math.log(1.0 - rate)
    return int(math.ceil(n - 1e-9))


def check_samples_needed(student: Callable[[float, float], int]) -> CheckResult:
    """Applied-researcher exercise: test-set size needed to see a rare capability at all."""
    cases = [
        {"rate": 0.01, "confidence": 0.95},
        {"rate": 0.5, "confidence": 0.75},
        {"rate": 0.001, "confidence": 0.99},
        {"rate": 0.2, "confidence": 0.5},
    ]
    hints = [
        (lambda rate, confidence: 3.0 / rate,
         "3 / rate is the 'rule of three', a good approximation for 95%; compute it exactly from "
         "(1 - rate)**n <= 1 - confidence."),
        (lambda rate, confidence: 1.0 / rate,
         "1 / rate is the size at which you *expect* one success; you still miss it often. "
         "Solve (1 - rate)**n <= 1 - confidence for n."),
        (lambda rate, confidence: math.floor(math.log(1 - confidence) / math.log(1 - rate)),
         "round up, not down: n must be a whole number that reaches the confidence."),
        (lambda rate, confidence: math.ceil(math.log(confidence) / math.log(1 - rate)),
         "(1 - rate)**n is the chance of seeing *no* success; it must fall to 1 - confidence."),
    ]
    return check_function(student, samples_needed_reference, cases, name="samples_needed",
                          hints=hints)


# ---- CS student: a prediction from the per-position table -----------------------------------

def check_widest_prediction(answer: object, measured: float) -> CheckResult:
    """The student's predicted exact match of the widest model (from its five per-position
    accuracies) against the measured one, within 0.02 (the chapter's MAX_GAP)."""
    from ..checks.ch02 import MAX_GAP

    return check_number(answer, measured, name="widest_exact_prediction", atol=MAX_GAP,
                        explain="If positions err independently, a whole answer is right with "
                        "probability p_0 * p_1 * ... * p_4: multiply the five accuracies of the "
                        "widest model's row, do not average them.")


# ---- applied researcher: does a longer graded answer sharpen more, on the same models? --------

def length_sharpening(members: Sequence, target: torch.Tensor, short: int = 2,
                      seed: int = 0) -> object:
    """k(exact match on the whole answer) / k(exact match on ``short`` of its digits, averaged over
    which), on the same models, with its 95% paired-bootstrap interval (``fit.SteepnessRatio``).
    target: (N, L) the test answers every member was scored on (one data split)."""
    from ..fit import steepness_ratio
    from ..metrics import exact_match_any_positions
    from ..recipes import mirage

    length = int(target.shape[1])
    if not 1 <= short < length:
        raise ValueError(f"short must be between 1 and {length - 1} digits, got {short}")
    n_params = np.array([m.n_params for m in members], dtype=float)
    fits = []
    for graded in (length, short):
        values = [exact_match_any_positions(m.test_logits.argmax(-1), target, graded)
                  for m in members]
        fits.append(mirage.fit_metric(n_params, values, "exact_match", length=graded,
                                      seed=seed))
    return steepness_ratio(*fits)


def longer_sharpens_more(ratio_interval: tuple[float, float]) -> bool:
    """The researcher's verdict: True when the 95% interval of k(long) / k(short) lies above 1."""
    return interval_above(ratio_interval, 1.0, name="ratio_interval")


def check_length_verdict(answer: object, ratio_interval: tuple[float, float]) -> CheckResult:
    """The student's ``verdict`` against the reference run's interval."""
    lo, hi = ratio_interval
    return check_verdict(answer, longer_sharpens_more(ratio_interval), name="verdict",
                         explain=f"The run's ratio k(3 digits) / k(2 digits) has the 95% "
                         f"interval [{lo:.2f}, {hi:.2f}]: the hypothesis is supported only when "
                         "the whole interval lies above 1.")


# ---- frontier researcher: predict exact match's steepness from the positions -----------------

FRONTIER_TOLERANCE = 0.25   # the target: k(exact) predicted within 25%


def steepness_prediction_met(predicted: float, measured: float,
                             tolerance: float = FRONTIER_TOLERANCE) -> bool:
    """Whether a predicted steepness is within ``tolerance`` (relative) of the measured one."""
    if not (np.isfinite(predicted) and np.isfinite(measured)) or measured <= 0:
        return False
    return bool(abs(predicted - measured) <= tolerance * measured)

