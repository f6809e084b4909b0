"""Chapter 0's persona exercises: each checker gets a correct answer, a stub and a wrong answer;
the coverage sweep, the early prediction and the atlas record on known inputs."""

import numpy as np
import pytest

from emergence_lib import atlas
from emergence_lib.checks.ch00 import recovers_threshold, transition_record
from emergence_lib.exercises.ch00 import (
    EarlyPrediction,
    check_coverage,
    check_coverage_verdict,
    check_factor_prediction,
    check_transition_width,
    coverage_reference,
    coverage_sweep,
    early_prediction,
    transition_width_reference,
    undercovers,
)
from emergence_lib.fit import fit_logistic, logistic


def test_factor_prediction_checker():
    assert check_factor_prediction(3).passed
    assert check_factor_prediction(3.2).passed
    stub = check_factor_prediction(...)
    assert not stub.attempted and "not attempted" in stub.message
    wrong = check_factor_prediction(81)
    assert not wrong.passed and wrong.attempted and "too high" in wrong.message
    assert "square root" in wrong.message
    assert not check_factor_prediction("three").passed


def test_transition_width_checker():
    assert check_transition_width(transition_width_reference).passed
    wrong = check_transition_width(lambda steepness, low=0.1, high=0.9: 10 ** (
        (np.log(high / (1 - high)) - np.log(low / (1 - low))) / steepness))
    assert not wrong.passed and "exp, not 10**" in wrong.message

    def stub(steepness, low=0.1, high=0.9):
        raise NotImplementedError

    assert not check_transition_width(stub).attempted


def test_coverage_checker_and_verdict():
    assert check_coverage(coverage_reference).passed
    wrong = check_coverage(lambda intervals, truth: float(np.sum(
        (np.asarray(intervals)[:, 0] <= truth) & (truth <= np.asarray(intervals)[:, 1]))))
    assert not wrong.passed and "share" in wrong.message
    # 6 of 12 cover: Wilson upper bound ~0.75 < 0.95, so under-coverage is shown
    low = np.array([[0.0, 2.0]] * 6 + [[3.0, 4.0]] * 6)
    assert undercovers(6, 12) and not undercovers(12, 12)
    assert check_coverage_verdict(True, low, 1.0).passed
    bad = check_coverage_verdict(False, low, 1.0)
    assert not bad.passed and bad.attempted and "6 of 12" in bad.message
    assert not check_coverage_verdict(..., low, 1.0).attempted
    full = np.array([[0.0, 2.0]] * 12)
    assert check_coverage_verdict(False, full, 1.0).passed


def test_coverage_sweep_is_seeded_and_shaped():
    a = coverage_sweep(1e4, 3.0, 0.03, n_points=(5,), repeats=3, n_boot=5, seed=0)
    b = coverage_sweep(1e4, 3.0, 0.03, n_points=(5,), repeats=3, n_boot=5, seed=0)
    assert a[5].shape == (3, 2) and np.array_equal(a[5], b[5])
    with pytest.raises(ValueError, match="repeats"):
        coverage_sweep(1e4, 3.0, 0.03, repeats=0)


def test_early_prediction_both_branches():
    x = np.geomspace(1e3, 1e5, 9)
    clean = logistic(x, 0.0, 1.0, 1e4, 3.0)
    met = early_prediction(x, clean, 1e4, n_boot=5)
    assert met.met and met.sentence().startswith("Target met")
    assert len(met.thresholds) == 7 and met.cutoffs[-1] == pytest.approx(1e5)
    missed = EarlyPrediction((3e3, 1e5), (1e3, 1e4), ((1, 2), (3, 4)), 1e4, 1.5)
    assert not missed.met and missed.sentence().startswith("Target not met")
    with pytest.raises(ValueError, match="x increasing"):
        early_prediction(x[::-1], clean, 1e4)


def test_transition_record_round_trips():
    x = np.geomspace(1e3, 1e5, 9)
    y = np.clip(logistic(x, 0.0, 1.0, 1e4, 3.0) + np.random.default_rng(0).normal(0, .03, 9), 0, 1)
    fit = fit_logistic(x, y, floor=0.0, ceil=1.0, n_boot=20, seed=0)
    lo, hi = fit.intervals["threshold"]
    result = recovers_threshold(true_threshold=1e4, fitted=fit.threshold, lo=lo, hi=hi,
                                r2=fit.r2, line_r2=fit.linear.r2)
    record = transition_record(x, y, fit, result, early_prediction(x, y, 1e4, n_boot=5))
    assert record.threshold == fit.threshold and record.r2 == fit.r2
    assert record.chapter == "00_what_is_emergence" and (record.floor, record.ceil) == (0, 1)
    assert record.answers["metric_artefact"].answer is None
    assert record.printed["ch00_threshold"] == format(fit.threshold, ",.0f")
    assert atlas.TransitionRecord.from_json(record.to_json()) == record
    assert transition_record(x, y, fit, result).answers["predictable"].answer is None
