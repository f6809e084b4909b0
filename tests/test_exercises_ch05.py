"""Chapter 5's persona exercises: each checker accepts the reference, calls a stub "not
attempted" and gives a wrong answer its plain-words message; the learning-rate sweep's slope,
the exported model's front door and the atlas record."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from emergence_lib.atlas import TransitionRecord
from emergence_lib.checks import verdict
from emergence_lib.exercises.ch05 import (
    check_growth_prediction,
    check_lr_verdict,
    inverse_lr_supported,
    within_target,
)
from emergence_lib.export import check_roundtrip, export_model, load_exported, save_exported
from emergence_lib.recipes import parity as recipe
from emergence_lib.recipes.parity import SignedBits, slope_interval, train_parity_seeds


def test_growth_prediction_checker():
    assert check_growth_prediction(2.6, 400.0, 1_000.0).passed          # run: 2.5x
    stub = check_growth_prediction(..., 400.0, 1_000.0)
    assert not stub.attempted and "not attempted" in stub.message
    wrong = check_growth_prediction(8.6, 400.0, 1_000.0)               # the candidates' growth
    assert wrong.attempted and not wrong.passed and "one at a time" in wrong.message


def test_slope_interval_and_inverse_lr_verdict():
    lrs = [0.05, 0.1, 0.2, 0.4]
    rng = np.random.default_rng(0)
    inverse = [10.0 / lr * rng.uniform(0.9, 1.1, 8) for lr in lrs]
    slope, lo, hi = slope_interval(lrs, inverse, n_boot=200)
    assert slope == pytest.approx(-1.0, abs=0.1) and inverse_lr_supported((lo, hi))
    weaker = [50 + 10.0 / lr * rng.uniform(0.9, 1.1, 8) for lr in lrs]
    _, lo, hi = slope_interval(lrs, weaker, n_boot=200)
    assert hi < 0 and not inverse_lr_supported((lo, hi))
    assert not inverse_lr_supported((-1.5, 0.2))                       # contains 0 too
    with pytest.raises(ValueError, match="finite median"):
        slope_interval(lrs, [np.full(4, np.inf)] * 4)
    with pytest.raises(ValueError, match="one array of seeds per x"):
        slope_interval(lrs, inverse[:3])


def test_lr_verdict_checker_runs_the_reference_sweep(tmp_path):
    stub = check_lr_verdict(..., cache_dir=str(tmp_path))
    assert not stub.attempted and "not attempted" in stub.message
    right, wrong = (check_lr_verdict(v, cache_dir=str(tmp_path)) for v in (True, False))
    assert right.passed != wrong.passed
    assert "slope interval" in (wrong.message if right.passed else right.message)
    assert len(list((tmp_path / "parity").iterdir())) == len(recipe.LR_SWEEP["lrs"])


def test_within_target():
    assert within_target(110.0, 100.0, 0.25) and not within_target(130.0, 100.0, 0.25)
    assert not within_target(float("nan"), 100.0, 0.25)


def test_signed_bits_exports_and_reloads_identically(tmp_path):
    run = train_parity_seeds(8, 2, seeds=(0, 1), width=16, steps=5, lr=0.1, log_every=5,
                             progress=False)
    door = SignedBits(run.result.model).eval()
    bits = torch.randint(2, (6, 8), generator=torch.Generator().manual_seed(0))
    want = run.result.model((2 * bits - 1).float().expand(2, -1, -1)).squeeze(-1)
    assert torch.equal(door(bits), want)
    path = save_exported(export_model(door, bits[:3]), tmp_path / "m.pt2")
    assert check_roundtrip(door, load_exported(path), bits) == 0.0


def test_transition_record_round_trips():
    run = train_parity_seeds(12, 2, seeds=(0, 1), width=64, steps=400, lr=0.2, log_every=10,
                             measure_progress=True, progress=False)
    fits = recipe.accuracy_logistics(run.steps, run.accuracy)
    hidden = verdict({"solved": (True, "")}, "fine")
    frontier = verdict({"agrees": (False, "apart")}, "the prediction missed")
    record = recipe.transition_record(run, member=0, logistic=fits[0], loss_leads=False,
                                      hidden=hidden, frontier=frontier,
                                      printed={"ch05_atlas_mid": "120"}, smooth=3)
    assert record.x[0] > 0 and record.floor == 0.5 and record.ceil == 1.0
    assert record.steepness == fits[0].steepness and record.midpoint is not None
    assert record.answers["hidden_progress"].answer is True
    assert record.answers["predictable"].answer is False
    assert record.answers["metric_artefact"].answer is False
    assert TransitionRecord.from_json(record.to_json()) == record
    failed = verdict({"progress leads": (False, "late")}, "not shown")
    record = recipe.transition_record(run, member=1, logistic=fits[1], loss_leads=True,
                                      hidden=failed, frontier=frontier, printed={}, smooth=3)
    assert record.answers["hidden_progress"].answer is False
    assert record.answers["metric_artefact"].answer is None
    led = recipe.transition_record(run, member=0, logistic=fits[0], loss_leads=False,
                                   hidden=hidden, frontier=frontier, printed={},
                                   pull_away_lead=120.0, smooth=3)
    assert led.lead == 120.0 and "pull-away" in led.notes
