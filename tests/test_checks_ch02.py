"""Chapter 2's criteria: the sharpening decomposition, its verdict on a family where the metric
explains everything and on a weakest-link family, and a counter-example for every condition."""

import math

import numpy as np
import pytest

from emergence_lib.checks import CheckFailed, ch02
from emergence_lib.fit import logistic
from emergence_lib.recipes import mirage

SIZES = np.geomspace(1e3, 1e5, 7)


def _verdict(sharpening: mirage.Sharpening, **kwargs) -> object:
    return ch02.sharpening_verdict("a test family", **sharpening.as_kwargs(), **kwargs)


# per-token accuracy of chapter 1's FAST family (widths 8-256), rising late
FAMILY_SIZES = np.array([1170, 2418, 5298, 12594, 33330, 99378], dtype=float)
FAMILY_AVERAGE = np.array([0.435, 0.481, 0.478, 0.685, 0.808, 0.994])


def _rise_together() -> mirage.Sharpening:
    """Every position has the family's average accuracy: the metric is the whole story."""
    positions, exact = mirage.rise_together_family(FAMILY_AVERAGE, seed=1)
    return mirage.sharpening(FAMILY_SIZES, positions, exact)


def test_a_smooth_logistic_raised_to_the_power_five_sharpens_little():
    # positions rising together along one logistic in log-size: p**5 is only ~1.5x as steep,
    # so the power L alone does not make a jump of a smooth per-token curve
    positions, exact = mirage.rise_together_family(logistic(SIZES, 0.1, 1.0, 1e4, 3.0), seed=1)
    result = _verdict(mirage.sharpening(SIZES, positions, exact), expected="metric",
                      sharp_positions=False)
    assert 1.2 < result.numbers["ratio"] < 2.0
    assert [f.split(":")[0] for f in result.failures] == ["sharpening"]


def _weakest_link() -> mirage.Sharpening:
    """Four positions are right from the start; the fifth switches on sharply (k = 6) at 1e4."""
    positions, exact = mirage.one_late_position_family(SIZES, 1e4, 6.0, seed=1)
    return mirage.sharpening(SIZES, positions, exact)


def test_shares_add_up():
    shares = ch02.sharpening_shares(k_token=1.0, k_power=4.0, k_product=8.0, k_exact=8.0)
    assert shares.metric + shares.weakest_link + shares.dependence == pytest.approx(1.0)
    assert (shares.metric, shares.weakest_link) == pytest.approx((2 / 3, 1 / 3))
    assert shares.dependence == pytest.approx(0.0)
    assert ch02.cause(shares) == "metric"
    even = ch02.sharpening_shares(1.0, 2.0, 4.0, 4.0)
    assert even.metric == pytest.approx(0.5) and ch02.cause(even) == "both"
    assert ch02.cause(ch02.sharpening_shares(1.0, 1.5, 8.0, 8.0)) == "weakest link"
    assert ch02.cause(ch02.sharpening_shares(1.0, 1.1, 1.2, 8.0)) == "neither"
    with pytest.raises(ValueError, match="k_exact must be > k_token"):
        ch02.sharpening_shares(1.0, 1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="k_power"):
        ch02.sharpening_shares(1.0, -1.0, 1.0, 2.0)
    with pytest.raises(TypeError, match="k_token"):
        ch02.sharpening_shares("1", 1.0, 1.0, 2.0)


def test_a_family_whose_positions_rise_together_is_the_metric():
    sharpening = _rise_together()
    result = _verdict(sharpening, expected="metric", sharp_positions=False)
    assert result.passed, result.failures
    assert result.numbers["metric_share"] > 0.9 and abs(result.numbers["link_share"]) < 0.1
    assert "mostly the metric's doing" in result.sentence
    assert "no position jumps on its own" in result.sentence
    result.require()
    # the same numbers do not pass for the other claims
    with pytest.raises(CheckFailed, match="cause"):
        _verdict(sharpening, expected="weakest link", sharp_positions=False).require()
    with pytest.raises(CheckFailed, match="positions"):
        _verdict(sharpening, expected="metric", sharp_positions=True).require()


def test_a_family_with_one_late_sharp_position_is_the_weakest_link():
    sharpening = _weakest_link()
    result = _verdict(sharpening, expected="weakest link", sharp_positions=True)
    assert result.passed, result.failures
    assert result.numbers["link_share"] > 0.6
    assert "mostly the weakest link's doing" in result.sentence
    assert not _verdict(sharpening, expected="metric", sharp_positions=True).passed


def test_no_sharpening_fails_and_says_so():
    flat = mirage.Sharpening(k_token=1.0, k_power=1.1, k_product=1.1, k_exact=0.9,
                             k_positions=np.array([1.0, 1.1]), max_gap=0.0)
    result = _verdict(flat, expected="metric", sharp_positions=False)
    assert not result.passed and "no sharpening to explain" in result.sentence
    assert any(f.startswith("sharpening") for f in result.failures)
    mild = mirage.Sharpening(1.0, 1.5, 1.5, 1.5, np.array([1.0]), 0.0)   # 1.5x < 2x
    result = _verdict(mild, expected="metric", sharp_positions=False)
    assert [f.split(":")[0] for f in result.failures] == ["sharpening"]


def test_dependent_positions_fail_the_independence_condition():
    base = dict(k_token=1.0, k_power=3.0, k_product=4.0, k_exact=4.2,
                k_positions=np.array([3.0]))
    ok = _verdict(mirage.Sharpening(**base, max_gap=0.005), expected="metric",
                  sharp_positions=True)
    assert ok.passed, ok.failures
    gap = _verdict(mirage.Sharpening(**base, max_gap=0.05), expected="metric",
                   sharp_positions=True)
    assert [f.split(":")[0] for f in gap.failures] == ["independence"]
    correlated = dict(base, k_exact=12.0)            # exact far steeper than the product
    result = _verdict(mirage.Sharpening(**correlated, max_gap=0.0), expected="metric",
                      sharp_positions=True)
    assert "independence" in [f.split(":")[0] for f in result.failures]


def test_positions_that_never_move_are_not_sharp():
    # NaN marks a position whose accuracy never moves (mirage.FLAT): it cannot be the sharp one
    still = mirage.Sharpening(1.0, 3.0, 4.0, 4.0, np.array([np.nan, np.nan]), 0.0)
    result = _verdict(still, expected="metric", sharp_positions=False)
    assert result.passed, result.failures
    assert not _verdict(still, expected="metric", sharp_positions=True).passed
    late = _weakest_link()
    assert np.isnan(late.k_positions[:4]).all() and late.k_positions[4] > 4


def test_verdict_rejects_bad_input():
    good = _rise_together()
    with pytest.raises(ValueError, match="expected"):
        _verdict(good, expected="model", sharp_positions=False)
    with pytest.raises(TypeError, match="sharp_positions"):
        _verdict(good, expected="metric", sharp_positions=1)
    for bad in ([], [1.0, np.inf]):
        with pytest.raises(ValueError, match="k_positions"):
            ch02.sharpening_verdict("x", **{**good.as_kwargs(), "k_positions": bad},
                                    expected="metric", sharp_positions=False)
    with pytest.raises(ValueError, match="max_gap"):
        ch02.sharpening_verdict("x", **{**good.as_kwargs(), "max_gap": math.nan},
                                expected="metric", sharp_positions=False)


def test_smooth_metrics_verdict():
    smooth = {"token accuracy": (0.7, 0.94), "edit distance": (0.7, 0.5)}  # 2nd: k small
    result = ch02.smooth_metrics_verdict(5.0, smooth)
    assert result.passed and "Every smooth metric is smooth" in result.sentence
    steep = {"token accuracy": (0.7, 0.94), "edit distance": (4.0, 0.6)}
    result = ch02.smooth_metrics_verdict(5.0, steep)
    assert not result.passed and "edit distance is neither" in result.sentence
    assert [f.split(":")[0] for f in result.failures] == ["edit distance"]
    with pytest.raises(CheckFailed, match="edit distance"):
        result.require()
    with pytest.raises(ValueError, match="smooth"):
        ch02.smooth_metrics_verdict(5.0, {})
    with pytest.raises(ValueError, match="k_exact"):
        ch02.smooth_metrics_verdict(0.0, smooth)
