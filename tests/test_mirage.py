"""Chapter 2: metrics on the first L positions, the analytic p**L model, scoring many models,
rates with intervals on subsampled test sets, the recipe and the exercise checkers."""

import math

import numpy as np
import pytest
import torch

from emergence_lib.exercises import ch02
from emergence_lib.metrics import (
    chance_edit_distance,
    edit_distance_from_accuracy,
    exact_match,
    exact_match_any_positions,
    exact_match_first,
    exact_match_from_accuracy,
    exact_match_from_positions,
    rate_with_interval,
    score_models,
    score_predictions,
)
from emergence_lib.recipes import mirage

T = torch.tensor


def test_exact_match_first_counts_only_the_first_positions():
    target = T([[1, 2, 3], [4, 5, 6]])
    pred = T([[1, 2, 0], [4, 0, 6]])
    assert exact_match_first(pred, target, 1) == 1.0
    assert exact_match_first(pred, target, 2) == 0.5
    assert exact_match_first(pred, target, 3) == exact_match(pred, target) == 0.0


def test_exact_match_any_positions_averages_over_choices():
    target = T([[1, 2, 3, 4]])
    pred = T([[1, 2, 0, 0]])                 # 2 of 4 right
    assert exact_match_any_positions(pred, target, 1) == pytest.approx(0.5)
    assert exact_match_any_positions(pred, target, 2) == pytest.approx(1 / 6)
    assert exact_match_any_positions(pred, target, 3) == 0.0
    both = T([[1, 2, 3, 4], [1, 2, 0, 0]])
    assert exact_match_any_positions(both, torch.cat([target, target]), 4) == 0.5


def test_any_positions_matches_brute_force():
    import itertools

    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 3, (200, 5), generator=gen)
    pred = torch.randint(0, 3, (200, 5), generator=gen)
    for k in range(1, 6):
        brute = np.mean([exact_match(pred[:, list(c)], target[:, list(c)])
                         for c in itertools.combinations(range(5), k)])
        assert exact_match_any_positions(pred, target, k) == pytest.approx(brute)


@pytest.mark.parametrize("fn", [exact_match_first, exact_match_any_positions])
def test_length_is_checked(fn):
    target = T([[1, 2, 3]])
    with pytest.raises(ValueError, match="length"):
        fn(target, target, 0)
    with pytest.raises(ValueError, match="length"):
        fn(target, target, 4)
    with pytest.raises(TypeError, match="length"):
        fn(target, target, 1.5)
    with pytest.raises(ValueError, match="same shape"):
        fn(target, T([[1, 2]]), 1)


def test_analytic_predictions():
    assert exact_match_from_accuracy(0.9, 3) == pytest.approx(0.729)
    assert edit_distance_from_accuracy(0.9, 3) == pytest.approx(0.3)
    np.testing.assert_allclose(exact_match_from_accuracy([0.5, 1.0], 2), [0.25, 1.0])
    np.testing.assert_allclose(exact_match_from_positions([[0.5, 1.0, 0.2], [1, 1, 1]]),
                               [0.1, 1.0])
    # averaging first overestimates when positions differ (the chapter's point)
    positions = np.array([1.0, 0.1, 0.9])
    assert exact_match_from_accuracy(positions.mean(), 3) > 3 * exact_match_from_positions(
        positions)


def test_analytic_predictions_reject_bad_input():
    with pytest.raises(ValueError, match="accuracy"):
        exact_match_from_accuracy(1.5, 2)
    with pytest.raises(ValueError, match="accuracy"):
        edit_distance_from_accuracy([0.5, float("nan")], 2)
    with pytest.raises(ValueError, match="length"):
        exact_match_from_accuracy(0.5, 0)
    with pytest.raises(TypeError, match="length"):
        edit_distance_from_accuracy(0.5, "3")
    with pytest.raises(ValueError, match="position_accuracy"):
        exact_match_from_positions(0.5)
    with pytest.raises(TypeError, match="position_accuracy"):
        exact_match_from_positions("abc")


def test_measured_exact_match_follows_product_of_positions_when_independent():
    gen = torch.Generator().manual_seed(1)
    target = torch.zeros(20_000, 3, dtype=torch.long)
    p = torch.tensor([0.95, 0.5, 0.8])
    right = torch.rand(20_000, 3, generator=gen) < p
    pred = torch.where(right, target, torch.ones_like(target))
    assert exact_match(pred, target) == pytest.approx(float(p.prod()), abs=0.01)


def test_score_models_matches_score_predictions():
    gen = torch.Generator().manual_seed(0)
    target = torch.randint(0, 10, (50, 4), generator=gen)
    logits = [torch.randn(50, 4, 10, generator=gen) for _ in range(3)]
    table = score_models(logits, target)
    assert set(table) == {"exact_match", "token_accuracy", "edit_distance", "brier", "log_prob"}
    for i, model_logits in enumerate(logits):
        for name, value in score_predictions(model_logits, target).items():
            assert table[name][i] == pytest.approx(value)
    short = score_models(logits, target, length=2, metrics=("exact_match",))
    assert list(short) == ["exact_match"]
    assert short["exact_match"][0] == pytest.approx(
        exact_match(logits[0][:, :2].argmax(-1), target[:, :2]))


def test_score_models_rejects_bad_input():
    target = torch.zeros(5, 3, dtype=torch.long)
    logits = torch.zeros(5, 3, 10)
    with pytest.raises(TypeError, match="logits"):
        score_models(logits, target)
    with pytest.raises(ValueError, match="logits"):
        score_models([], target)
    with pytest.raises(ValueError, match="metrics"):
        score_models([logits], target, metrics=("accuracy",))
    with pytest.raises(ValueError, match="length"):
        score_models([logits], target, length=4)
    with pytest.raises(ValueError, match=r"logits\[1\]"):
        score_models([logits, torch.zeros(5, 3)], target)


def test_rate_with_interval():
    hits = np.array([1] * 10 + [0] * 90)
    rate, low, high = rate_with_interval(hits)
    assert rate == 0.1 and low < 0.1 < high
    rate, low, high = rate_with_interval(np.zeros(1000, dtype=int), n=50)
    assert rate == 0.0 and low == 0.0 and 0.05 < high < 0.1     # 0/50 cannot rule out ~7%
    again = rate_with_interval(hits, n=30, seed=3)
    assert again == rate_with_interval(hits, n=30, seed=3)       # seeded
    with pytest.raises(ValueError, match="hits"):
        rate_with_interval([0, 2, 1])
    with pytest.raises(ValueError, match="hits"):
        rate_with_interval([])
    with pytest.raises(ValueError, match="n"):
        rate_with_interval(hits, n=101)


def test_checkers_accept_the_reference_and_spot_mistakes():
    assert ch02.check_exact_match_from_positions(
        ch02.exact_match_from_positions_reference, ).passed
    wrong = ch02.check_exact_match_from_positions(
        lambda position_accuracy: np.mean(position_accuracy, -1) ** np.shape(
            position_accuracy)[-1])
    assert not wrong.passed and "average" in wrong.message
    assert ch02.check_samples_needed(ch02.samples_needed_reference).passed
    assert ch02.samples_needed_reference(0.01, 0.95) == 299
    rule_of_three = ch02.check_samples_needed(lambda rate, confidence: 3 / rate)
    assert not rule_of_three.passed and "rule of three" in rule_of_three.message

    def stub(**kwargs):
        raise NotImplementedError

    pending = ch02.check_samples_needed(stub)
    assert not pending.passed and not pending.attempted


def test_recipe_numbers_and_errors():
    assert mirage.ANSWER_LENGTHS == (1, 2, 3, 4, 5)
    assert mirage.FAST["seeds"] == (0,) and len(mirage.FULL["seeds"]) == 3
    assert mirage.family_targets(0).shape == (5_000, 5)
    with pytest.raises(ValueError, match="split"):
        mirage.family_targets(-1)
    for fn in (mirage.score_family, mirage.exact_match_by_length, mirage.position_accuracies,
               lambda members: mirage.position_scores(members, "brier")):
        with pytest.raises(ValueError, match="members"):
            fn([])
    with pytest.raises(ValueError, match="score"):
        mirage.position_scores([], "accuracy_mean")


def test_metric_range_and_fit_metric():
    assert mirage.metric_range("exact_match") == pytest.approx((1e-5, 1.0))
    assert mirage.metric_range("exact_match", 2) == pytest.approx((0.01, 1.0))
    assert mirage.metric_range("token_accuracy") == pytest.approx((0.1, 1.0))
    # edit distance: the expected Levenshtein distance of a chance answer, below Hamming's 4.5
    chance_edit, perfect_edit = mirage.metric_range("edit_distance")
    assert perfect_edit == 0.0 and 4.3 < chance_edit < 4.5
    assert chance_edit == pytest.approx(chance_edit_distance(5, 10))
    assert mirage.metric_range("edit_distance", 1) == pytest.approx((0.9, 0.0))
    assert mirage.metric_range("brier") == pytest.approx((0.9, 0.0))
    assert mirage.metric_range("log_prob") == pytest.approx((5 * math.log(0.1), 0.0))
    with pytest.raises(ValueError, match="metric"):
        mirage.metric_range("accuracy")
    with pytest.raises(ValueError, match="length"):
        mirage.metric_range("exact_match", 0)
    sizes = np.geomspace(1e3, 1e5, 8)
    from emergence_lib.fit import logistic

    values = logistic(sizes, 0.1, 1.0, 1e4, 2.0)
    fit = mirage.fit_metric(sizes, values, "token_accuracy", n_boot=0)
    assert fit.floor == 0.1 and fit.ceil == 1.0
    assert fit.steepness == pytest.approx(2.0, rel=1e-3)


class _Member:
    """The parts of a FamilyMember that position_scores reads."""

    def __init__(self, logits: torch.Tensor, split: int = 0) -> None:
        self.test_logits, self.split = logits, split
        target = mirage.family_targets(split)
        pred = logits.argmax(-1)
        self.scores = {f"pos{i}_accuracy": float((pred[:, i] == target[:, i]).float().mean())
                       for i in range(5)}


def test_position_scores_on_a_perfect_and_a_uniform_model():
    target = mirage.family_targets(0)
    perfect = torch.nn.functional.one_hot(target, 10).float() * 50.0
    uniform = torch.zeros(target.shape[0], 5, 10)
    members = [_Member(perfect), _Member(uniform)]
    np.testing.assert_allclose(mirage.position_scores(members, "accuracy")[0], 1.0)
    np.testing.assert_allclose(mirage.position_scores(members, "prob"), [[1.0] * 5, [0.1] * 5],
                               atol=1e-5)
    np.testing.assert_allclose(mirage.position_scores(members, "brier"), [[0.0] * 5, [0.9] * 5],
                               atol=1e-5)
    np.testing.assert_allclose(mirage.position_scores(members, "log_prob")[1], math.log(0.1),
                               rtol=1e-4)


def test_sharpening_and_synthetic_families():
    sizes = np.geomspace(1e3, 1e5, 6)
    positions, exact = mirage.rise_together_family([0.1, 0.3, 0.5, 0.7, 0.9, 1.0], seed=2)
    assert positions.shape == (6, 5) and exact.shape == (6,)
    np.testing.assert_allclose(exact, positions.mean(1) ** 5, atol=0.03)    # independent
    again = mirage.rise_together_family([0.1, 0.3, 0.5, 0.7, 0.9, 1.0], seed=2)
    np.testing.assert_array_equal(again[1], exact)                           # seeded
    sharp = mirage.sharpening(sizes, positions, exact, n_boot=5, seed=0)
    assert sharp.k_exact > sharp.k_token and sharp.k_positions.shape == (5,)
    assert sharp.max_gap < 0.03
    draws = sharp.share_draws()
    assert draws.shape[1] == 2 and 0 < len(draws) <= 5
    late_pos, late_exact = mirage.one_late_position_family(sizes, 1e4, 4.0, seed=0)
    np.testing.assert_array_equal(late_pos[:, :4], 1.0)
    np.testing.assert_allclose(late_exact, late_pos[:, 4])
    with pytest.raises(ValueError, match="agree"):
        mirage.sharpening(sizes, positions[:3], exact)
    with pytest.raises(ValueError, match="average_accuracy"):
        mirage.rise_together_family([1.5])
    with pytest.raises(ValueError, match="threshold"):
        mirage.one_late_position_family(sizes, 0.0, 4.0)
