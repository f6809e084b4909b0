"""Chapter 4's persona exercises: each checker accepts the reference, calls a stub "not
attempted" and gives a wrong answer its plain-words message; the recipe's sweep and atlas record."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from emergence_lib.atlas import TransitionRecord
from emergence_lib.checks import verdict
from emergence_lib.detect import detect_transition
from emergence_lib.exercises.ch04 import (
    check_control_prediction,
    check_distance_verdict,
    distance_independent,
    distance_slope,
    forecast_error,
)
from emergence_lib.fit import fit_logistic
from emergence_lib.recipes import induction as recipe
from emergence_lib.train import History


def test_control_prediction_checker():
    assert check_control_prediction(math.log(32), 3.6).passed
    stub = check_control_prediction(..., 3.6)
    assert not stub.attempted and "not attempted" in stub.message
    wrong = check_control_prediction(math.log(64), 3.6)
    assert wrong.attempted and not wrong.passed and "distinct tokens" in wrong.message


def test_distance_slope_and_verdict():
    blocks = [4, 8, 16, 32]
    rng = np.random.default_rng(0)
    flat = 1.0 + 0.01 * rng.standard_normal((4, 200))
    slope, lo, hi = distance_slope(blocks, flat, n_boot=100)
    assert abs(slope) < 0.01 and lo <= slope <= hi and distance_independent((lo, hi), 0.1)
    rising = flat + 0.5 * np.log2(blocks)[:, None]            # +0.5 nats per doubling
    slope, lo, hi = distance_slope(blocks, rising, n_boot=100)
    assert slope == pytest.approx(0.5, abs=0.01) and not distance_independent((lo, hi), 0.1)
    assert not distance_independent((-0.2, 0.05), 0.1)        # contains 0 but leaves the band
    with pytest.raises(ValueError, match="losses must have shape"):
        distance_slope(blocks, flat[:3], n_boot=10)


def test_distance_verdict_checker_on_a_model():
    model = recipe.induction_model(recipe.FAST, 0)            # untrained: the loss is ~ln V
    losses = recipe.copy_loss_by_distance(model.eval(), recipe.FAST, blocks=(4, 8), seeds=(0,))
    assert losses.shape == (2, recipe.FAST.n_eval)
    assert torch.allclose(losses.mean(1), torch.full((2,), recipe.FAST.uniform_loss), atol=0.05)
    with pytest.raises(ValueError, match="blocks must be lengths"):
        recipe.copy_loss_by_distance(model, recipe.FAST, blocks=(40,))
    stub = check_distance_verdict(..., model, recipe.FAST)
    assert not stub.attempted and "not attempted" in stub.message
    not_a_verdict = check_distance_verdict("yes", model, recipe.FAST)
    assert not not_a_verdict.passed and "is not a verdict" in not_a_verdict.message
    right, wrong = (check_distance_verdict(v, model, recipe.FAST) for v in (True, False))
    assert right.passed != wrong.passed                       # exactly one is the reference
    assert "interval" in (wrong.message if right.passed else right.message)


def test_forecast_error():
    assert forecast_error(110.0, 100.0) == pytest.approx(0.1)
    assert forecast_error(float("nan"), 100.0) == float("inf")


def _fake_run() -> tuple[History, object, object]:
    history = History()
    steps = np.arange(0, 901, 25)
    loss = recipe.FAST.uniform_loss - 3.5 / (1 + np.exp(-(steps - 500) / 30))
    match = 1 / (1 + np.exp(-(steps - 350) / 60))
    for s, y, m in zip(steps, loss, match, strict=True):
        history.log(int(s), {"copy_loss": float(y), "kmatch_L0H1_L1H0": float(m)})
    fit = fit_logistic(steps[1:], loss[1:], floor=recipe.FAST.uniform_loss, n_boot=20)
    return history, detect_transition(steps, loss, start=recipe.FAST.uniform_loss), fit


def test_transition_record_round_trips_and_answers_follow_the_verdict():
    history, drop, fit = _fake_run()
    numbers = {"logistic_r2": fit.r2, "linear_r2": fit.linear.r2}
    passed = verdict({"plateau": (True, "")}, "fine", numbers)
    record = recipe.transition_record(history, recipe.FAST, pair="L0H1_L1H0", drop=drop,
                                      match_lead=150.0, fit=fit, verdict=passed,
                                      printed={"ch04_drop_mid": f"{drop.midpoint:,.0f}"})
    assert record.x[0] == 25 and record.midpoint == pytest.approx(drop.midpoint)
    assert record.steepness == fit.steepness and record.lead == 150.0
    assert record.answers["hidden_progress"].answer is True
    assert record.answers["metric_artefact"].answer is False
    assert TransitionRecord.from_json(json.loads(json.dumps(record.to_json()))) == record
    failed = verdict({"composition leads": (False, "no lead")}, "not shown", numbers)
    record = recipe.transition_record(history, recipe.FAST, pair="L0H1_L1H0", drop=None,
                                      match_lead=float("nan"), fit=fit, verdict=failed,
                                      printed={})
    assert record.answers["hidden_progress"].answer is False
    assert record.answers["predictable"].answer is False
