"""Chapter 4's criterion passes on the numbers of a run that shows the claim and fails, naming
the condition, on a counter-example for each condition."""

import math

import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch04 import induction_verdict

LN_V = math.log(64)
PASSING = dict(uniform_loss=LN_V, start_loss=4.16, end_loss=0.85, drop_onset=560.0,
               drop_finish=820.0, induction_step=650.0, slack=100.0, restored_previous=0.76,
               restored_induction=0.45, restored_induction_heads=1.0, n_induction_heads=2,
               control_end=3.45, match_lead=430.0, match_final=2.6,
               match_baseline=(0.0, 0.13), logistic_r2=0.99, linear_r2=0.5, steepness=12.6,
               steepness_interval=(10.5, 14.0), control_steepness=3.3,
               control_interval=(2.3, 4.3), icl_score=0.6, icl_control=-0.1)


def test_a_run_that_shows_the_claim_passes():
    result = induction_verdict(**PASSING)
    assert result.passed and result.require() is result
    assert "Verdict: an induction-head phase change" in result.sentence
    assert "so they share the work" in result.sentence          # 45% alone, 100% together
    assert "worse late in the context" in result.sentence       # icl > 0 is reported as such


@pytest.mark.parametrize("change, condition", [
    ({"start_loss": 3.0}, "plateau"),                                  # no plateau at ln V
    ({"end_loss": 2.5}, "phase change"),                               # no loss drop
    ({"drop_onset": math.nan, "drop_finish": math.nan}, "phase change"),
    ({"induction_step": None}, "induction head during the drop"),      # no induction head
    ({"induction_step": 1_000.0}, "induction head during the drop"),   # ... or far too late
    ({"restored_previous": 0.2}, "previous-token head needed"),        # ablation does not hurt
    ({"restored_induction_heads": 0.3}, "induction heads needed"),
    ({"n_induction_heads": 0}, "induction heads needed"),
    ({"control_end": 1.5}, "control flat"),                            # control also drops
    ({"match_lead": 20.0}, "composition leads"),                       # no lead
    ({"match_lead": None}, "composition leads"),
    ({"match_final": 0.3}, "composition leads"),                       # within random baseline
    ({"logistic_r2": 0.4}, "logistic beats a line"),
    ({"control_interval": (2.3, 11.0)}, "steeper than the control"),  # control as steep
])
def test_each_condition_fails_on_its_counter_example(change, condition):
    result = induction_verdict(**{**PASSING, **change})
    assert not result.passed
    assert any(f.startswith(condition + ":") for f in result.failures), result.failures
    assert "Verdict: not shown" in result.sentence and condition in result.sentence
    with pytest.raises(CheckFailed, match=condition):
        result.require()


def test_the_sentence_follows_the_numbers_both_ways():
    negative = induction_verdict(**{**PASSING, "icl_score": -0.4})
    assert negative.passed and "better late in the context" in negative.sentence
    alone = induction_verdict(**{**PASSING, "restored_induction": 0.9})
    assert "share the work" not in alone.sentence
    drops = induction_verdict(**{**PASSING, "control_end": 1.5})
    assert "the control drops too" in drops.sentence


@pytest.mark.parametrize("change, match", [
    ({"uniform_loss": 0.0}, "uniform_loss must be ln V > 0"),
    ({"slack": -1.0}, "slack must be >= 0"),
])
def test_bad_input(change, match):
    with pytest.raises(ValueError, match=match):
        induction_verdict(**{**PASSING, **change})
