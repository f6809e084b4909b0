"""Chapter 3's persona exercises: each checker gets a correct answer, a stub and a wrong answer;
the reference functions (speed-up, delay fit, the frontier estimator, the atlas record) on
runs whose answers are known."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from emergence_lib import atlas
from emergence_lib.exercises.ch03 import (
    DelayFit,
    check_delay_exponent,
    check_delay_verdict,
    check_speedup_prediction,
    check_top_frequencies,
    delay_exponent_reference,
    delay_fit,
    speedup_reference,
    top_frequencies_reference,
)
from emergence_lib.recipes import grokking as recipe
from emergence_lib.tasks.modular import modular_addition
from emergence_lib.train import History, TrainResult


def fake_run(memorized: float, grokked: float | None, wd: float = 0.5, frac: float = 0.6,
             steps: int = 800, every: int = 25, decay: float = 2e-3) -> recipe.GrokkingRun:
    """A run whose train accuracy jumps to 1 at ``memorized`` and test accuracy at ``grokked``
    (None: never), with a weight norm falling at ``decay`` per step after memorization."""
    history = History()
    for t in range(0, steps + 1, every):
        train = 1.0 if t >= memorized else 0.2
        test = 1.0 if grokked is not None and t >= grokked else 0.02
        norm = 200.0 * np.exp(-decay * max(t - memorized, 0))
        history.log(t, {"loss": 1.0, "train_loss": 1.0 - train + 1e-3, "train_acc": train,
                        "test_loss": 4.0 - 3 * test, "test_acc": test, "weight_norm": norm})
    setup = replace(recipe.FAST, weight_decay=wd, train_frac=frac)
    return recipe.GrokkingRun(setup, modular_addition(7, frac, 0), TrainResult(None, history))


# ---- CS student ---------------------------------------------------------------------------
def test_top_frequencies_checker():
    assert check_top_frequencies(top_frequencies_reference).passed
    wrong = check_top_frequencies(lambda spectrum, n: np.argsort(-spectrum)[:n])
    assert not wrong.passed and wrong.attempted and "1-based" in wrong.message

    def stub(spectrum, n):
        raise NotImplementedError

    assert not check_top_frequencies(stub).attempted


def test_speedup_prediction_checker():
    grid = {(0.5, 0.6): fake_run(75, 600), (2.0, 0.6): fake_run(100, 200, wd=2.0)}
    reference = speedup_reference(grid)
    assert 2.5 < reference < 3.5
    assert check_speedup_prediction(reference * 1.1, grid).passed
    stub = check_speedup_prediction(..., grid)
    assert not stub.passed and not stub.attempted and "not attempted" in stub.message
    naive = check_speedup_prediction(4 * reference, grid)
    assert not naive.passed and naive.attempted and "too high" in naive.message
    assert "1 / weight decay" in naive.message
    assert not check_speedup_prediction("fast", grid).passed
    never = {(0.5, 0.6): fake_run(75, None), (2.0, 0.6): fake_run(100, 200, wd=2.0)}
    assert np.isnan(speedup_reference(never))


# ---- applied researcher ---------------------------------------------------------------------
def test_delay_exponent_checker():
    assert check_delay_exponent(delay_exponent_reference).passed
    wrong = check_delay_exponent(lambda weight_decays, grok_steps: float(
        np.polyfit(weight_decays, grok_steps, 1)[0]))
    assert not wrong.passed and "log-log" in wrong.message


def test_delay_fit_finds_the_exponent_and_its_verdict():
    wd = np.array([0.5, 1.0, 2.0] * 2)
    exact = delay_fit(wd, 300.0 / wd * np.array([1, 1, 1, 1.05, 1.05, 1.05]), n_boot=50)
    assert exact.exponent == pytest.approx(-1.0, abs=1e-9) and exact.consistent
    assert "inside" in exact.sentence()
    half = delay_fit(wd, 300.0 / np.sqrt(wd) * np.array([1, 1.02, 1, 0.98, 1, 1.01]), n_boot=50)
    assert half.exponent == pytest.approx(-0.5, abs=0.02) and not half.consistent
    assert "reject" in half.sentence()
    with pytest.raises(ValueError, match="at least 2 distinct weight decays"):
        delay_fit([1.0, 1.0], [3.0, 4.0])
    with pytest.raises(ValueError, match="positive"):
        delay_fit([1.0, 2.0], [3.0, -4.0])


def test_delay_verdict_checker():
    fit = DelayFit(-1.09, (-1.12, -1.07), 6, 200)      # -1 outside: the hypothesis is rejected
    assert check_delay_verdict(False, fit).passed
    wrong = check_delay_verdict(True, fit)
    assert not wrong.passed and wrong.attempted and "-1.09" in wrong.message
    assert not check_delay_verdict(..., fit).attempted
    assert "not a verdict" in check_delay_verdict("yes", fit).message


# ---- frontier researcher --------------------------------------------------------------------
def test_weight_norm_estimator_on_a_pure_decay():
    # norm 200 exp(-0.002 (t - 100)) reaches 100 at t = 100 + ln 2 / 0.002 = 447
    run = fake_run(100, 450, decay=2e-3)
    guess = recipe.predict_grok_step(run, critical_norm=100.0, window=100)
    assert guess == pytest.approx(100 + np.log(2) / 2e-3, rel=5e-3)
    assert recipe.predict_grok_step(fake_run(900, None), 100.0) is None      # never memorized
    with pytest.raises(ValueError, match="critical_norm"):
        recipe.predict_grok_step(run, critical_norm=0.0)
    main = fake_run(100, 450)
    assert recipe.critical_norm(main) == pytest.approx(200 * np.exp(-2e-3 * 350), rel=0.05)
    good = recipe.prediction_outcome(main, {(0.5, 0.6): fake_run(100, 450)})
    assert good.met and good.sentence().startswith("Target met")
    bad = recipe.prediction_outcome(main, {(0.5, 0.6): fake_run(100, 450, decay=6e-3)})
    assert not bad.met and bad.sentence().startswith("Target not met")


# ---- the atlas record -----------------------------------------------------------------------
def test_transition_record_round_trips():
    short = recipe.train_grokking(recipe.FAST, 0, steps=120, log_every=20, progress=False)
    # a made-up jump on the real run's steps, so the record has a transition to measure
    steps = short.steps.astype(float)
    hist = short.result.history
    test = np.where(steps >= 80, 1.0, 1 / 59)
    fake = History()
    for i, t in enumerate(short.steps):
        fake.log(int(t), {name: float(hist[name][i]) for name in hist.names} | {
            "test_acc": float(test[i]), "train_acc": 1.0 if t >= 20 else 0.1})
    run = replace(short, result=replace(short.result, history=fake))
    measures = recipe.fourier_measures(run, freqs=[1, 2], draws=2, progress=False)
    report = recipe.grokking_report(run, measures)
    fit = recipe.transition_fit(run, n_boot=5)
    record = recipe.transition_record(run, report, fit, measures, None)
    assert record.chapter == "03_grokking" and record.floor == pytest.approx(1 / 59)
    assert set(record.answers) == set(atlas.QUESTIONS)
    assert record.answers["predictable"].answer is None
    assert record.printed["ch03_threshold"] == format(fit.threshold, ",.0f")
    back = atlas.TransitionRecord.from_json(record.to_json())
    assert back == record
    json.loads(record.to_json())
    assert torch.is_tensor(run.data.x_train)
