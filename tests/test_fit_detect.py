import numpy as np
import pytest

from emergence_lib.detect import detect_transition, first_crossing, lead
from emergence_lib.fit import (
    fit_linear,
    fit_logistic,
    logistic,
    steepness_ratio,
)


def test_fit_recovers_known_logistic():
    x = np.geomspace(1e3, 1e6, 15)
    rng = np.random.default_rng(0)
    y = logistic(x, 0.02, 0.95, 3e4, 3.0) + rng.normal(0, 0.01, len(x))
    fit = fit_logistic(x, y, n_boot=50)
    assert fit.threshold == pytest.approx(3e4, rel=0.1)
    assert fit.steepness == pytest.approx(3.0, rel=0.25)
    assert fit.r2 > 0.99 and fit.beats_linear
    lo, hi = fit.intervals["threshold"]
    assert lo < fit.threshold < hi and lo < 3e4 * 1.05 and hi > 3e4 * 0.95
    assert "steepness" in fit.summary()


def test_fixed_floor_and_ceiling():
    x = np.array([1, 2, 4, 8, 16, 32.0])
    y = logistic(x, 0, 1, 6.0, 4.0)
    fit = fit_logistic(x, y, floor=0.0, ceil=1.0, n_boot=0)
    assert (fit.floor, fit.ceil) == (0.0, 1.0)
    assert fit.threshold == pytest.approx(6.0, rel=1e-3)


def test_summary_shows_fixed_parameters_as_fixed():
    x = np.geomspace(1e3, 1e5, 9)
    y = logistic(x, 0, 1, 1e4, 3.0) + np.random.default_rng(1).normal(0, 0.02, 9)
    fit = fit_logistic(x, y, floor=0.0, ceil=1.0, n_boot=30)
    assert fit.fixed == ("floor", "ceil")
    text = fit.summary()
    assert "[0, 0]" not in text and "[1, 1]" not in text
    assert text.count("fixed, not fitted") == 2 and "threshold" in text
    free = fit_logistic(x, y, n_boot=0)
    assert free.fixed == () and "fixed" not in free.summary()


def test_bootstrap_draws_pair_up_for_the_steepness_ratio():
    x = np.repeat(np.geomspace(1e3, 1e5, 6), 3)
    rng = np.random.default_rng(2)
    sharp = logistic(x, 0, 1, 1e4, 6.0) + rng.normal(0, 0.02, len(x))
    gentle = logistic(x, 0, 1, 1e4, 1.0) + rng.normal(0, 0.02, len(x))
    a = fit_logistic(x, sharp, floor=0.0, ceil=1.0, n_boot=60, seed=3)
    b = fit_logistic(x, gentle, floor=0.0, ceil=1.0, n_boot=60, seed=3)
    assert a.draws.shape == (60, 4) and b.draws.shape == (60, 4)
    r = steepness_ratio(a, b)
    assert r.ratio == pytest.approx(a.steepness / b.steepness)
    lo, hi = r.interval
    assert 1.0 < lo <= hi and r.share_steeper == 1.0 and r.n_draws == 60
    assert "paired bootstrap" in r.summary()
    flipped = steepness_ratio(b, a)
    assert flipped.interval[1] < 1.0 and flipped.share_steeper == 0.0


def test_steepness_ratio_bad_input():
    x = np.geomspace(1e3, 1e5, 9)
    y = logistic(x, 0, 1, 1e4, 3.0)
    no_draws = fit_logistic(x, y, floor=0.0, ceil=1.0, n_boot=0)
    some = fit_logistic(x, y, floor=0.0, ceil=1.0, n_boot=20)
    other = fit_logistic(x, y, floor=0.0, ceil=1.0, n_boot=30)
    with pytest.raises(ValueError, match="a has no bootstrap draws"):
        steepness_ratio(no_draws, some)
    with pytest.raises(ValueError, match="same n_boot"):
        steepness_ratio(some, other)
    with pytest.raises(TypeError, match="b must be a LogisticFit"):
        steepness_ratio(some, 3.0)


def test_linear_data_is_not_called_sigmoidal():
    x = np.geomspace(1, 1000, 12)
    y = 0.1 * np.log(x)
    assert fit_linear(x, y).r2 == pytest.approx(1.0)
    fit = fit_logistic(x, y, n_boot=0)
    assert not fit.r2 > fit.linear.r2 + 1e-6


@pytest.mark.parametrize("x, y, match", [
    ([1, 2, 3, 4], [0, 0, 1, 1], "needs more than 4 points"),
    ([0, 1, 2, 3, 4, 5], [0, 0, 0, 1, 1, 1], "x must be > 0 .*log scale.*index 0"),
    ([1, 2, 3, 4, 5, 6], [0, 0, np.nan, 1, 1, 1], "y must be finite.*index 2"),
    ([1, 2, 3], [0, 1], "needs more than|same length"),
    ([1, 1, 1, 2, 2, 2], [0, 0, 0, 1, 1, 1], "at least 3 distinct"),
])
def test_fit_bad_input(x, y, match):
    with pytest.raises(ValueError, match=match):
        fit_logistic(x, y, n_boot=0)


def test_first_crossing_and_transition():
    steps = np.arange(0, 1000, 10.0)
    acc = np.where(steps < 500, 0.0, np.minimum(1.0, (steps - 500) / 100))
    assert first_crossing(steps, acc, 0.5) == pytest.approx(550)
    assert first_crossing(steps, acc, 2.0) is None
    t = detect_transition(steps, acc)
    assert t.direction == "up" and t.onset == pytest.approx(510) and t.finish == pytest.approx(590)
    assert t.relative_width == pytest.approx(80 / 550)
    loss = 1 - acc
    assert detect_transition(steps, loss).direction == "down"
    assert detect_transition(steps, np.ones_like(steps)) is None


def test_lead_of_a_progress_measure():
    steps = np.arange(0, 1000, 10.0)
    metric = (steps >= 600).astype(float)
    progress = np.clip((steps - 200) / 300, 0, 1)
    assert lead(steps, progress, metric) == pytest.approx(600 - 230, abs=10)


def test_detect_bad_input():
    with pytest.raises(ValueError, match="strictly increasing"):
        detect_transition([0, 2, 1, 3], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="direction must be one of"):
        first_crossing([0, 1], [0, 1], 0.5, direction="sideways")


def test_leave_one_out_r2_predicts_a_clean_logistic_and_fails_plainly():
    from emergence_lib.fit import leave_one_out_r2, logistic
    x = np.exp2(np.linspace(-3, 3, 13))
    y = logistic(x, 0.1, 1.0, 1.0, 3.0)
    assert leave_one_out_r2(x, y) > 0.95
    # groups leave whole configurations out (here pairs of equal x)
    xx, yy = np.repeat(x, 2), np.repeat(y, 2)
    assert leave_one_out_r2(xx, yy, groups=np.repeat(np.arange(13), 2)) > 0.95
    # too few distinct x values once a group is left out: NaN, not an exception
    assert np.isnan(leave_one_out_r2(np.exp2([1, 2, 3]), [0.1, 0.5, 0.9], groups=[0, 1, 2]))
    with pytest.raises(ValueError, match="groups must give one group per point"):
        leave_one_out_r2(x, y, groups=[0, 1])
