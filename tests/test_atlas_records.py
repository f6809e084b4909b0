"""Chapters 6-9's atlas records (``recipes.*.transition_record``): each builds a valid record
from its chapter's numbers (small made-up runs here), with the answers its verdicts give, and
round-trips through JSON."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from emergence_lib.atlas import TransitionRecord
from emergence_lib.checks.ch06 import phase_transition
from emergence_lib.checks.ch08 import silent_alignment
from emergence_lib.fit import fit_logistic
from emergence_lib.recipes import hops, misalignment, superposition
from emergence_lib.recipes import silent_alignment as sa


def sigmoid(x: np.ndarray, mid: float, k: float) -> np.ndarray:
    return 1 / (1 + np.exp(-k * (np.log(x) - np.log(mid))))


def roundtrips(record: TransitionRecord) -> None:
    assert TransitionRecord.from_json(record.to_json()) == record
    assert set(record.answers) == {"metric_artefact", "hidden_progress", "predictable"}


def test_misalignment_record() -> None:
    steps = np.arange(0, 61, dtype=float)
    rate = np.where(steps > 0, 0.8 * sigmoid(np.maximum(steps, 1), 20, 5), 0.0)
    runs = [SimpleNamespace(other_argmax=rate, other_mass=0.1 + 0.6 * rate),
            SimpleNamespace(other_argmax=rate * 0.9, other_mass=0.1 + 0.5 * rate),
            SimpleNamespace(other_argmax=np.array([0.0, 0.5]), other_mass=np.array([0.1, 0.4]))]
    turn = phase_transition([True, False])
    x = np.repeat([0.25, 0.5, 1.0], 4)
    share_fit = fit_logistic(x, np.clip(x + np.tile([0, .1, -.1, .05], 3), 0, 1), floor=0.0,
                             ceil=1.0, n_boot=10)
    r = misalignment.transition_record(runs, turn, share_fit, "the sweep sentence", n_boot=10)
    roundtrips(r)
    assert r.x[0] == 1 and len(r.x) == 60 and r.floor == 0.0
    assert r.midpoint == pytest.approx(20, rel=0.15)
    assert r.answers["hidden_progress"].answer is False          # 1 of 2 runs turned
    assert r.answers["predictable"].answer == share_fit.beats_linear
    assert r.printed["ch06_turned"] == "1" and r.printed["ch06_sweep_sentence"].startswith("the")
    assert r.smooth_metric is not None and r.progress is None
    with pytest.raises(ValueError, match="tracked every step"):
        misalignment.transition_record(runs[2:], turn, share_fit, "s")


def test_superposition_record() -> None:
    S = np.array([0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99])
    counts = np.array([5, 5, 6, 8, 11, 15, 17, 18], dtype=float)
    loss = np.linspace(1.0, 0.3, len(S))
    r = superposition.transition_record(S, counts, loss, "steps sentence", True, 0.93, 0.8,
                                        n_boot=10)
    roundtrips(r)
    assert r.x == pytest.approx(tuple(1 / (1 - S)))
    assert r.answers["metric_artefact"].answer is False           # D* stepped
    assert r.answers["predictable"].answer is True
    assert r.printed == {"ch07_emergence_sentence": "steps sentence", "ch07_agreement": "93%"}
    assert superposition.transition_record(S, counts, loss, "s", False, 0.5, 0.8, n_boot=10
                                           ).answers["predictable"].answer is False
    with pytest.raises(ValueError, match="sparsities must lie in"):
        superposition.transition_record([0.1, 0.5, 1.0], [1, 2, 3], [1, 2, 3], "s", True, 1, 1)


def test_silent_alignment_record() -> None:
    t = np.concatenate([[0.0], np.geomspace(0.1, 30, 30)])
    loss = 1 - 0.95 * np.concatenate([[0.0], sigmoid(t[1:], 6, 5)])
    align = np.concatenate([[0.1], 0.1 + 0.8 * sigmoid(t[1:], 2, 5)])
    run = sa.DigitsRun(t, loss, align, np.ones_like(t), {}, {})
    v = silent_alignment(0.95, 0.2, -0.95, -0.92, 2.5)
    r = sa.transition_record(run, 0.0, v, n_boot=10)
    roundtrips(r)
    assert r.x[0] == pytest.approx(0.1) and r.lead > 0
    assert r.answers["hidden_progress"].answer is True
    assert r.answers["predictable"].answer is True
    assert r.printed == {"ch08_lead_white": "2.50", "ch08_slope": "-0.95"}
    late = sa.transition_record(run, 0.0, silent_alignment(0.5, 0.2, -0.5, -0.92, -1.0),
                                n_boot=10)
    assert late.answers["hidden_progress"].answer is False
    assert late.answers["predictable"].answer is False


def test_hops_record() -> None:
    rows = []
    for layers in (1, 2, 3):
        for k in (1, 2, 3):
            for seed in (0, 1):
                m = hops.margin(layers, k)
                acc = 0.2 + 0.8 / (1 + np.exp(-6 * (m - 0.5))) + 0.01 * seed
                rows.append({"layers": layers, "heads": 2, "hops": k, "seed": seed,
                             "accuracy": float(min(acc, 1.0)), "margin": m, "chance": 0.2})
    comparison = {"predictors": {"margin": {"threshold": 0.5, "loo_r2": 0.7},
                                 "log2_C": {"threshold": 3.0, "loo_r2": 0.1}},
                  "best": "margin", "verdict": "The margin predicts best."}
    r = hops.transition_record(rows, comparison, "G separates.", "G leads.", True, [10.0, 20.0],
                               n_boot=10)
    roundtrips(r)
    margins = sorted({row["margin"] for row in rows})
    assert r.x == pytest.approx(tuple(np.exp2(margins)))
    assert r.floor == 0.2 and r.ceil == 1.0
    assert np.log2(r.threshold) == pytest.approx(0.5, abs=0.15)
    assert r.answers["predictable"].answer is True and r.answers["hidden_progress"].answer
    assert r.printed["ch09_margin_threshold"] == "0.50"
    worse = hops.transition_record(rows, {**comparison, "best": "log2_C"}, "G does not.", "",
                                   False, [], n_boot=10)
    assert worse.answers["predictable"].answer is False
    assert worse.answers["hidden_progress"].answer is False
    with pytest.raises(ValueError, match="lacks"):
        hops.transition_record([{"layers": 1}], comparison, "", "", False, [])
