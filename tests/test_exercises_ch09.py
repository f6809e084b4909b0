"""Chapter 9's exercise checkers: the reference passes, a stub is "not attempted", a known
mistake gets its hint."""

from __future__ import annotations

import math

import numpy as np

from emergence_lib.exercises.ch09 import (
    accuracy_jump,
    check_accuracy_jump,
    check_halving_verdict,
    halving_supported,
)


def _stub(*args, **kwargs):
    raise NotImplementedError


def test_references_pass_and_stubs_are_not_attempted():
    assert check_accuracy_jump(accuracy_jump) and check_halving_verdict(halving_supported)
    for check in (check_accuracy_jump, check_halving_verdict):
        result = check(_stub)
        assert not result.passed and not result.attempted and "not attempted" in result.message


def test_reference_values():
    assert accuracy_jump([0, 1, 2, 3], [0.1, 0.1, 0.9, 0.9], 1.5) == 80.0
    assert math.isnan(accuracy_jump([0, 1], [0.1, 0.2], 5.0))
    assert halving_supported(8.0, (3.5, 4.5))
    assert not halving_supported(8.0, (3.0, 9.0)) and not halving_supported(8.0, (7.0, 9.0))


def test_known_mistakes_get_their_hint():
    def fraction(values, accuracies, threshold):
        x, y = np.asarray(values), np.asarray(accuracies)
        return float(y[x >= threshold].mean() - y[x < threshold].mean())

    assert "percentage points" in check_accuracy_jump(fraction).message

    def contains_half(threshold_single, interval_double):
        return interval_double[0] <= threshold_single / 2 <= interval_double[1]

    assert "excludes the single-heads threshold" in check_halving_verdict(contains_half).message
