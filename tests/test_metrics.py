import math

import numpy as np
import pytest
import torch

from emergence_lib.metrics import (
    EXACT_CHANCE_MAX_LENGTH,
    brier_score,
    chance_edit_distance,
    correct_token_probs,
    edit_distance,
    edit_distances,
    exact_match,
    log_prob_correct,
    per_position_accuracy,
    per_position_brier,
    per_position_log_prob,
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


def _levenshtein(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


@pytest.mark.parametrize("vocab, length", [(1, 3), (2, 3), (3, 3), (3, 4), (4, 2), (5, 3)])
def test_chance_edit_distance_is_the_exact_mean_over_all_string_pairs(vocab, length):
    import itertools

    strings = list(itertools.product(range(vocab), repeat=length))
    brute = np.mean([_levenshtein(a, b) for a in strings for b in strings])
    assert chance_edit_distance(length, vocab) == pytest.approx(brute, rel=1e-12, abs=1e-12)


def test_chance_edit_distance_of_five_digits():
    # below the Hamming value L (1 - 1/V) = 4.5: an alignment may shift instead of substitute
    exact = chance_edit_distance(5, 10)
    assert 4.3 < exact < 4.5
    gen = torch.Generator().manual_seed(0)
    a, b = (torch.randint(0, 10, (100_000, 5), generator=gen) for _ in range(2))
    assert edit_distance(a, b) == pytest.approx(exact, abs=0.015)   # ~4 standard errors
    assert chance_edit_distance(1, 10) == pytest.approx(0.9)
    # beyond the exact range: a seeded estimate between the neighbouring exact value and Hamming
    longer = chance_edit_distance(EXACT_CHANCE_MAX_LENGTH + 1, 10)
    assert chance_edit_distance(EXACT_CHANCE_MAX_LENGTH, 10) < longer < 0.9 * (
        EXACT_CHANCE_MAX_LENGTH + 1)
    assert longer == chance_edit_distance(EXACT_CHANCE_MAX_LENGTH + 1, 10)


def test_chance_edit_distance_rejects_bad_input():
    with pytest.raises(ValueError, match="length"):
        chance_edit_distance(0)
    with pytest.raises(TypeError, match="length"):
        chance_edit_distance(True)
    with pytest.raises(ValueError, match="vocab"):
        chance_edit_distance(3, 0)


def test_per_position_probability_metrics_agree_with_the_overall_ones():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(40, 3, 7, generator=gen)
    target = torch.randint(0, 7, (40, 3), generator=gen)
    probs = correct_token_probs(logits, target)
    assert probs.shape == (40, 3)
    np.testing.assert_allclose(probs, logits.softmax(-1).gather(-1, target[..., None])[..., 0],
                               rtol=1e-6)
    brier = per_position_brier(logits, target)
    assert brier.shape == (3,)
    assert brier.mean() == pytest.approx(brier_score(logits, target), rel=1e-6)
    logp = per_position_log_prob(logits, target)
    assert logp.sum() == pytest.approx(log_prob_correct(logits, target), rel=1e-6)
    np.testing.assert_allclose(logp, np.log(probs).mean(0), rtol=1e-5)
    uniform = torch.zeros(2, 4, 10)
    np.testing.assert_allclose(per_position_brier(uniform, torch.zeros(2, 4, dtype=torch.long)),
                               0.9, rtol=1e-6)
    np.testing.assert_allclose(per_position_log_prob(uniform, torch.ones(2, 4, dtype=torch.long)),
                               math.log(0.1), rtol=1e-6)


@pytest.mark.parametrize("fn", [correct_token_probs, per_position_brier, per_position_log_prob])
def test_per_position_probability_metrics_reject_bad_input(fn):
    with pytest.raises(ValueError, match="logits"):
        fn(torch.zeros(2, 3, 4), torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="token ids"):
        fn(torch.zeros(2, 3, 4), torch.full((2, 3), 4))
