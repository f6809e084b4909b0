"""Chapter 5's criterion fails on runs that do not show its claim: one counter-example per
condition, including an oscillating seed whose robust onset is early."""

import numpy as np
import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch05 import MIN_PLATEAU_OVER_JUMP, frontier_prediction, hidden_progress
from emergence_lib.recipes.parity import plateau_and_jump

GOOD = {"solved": [3_140, 2_810, 3_310], "plateau": [2_270, 2_250, 2_915],
        "jump": [500, 530, 380], "growth": [21.0, 17.7, 30.0], "pull_away_lead": [450, 330, 720]}


def run(**changes):
    return hidden_progress(**{**GOOD, **changes})


def test_a_run_that_shows_the_claim_passes_and_says_so():
    v = run()
    assert v.passed and v.require() is v
    assert v.sentence.startswith("Flat line, then a jump, with hidden progress on every seed")
    assert "3 of 3 seeds reached 99%" in v.sentence and "4.2–7.7× the jump" in v.sentence
    assert "by 330–720 steps" in v.sentence
    assert v.numbers["min_ratio"] == pytest.approx(2_250 / 530)


@pytest.mark.parametrize("changes, condition, phrase", [
    ({"solved": [3_140, np.nan, 3_310]}, "solved", "2 of 3 seeds reached 99%"),
    ({"plateau": [2_270, np.nan, 2_915], "jump": [500, np.nan, 380]}, "long plateau",
     "2 of 3 at least 3×"),                                           # a seed with no jump
    ({"plateau": [1_000, 2_250, 2_915]}, "long plateau", "2 of 3 at least 3×"),
    ({"growth": [21.0, 1.5, 30.0]}, "secret grew", "3 of 3 seeds reached"),
    ({"pull_away_lead": [450, -30, 720]}, "progress leads", "on 2 of 3 seeds"),
    ({"pull_away_lead": [450, np.nan, 720]}, "progress leads", "on 2 of 3 seeds"),
])
def test_each_condition_fails_on_its_counter_example(changes, condition, phrase):
    v = run(**changes)
    assert not v.passed
    assert [f.split(":")[0] for f in v.failures] == [condition]
    assert v.sentence.startswith("Not shown on every seed") and phrase in v.sentence
    with pytest.raises(CheckFailed, match=condition):
        v.require()


def test_an_oscillating_seed_with_an_early_robust_onset_fails_the_plateau_condition():
    # Accuracy leaves chance at step 1,000 and oscillates between 0.5 and 0.9 until 2,600, then
    # solves: the raw points say "at chance until ~2,600" (a long plateau, a short jump), the
    # robust onset says 1,000 (plateau shorter than the jump), and the criterion fails.
    steps = np.arange(0, 4_000, 10.0)
    acc = np.full(len(steps), 0.5)
    rising = (steps >= 1_000) & (steps < 2_600)
    acc[rising] = np.where(np.arange(rising.sum()) % 4 == 3, 0.5, 0.9)
    acc[steps >= 2_600] = 1.0
    plateau, jump = plateau_and_jump(steps, acc[None])
    raw_plateau, raw_jump = plateau_and_jump(steps, acc[None], smooth=1)
    assert raw_plateau[0] / raw_jump[0] >= MIN_PLATEAU_OVER_JUMP      # fooled by the dips
    assert plateau[0] == pytest.approx(1_000, abs=50) and plateau[0] / jump[0] < 1
    v = hidden_progress([2_600], plateau, jump, [10.0], [300.0])
    assert not v.passed and "long plateau" in v.failures[0]


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="jump must have one value per seed \\(3\\), got 2"):
        run(jump=[1, 2])
    with pytest.raises(ValueError, match="solved must be a non-empty 1-D array"):
        run(solved=[])


def test_frontier_prediction_both_ways():
    holds = frontier_prediction(1_600, 1_450, 1_700, 1_675, 1_575, 1_800, 60)
    assert holds.passed and "the prediction holds" in holds.sentence and "5% more" in holds.sentence
    fails = frontier_prediction(1_600, 1_450, 1_700, 2_600, 2_300, 2_900, 60)
    assert not fails.passed and "the prediction fails" in fails.sentence
    unsolved = frontier_prediction(1_600, 1_450, 1_700, np.inf, 2_300, np.inf, 60)
    assert not unsolved.passed and "not solved" in unsolved.sentence
    with pytest.raises(ValueError, match="must be numbers"):
        frontier_prediction(np.nan, 1, 2, 3, 4, 5, 60)
