"""Chapter 8's criterion fails on runs that do not show its claim: one counter-example per
condition, and the sentence says which way the run came out."""

import math

import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch08 import alignment_ceiling, silent_alignment

GOOD = {"aligned_share": 0.99, "lazy_alignment": 0.16, "slope": -0.94, "slope_theory": -0.92,
        "digits_lead": 3.1}


def run(**changes):
    return silent_alignment(**{**GOOD, **changes})


def test_a_run_that_shows_the_claim_passes_and_says_so():
    v = run()
    assert v.passed and v.require() is v
    assert "reached 99% of its alignment ceiling" in v.sentence
    assert "the alignment was 0.16" in v.sentence and "s^-0.94" in v.sentence
    assert "leads the loss drop (+3.10" in v.sentence
    assert v.sentence.endswith("Silent alignment holds in this run.")
    assert v.numbers["slope_ratio"] == pytest.approx(0.94 / 0.92)


@pytest.mark.parametrize("changes, condition", [
    ({"aligned_share": 0.6}, "silent alignment"),
    ({"lazy_alignment": 0.7}, "lazy stays unaligned"),
    ({"slope": -0.5}, "modes follow 1/s"),
    ({"slope": -1.3}, "modes follow 1/s"),
    ({"digits_lead": -2.0}, "digits lead"),
    ({"digits_lead": None}, "digits lead"),
])
def test_each_condition_fails_on_its_counter_example(changes, condition):
    v = run(**changes)
    assert not v.passed
    assert [f.split(":")[0] for f in v.failures] == [condition]
    assert "Not every part of the claim holds" in v.sentence and condition in v.sentence
    with pytest.raises(CheckFailed, match=condition):
        v.require()


def test_ceiling_and_bad_inputs():
    assert alignment_ceiling(2, 30) == pytest.approx(2 / math.sqrt(33))
    assert alignment_ceiling(1, 1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="slope_theory must be non-zero"):
        run(slope_theory=0.0)
    with pytest.raises(ValueError, match="lazy_alignment must be <= 1.0"):
        run(lazy_alignment=1.5)
    with pytest.raises(TypeError, match="aligned_share must be a real number"):
        run(aligned_share="high")
    with pytest.raises(ValueError, match="digits_lead must be finite"):
        run(digits_lead=float("nan"))
