"""Chapter 3's criterion passes a run that shows its claims and fails each counter-example."""

import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch03 import grokking_verdict, llc_verdict

# A FAST-like run: memorized at 55, grokked at 1,290, many key frequencies shared with random sets.
MANY = dict(memorized_step=55.0, grokked_step=1290.0, test_acc_at_memorization=0.001,
            restricted_below_start_step=5.0, test_jump_onset=740.0, restricted_lead=710.0,
            n_key=21, n_frequencies=29, key_drop=0.99, random_drops=[0.97, 0.99, 0.98],
            logistic_r2=0.999, linear_r2=0.63)
# A FULL-like run: a few key frequencies, random sets of that size barely move.
FEW = {**MANY, "n_key": 5, "n_frequencies": 56, "key_drop": 0.6,
       "random_drops": [0.05, 0.1, 0.02]}


@pytest.mark.parametrize("numbers", [MANY, FEW])
def test_a_run_that_shows_the_claims_passes(numbers):
    v = grokking_verdict(**numbers)
    assert v.passed, v.failures
    v.require()
    assert "grokked" in v.sentence and "led the test-accuracy jump by 710" in v.sentence


@pytest.mark.parametrize("change, failed", [
    ({"grokked_step": None}, "grokked"),                       # never generalized
    ({"memorized_step": None}, "grokked"),                     # never memorized
    ({"grokked_step": 200.0}, "delay"),                        # generalized soon after
    ({"test_acc_at_memorization": 0.5}, "chance at memorization"),
    ({"restricted_lead": 40.0}, "restricted loss leads"),      # restricted loss not leading
    ({"restricted_lead": None}, "restricted loss leads"),
    ({"restricted_below_start_step": 800.0}, "restricted loss leads"),
    ({"random_drops": [0.5, 0.6, 0.4]}, "random-frequency control"),   # many, yet random lag
    ({"logistic_r2": 0.5}, "logistic beats a line"),
])
def test_each_counter_example_fails(change, failed):
    v = grokking_verdict(**{**MANY, **change})
    assert not v.passed
    assert any(f.startswith(failed) for f in v.failures), v.failures
    with pytest.raises(CheckFailed, match=failed):
        v.require()


def test_restricted_loss_leading_no_more_than_the_random_control_fails():
    """A few key frequencies, but random sets of that size fall as far: the lead is not theirs."""
    v = grokking_verdict(**{**FEW, "random_drops": [0.55, 0.6, 0.58]})
    assert not v.passed and "does not single them out" in v.sentence
    assert any(f.startswith("random-frequency control") for f in v.failures)


def test_the_sentence_states_each_branch():
    assert "do not" not in grokking_verdict(**MANY).sentence
    assert "the a + b - c structure as a whole" in grokking_verdict(**MANY).sentence
    assert "they matter" in grokking_verdict(**FEW).sentence
    bad = grokking_verdict(**{**MANY, "grokked_step": None, "restricted_lead": 10.0,
                              "logistic_r2": 0.1})
    assert "does not show grokking" in bad.sentence and "did not lead" in bad.sentence
    assert "does not fit the jump better" in bad.sentence


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="random_drops"):
        grokking_verdict(**{**MANY, "random_drops": []})
    with pytest.raises(ValueError, match="n_key"):
        grokking_verdict(**{**MANY, "n_key": 0})


LLC = dict(steps=[10, 100, 500, 1000, 2000], llc=[300.0, 200.0, 20.0, 0.5, 0.01],
           train_loss=[2.0, 0.05, 1e-3, 1e-5, 1e-7], test_jump_onset=740.0, grokked_step=1290.0,
           traces_passed=5, traces=5)


def test_llc_verdict_reports_what_the_llc_does():
    v = llc_verdict(**LLC)
    assert v.passed and "follows the log training loss" in v.sentence
    assert v.numbers["peak_step"] == 10 and v.numbers["tracks_train_loss"] == 1.0
    other = llc_verdict(**{**LLC, "train_loss": [1e-7, 2.0, 1e-5, 1e-3, 0.05]})
    assert "does not simply follow" in other.sentence


def test_llc_verdict_fails_when_a_trace_failed():
    v = llc_verdict(**{**LLC, "traces_passed": 4})
    assert not v.passed
    with pytest.raises(CheckFailed, match="LLC traces"):
        v.require()
    with pytest.raises(ValueError, match="same length"):
        llc_verdict(**{**LLC, "llc": [1.0]})
