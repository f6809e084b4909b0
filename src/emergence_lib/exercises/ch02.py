"""Checkers for chapter 2 (the metric mirage)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..metrics import exact_match_from_positions
from .core import CheckResult, check_function


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
