"""Chapter 7's criterion fails on runs that do not show its claim: one counter-example per
condition, and the sentence says which way the run came out."""

import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch07 import CALIBRATION, longest_run_near, superposition_emerges

D_STAR = [1.0, 0.99, 0.65, 0.54, 0.52, 0.49, 0.40, 0.35, 0.30]
GOOD = {"represented_densest": 5, "represented_sparsest": 19, "m": 5, "n": 20,
        "agreement": 0.93, "d_star": D_STAR}


def run(**changes):
    return superposition_emerges(**{**GOOD, **changes})


def test_a_run_that_shows_the_claim_passes_and_says_so():
    v = run()
    assert v.passed and v.require() is v
    assert "kept 5 of 20 features" in v.sentence and "the sparsest kept 19" in v.sentence
    assert "93% of the grid" in v.sentence and "at 3 neighbouring sparsities" in v.sentence
    assert v.sentence.endswith("its geometry is sticky.")
    assert v.numbers["plateau_points"] == 3 and v.numbers["closest_to_half"] == 0.49


@pytest.mark.parametrize("changes, condition", [
    ({"represented_densest": 7}, "dense keeps about m"),
    ({"represented_sparsest": 14}, "sparse superposes"),
    ({"agreement": 0.79}, "phase diagram"),
    ({"d_star": [1.0, 0.7, 0.54, 0.44, 0.40, 0.3]}, "sticky 1/2"),      # never two in a row
    ({"d_star": [1.0, 0.9, 0.8, 0.7, 0.3]}, "sticky 1/2"),              # never near 1/2
])
def test_each_condition_fails_on_its_counter_example(changes, condition):
    v = run(**changes)
    assert not v.passed
    assert [f.split(":")[0] for f in v.failures] == [condition]
    assert "Not every part of the claim holds" in v.sentence and condition in v.sentence
    with pytest.raises(CheckFailed, match=condition):
        v.require()


def test_longest_run_and_bad_inputs():
    assert longest_run_near([0.5, 0.9, 0.52, 0.47, 0.51, 0.2], 0.5, 0.05) == 3
    assert longest_run_near([0.9], 0.5, 0.05) == 0
    with pytest.raises(ValueError, match="agreement must be <= 1.0"):
        run(agreement=1.5)
    with pytest.raises(ValueError, match="represented_densest must be <= 20"):
        run(represented_densest=21)
    with pytest.raises(TypeError, match="m must be an integer"):
        run(m=5.0)
    with pytest.raises(ValueError, match="d_star must be > 0"):
        run(d_star=[1.0, 0.0])


def test_the_calibration_runs_pass_the_criterion():
    for dense, sparse, agree, points in zip(CALIBRATION["densest"], CALIBRATION["sparsest"],
                                            CALIBRATION["agreement"],
                                            CALIBRATION["plateau_points"], strict=True):
        d_star = [1.0] + [0.5] * points + [0.3]
        assert superposition_emerges(dense, sparse, 5, 20, agree, d_star).passed
