"""Chapter 1's persona checkers: each fed a correct answer, a stub and a wrong answer; the
reference functions on fixed inputs; the atlas record built from a synthetic family round-trips
through JSON."""

import json

import numpy as np
import pytest
import torch

from emergence_lib.atlas import QUESTIONS, TransitionRecord
from emergence_lib.checks.ch01 import scaling_paradox
from emergence_lib.exercises.ch01 import (
    check_paradox_verdict,
    check_threshold_shift,
    check_weakest_link,
    paradox_on_small_task,
    prediction_met,
    small_task_ratio,
    threshold_shift_reference,
)
from emergence_lib.recipes import addition
from emergence_lib.recipes.addition import FamilyMember


def stub(*args, **kwargs):
    raise NotImplementedError


def test_weakest_link_checker_correct_stub_and_wrong(capsys):
    assert check_weakest_link(lambda skill_probs: np.prod(skill_probs, axis=-1))
    stubbed = check_weakest_link(stub)
    assert not stubbed and not stubbed.attempted and "not attempted yet" in stubbed.message
    wrong = check_weakest_link(lambda skill_probs: np.mean(skill_probs, axis=-1))
    assert not wrong and wrong.attempted and "averaged" in wrong.message


def test_threshold_shift_reference_is_the_widgets_curve():
    sizes = np.geomspace(1e2, 1e6, 20_001)
    product = (1 / (1 + (sizes / 1e4) ** -1.5)) ** 5
    crossing = sizes[np.argmax(product >= 0.5)] / 1e4
    assert threshold_shift_reference(5, 1.5) == pytest.approx(crossing, rel=1e-3)
    assert threshold_shift_reference(1, 1.5) == pytest.approx(1.0)


def test_threshold_shift_checker_correct_stub_and_wrong():
    measured = threshold_shift_reference(5, 1.5)
    assert check_threshold_shift(3.5, measured)
    stubbed = check_threshold_shift(..., measured)
    assert not stubbed.attempted and "not attempted yet" in stubbed.message
    wrong = check_threshold_shift(1.0, measured)          # "the threshold does not move"
    assert not wrong and wrong.attempted
    assert "too low" in wrong.message and "0.5**(1/m)" in wrong.message
    assert not check_threshold_shift("three", measured).passed


def test_paradox_verdict_reference_and_checker():
    assert paradox_on_small_task((1.2, 4.0)) is True
    assert paradox_on_small_task((0.8, 4.0)) is False
    with pytest.raises(ValueError, match="ratio_interval"):
        paradox_on_small_task((3.0, 1.0))
    assert check_paradox_verdict(True, (1.2, 4.0))
    assert not check_paradox_verdict(..., (1.2, 4.0)).attempted
    wrong = check_paradox_verdict(True, (0.8, 4.0))       # an interval that reaches below 1
    assert not wrong and "[0.80, 4.00]" in wrong.message and "above 1" in wrong.message
    assert "not a verdict" in check_paradox_verdict("yes", (1.2, 4.0)).message


def test_prediction_met_tolerance_and_nan():
    assert prediction_met(1.2e4, 1e4) and not prediction_met(1.4e4, 1e4)
    assert prediction_met(1.4e4, 1e4, tolerance=0.5)
    assert not prediction_met(float("nan"), 1e4) and not prediction_met(1e4, float("nan"))


def synthetic_family(n_answer: int = 5, seeds=(0, 1)) -> list[FamilyMember]:
    """Members whose per-digit accuracy p rises smoothly with size and exact match = p**L."""
    members = []
    for seed in seeds:
        for i, width in enumerate((8, 16, 32, 64, 128, 256)):
            p = 0.1 + 0.9 / (1 + np.exp(-(i - 3.0) * 0.9)) + 0.01 * seed
            p = min(p, 0.999)
            members.append(FamilyMember(
                width, seed, 0, 1000 * 2 ** i, {"exact_match": p ** n_answer,
                                                "token_accuracy": p},
                torch.zeros(4, n_answer, 10), None))
    return members


def test_small_task_ratio_exact_match_is_steeper_on_a_power_family():
    ratio, (lo, hi) = small_task_ratio(synthetic_family(n_answer=3), seed=0)
    assert ratio > 1 and lo <= ratio <= hi


def test_transition_record_is_valid_and_round_trips():
    members = synthetic_family()
    paradox = scaling_paradox(small_exact=0.001, small_digit=0.43, large_exact=0.97,
                              exact_r2=0.99, exact_line_r2=0.6, digit_r2=0.9,
                              digit_line_r2=0.94, ratio=7.0, ratio_lo=2.0, ratio_hi=8.0)
    record = addition.transition_record(members, paradox=paradox,
                                        printed={"ch01_k_exact": "1.23"}, n_boot=10)
    assert record.chapter == "01_scaling_paradox" and record.unit == "parameters"
    assert list(record.x) == sorted(set(record.x)) and len(record.x) == 6      # one per size
    assert record.floor == pytest.approx(1e-5) and record.ceil == 1.0
    assert set(record.answers) == set(QUESTIONS)
    assert record.answers["metric_artefact"].answer is None
    assert record.answers["hidden_progress"].answer is True
    assert record.answers["predictable"].answer is True
    again = TransitionRecord.from_json(record.to_json())
    assert again == record and json.loads(record.to_json())["printed"] == {"ch01_k_exact": "1.23"}
    with pytest.raises(TypeError, match="paradox"):
        addition.transition_record(members, paradox="passed")
