"""Chapter 9's criterion fails on runs that do not show its claim: one counter-example per
condition, and the printed G sentence must be the one the numbers give."""

import math

import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch09 import g_separation, lab_verdict

G_SOLVED, G_UNSOLVED, SPREAD = 3.1, 1.1, 0.4
GOOD = {"accuracies": [0.12, 0.15, 0.55, 0.97, 1.0], "chance": 0.125, "threshold": 1.3,
        "loo_r2": {"log C": 0.31, "margin": 0.88}, "g_solved": G_SOLVED,
        "g_unsolved": G_UNSOLVED, "g_seed_spread": SPREAD,
        "g_sentence": g_separation(G_SOLVED, G_UNSOLVED, SPREAD)[1]}


def run(**changes):
    return lab_verdict(**{**GOOD, **changes})


def test_a_run_that_shows_the_claim_passes_and_says_so():
    v = run()
    assert v.passed and v.require() is v
    assert "from 12% (chance 12%) to 100%" in v.sentence
    assert "margin predicts held-out configurations best (leave-one-out R² 0.88)" in v.sentence
    assert "G separates solved from unsolved" in v.sentence


@pytest.mark.parametrize("changes, condition", [
    ({"accuracies": [0.4, 0.5, 0.97]}, "configurations at chance"),
    ({"accuracies": [0.12, 0.5, 0.85]}, "configurations solved"),
    ({"threshold": math.nan}, "logistic fit"),
    ({"threshold": None}, "logistic fit"),
    ({"loo_r2": {"log C": 0.3, "margin": math.nan}}, "predictors compared"),
    ({"g_sentence": "G separates everything."}, "G sentence"),
])
def test_each_condition_fails_on_its_counter_example(changes, condition):
    v = run(**changes)
    assert not v.passed
    assert [f.split(":")[0] for f in v.failures] == [condition]
    with pytest.raises(CheckFailed, match=condition):
        v.require()


def test_g_sentence_says_which_way_it_came_out():
    separates, sentence = g_separation(1.1, 1.0, 0.3)
    assert not separates and sentence.startswith("G does not separate")
    v = run(g_solved=1.1, g_unsolved=1.0, g_seed_spread=0.3, g_sentence=sentence)
    assert v.passed and "G does not separate" in v.sentence


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="chance"):
        run(chance=1.5)
    with pytest.raises(TypeError, match="loo_r2"):
        run(loo_r2=[0.1, 0.2])
    with pytest.raises(ValueError, match="seed_spread"):
        g_separation(1.0, 0.5, -0.1)
