import math

import numpy as np
import pytest
import torch

from emergence_lib.metrics import (
    brier_score,
    edit_distance,
    edit_distances,
    exact_match,
    log_prob_correct,
    per_position_accuracy,
    score_predictions,
    token_accuracy,
    wilson_interval,
)

T = torch.tensor


def test_hand_made_sequences():
    target = T([[1, 2, 3], [4, 5, 6]])
    pred = T([[1, 2, 3], [4, 0, 6]])
    assert exact_match(pred, target) == 0.5
    assert token_accuracy(pred, target) == pytest.approx(5 / 6)
    assert per_position_accuracy(pred, target).tolist() == [1.0, 0.5, 1.0]
    assert edit_distances(pred, target).tolist() == [0, 1]


def test_edit_distance_counts_shifts_not_only_substitutions():
    # "123" vs "231": one deletion + one insertion = 2 (three substitutions would be 3)
    assert edit_distances(T([[1, 2, 3]]), T([[2, 3, 1]])).tolist() == [2]
    assert edit_distance(T([[0, 0, 0]]), T([[1, 1, 1]])) == 3.0


def test_probability_metrics():
    target = T([[0, 1]])
    perfect = torch.full((1, 2, 3), -1e4)
    perfect[0, 0, 0] = perfect[0, 1, 1] = 1e4
    assert brier_score(perfect, target) == pytest.approx(0.0)
    assert log_prob_correct(perfect, target) == pytest.approx(0.0)
    uniform = torch.zeros(1, 2, 3)
    # Brier of a uniform guess over 3 classes: (2/3)^2 + 2 * (1/3)^2 = 2/3
    assert brier_score(uniform, target) == pytest.approx(2 / 3)
    assert log_prob_correct(uniform, target) == pytest.approx(2 * math.log(1 / 3))
    scores = score_predictions(uniform, target)
    assert set(scores) == {"exact_match", "token_accuracy", "edit_distance", "brier",
                           "log_prob"}


def test_wilson_interval():
    # zero successes in 100 cannot rule out a rate of ~3.7%
    lo, hi = wilson_interval(0, 100)
    assert lo == pytest.approx(0.0, abs=1e-12) and 0.02 < hi < 0.05
    lo, hi = wilson_interval(50, 100)
    assert lo < 0.5 < hi


@pytest.mark.parametrize("call, match", [
    (lambda: exact_match(T([[1, 2]]), T([[1, 2, 3]])), "same shape"),
    (lambda: exact_match(T([1, 2]), T([1, 2])), "pred must have 2 dimensions"),
    (lambda: token_accuracy(T([[1.0]]), T([[1]])), "integer token ids"),
    (lambda: brier_score(torch.zeros(1, 2, 3), T([[0, 3]])), "token ids in \\[0, 3\\)"),
    (lambda: log_prob_correct(torch.full((1, 1, 2), float("nan")), T([[0]])), "NaN"),
    (lambda: wilson_interval(5, 3), "successes must be <= 3"),
    (lambda: wilson_interval(1, 3, confidence=1.0), "confidence must be < 1"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_exact_match_is_product_of_independent_positions():
    rng = np.random.default_rng(0)
    target = torch.from_numpy(rng.integers(0, 10, (20000, 4)))
    wrong = torch.from_numpy(rng.random((20000, 4)) > 0.9)
    pred = torch.where(wrong, (target + 1) % 10, target)
    assert exact_match(pred, target) == pytest.approx(0.9**4, abs=0.01)
