"""Chapter 2's persona checkers: each fed a correct answer, a stub and a wrong answer; the
reference functions on synthetic families; the atlas record round-trips through JSON."""

import numpy as np
import pytest
import torch

from emergence_lib.atlas import QUESTIONS, TransitionRecord
from emergence_lib.checks import ch02 as checks
from emergence_lib.exercises.ch02 import (
    check_exact_match_from_positions,
    check_length_verdict,
    check_samples_needed,
    check_widest_prediction,
    length_sharpening,
    longer_sharpens_more,
    steepness_prediction_met,
)
from emergence_lib.recipes import mirage
from emergence_lib.recipes.addition import FamilyMember


def stub(*args, **kwargs):
    raise NotImplementedError


def test_function_checkers_correct_stub_and_wrong():
    assert check_exact_match_from_positions(lambda position_accuracy: np.prod(
        position_accuracy, axis=-1))
    assert not check_exact_match_from_positions(stub).attempted
    wrong = check_exact_match_from_positions(lambda position_accuracy: np.mean(
        position_accuracy, axis=-1))
    assert not wrong and "per-token accuracy" in wrong.message
    assert not check_samples_needed(stub).attempted
    assert "rule of three" in check_samples_needed(lambda rate, confidence: 3 / rate).message


def test_widest_prediction_checker():
    assert check_widest_prediction(0.93, 0.932)
    stubbed = check_widest_prediction(..., 0.932)
    assert not stubbed.attempted and "not attempted yet" in stubbed.message
    wrong = check_widest_prediction(0.985, 0.932)           # averaged the positions instead
    assert not wrong and "too high" in wrong.message and "multiply" in wrong.message


def members_from_positions(p_of_size, n: int = 4000, length: int = 3, seeds=(0, 1)):
    """Members whose test logits get each digit right with probability p (independently) on an
    all-zero target: (members, target (n, length))."""
    target = torch.zeros(n, length, dtype=torch.long)
    members = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for i, p in enumerate(p_of_size):
            right = rng.random((n, length)) < p
            pred = np.where(right, 0, rng.integers(1, 10, (n, length)))
            logits = torch.nn.functional.one_hot(torch.from_numpy(pred), 10).float()
            members.append(FamilyMember(8 * 2**i, seed, 0, 1000 * 2**i, {}, logits, None))
    return members, target


def test_length_sharpening_on_independent_positions():
    p = 0.1 + 0.9 / (1 + np.exp(-(np.arange(6) - 3.0)))
    members, target = members_from_positions(p)
    ratio = length_sharpening(members, target, short=2, seed=0)
    assert ratio.ratio > 1 and ratio.interval[0] <= ratio.ratio <= ratio.interval[1]
    with pytest.raises(ValueError, match="short must be between 1 and 2"):
        length_sharpening(members, target, short=3)


def test_length_verdict_reference_and_checker():
    assert longer_sharpens_more((1.1, 1.6)) and not longer_sharpens_more((0.9, 1.6))
    with pytest.raises(ValueError, match="ratio_interval"):
        longer_sharpens_more((2.0, 1.0))
    assert check_length_verdict(True, (1.1, 1.6))
    assert not check_length_verdict(..., (1.1, 1.6)).attempted
    wrong = check_length_verdict(True, (0.9, 1.6))
    assert not wrong and "[0.90, 1.60]" in wrong.message


def test_steepness_prediction_met():
    assert steepness_prediction_met(2.2, 2.0) and not steepness_prediction_met(2.6, 2.0)
    assert not steepness_prediction_met(float("nan"), 2.0)


def test_transition_record_is_valid_and_round_trips():
    p = 0.1 + 0.9 / (1 + np.exp(-(np.arange(6) - 3.0)))
    members = []
    for i, pi in enumerate(p):
        members.append(FamilyMember(8 * 2**i, 0, 0, 1000 * 2**i,
                                    {"exact_match": pi**5, "token_accuracy": pi},
                                    torch.zeros(2, 5, 10), None))
    smooth = checks.smooth_metrics_verdict(3.0, {"per-token accuracy": (0.8, 0.95)})
    ours = checks.sharpening_verdict("our family", k_token=0.8, k_power=2.6, k_product=2.8,
                                     k_exact=3.0, k_positions=[2.0, 2.5, np.nan, 1.0, 3.0],
                                     max_gap=0.01, expected="metric", sharp_positions=True)
    record = mirage.transition_record(members, smooth=smooth, ours=ours,
                                      printed={"ch02_k_exact": "3.00"}, n_boot=10)
    assert record.chapter == "02_metric_mirage" and set(record.answers) == set(QUESTIONS)
    assert record.answers["hidden_progress"].answer is True
    assert record.answers["predictable"].answer is True
    assert record.answers["metric_artefact"].answer is True      # the metric's power: 89%
    assert record.answers["metric_artefact"].sentence == ours.sentence
    assert TransitionRecord.from_json(record.to_json()) == record
    with pytest.raises(TypeError, match="smooth"):
        mirage.transition_record(members, smooth=None, ours=ours)
