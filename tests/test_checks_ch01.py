import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch01 import scaling_paradox

# the FAST run's numbers (seed 0), rounded: the criterion passes on them
GOOD = dict(small_exact=0.001, small_digit=0.435, large_exact=0.973, exact_r2=0.998,
            exact_line_r2=0.594, digit_r2=0.900, digit_line_r2=0.943, ratio=7.7, ratio_lo=1.8,
            ratio_hi=8.1)


def test_the_paradox_passes_and_the_sentence_says_so():
    v = scaling_paradox(**GOOD)
    assert v.passed, v.failures
    assert v.sentence.startswith("The family shows the paradox")
    assert "rises smoothly" in v.sentence and "jumps" in v.sentence and "at least 1.8" in v.sentence
    v.require()


@pytest.mark.parametrize("change, failed", [
    # both scores jump: per-digit is fitted far better by the logistic than by a line
    (dict(digit_r2=0.99, digit_line_r2=0.70), "per-digit accuracy is smooth"),
    # per-digit fitted by neither (the line itself is poor)
    (dict(digit_r2=0.6, digit_line_r2=0.62), "per-digit accuracy is smooth"),
    # exact match not sharper within uncertainty: the interval reaches below 1
    (dict(ratio=1.6, ratio_lo=0.7, ratio_hi=3.0), "exact match is steeper"),
    # exact match rising as smoothly as a line (the line leaves 0.10, not >= 2 x 0.06)
    (dict(exact_r2=0.94, exact_line_r2=0.9), "exact match jumps"),
    # the smallest model already answers exactly
    (dict(small_exact=0.4), "partial skill"),
    # the smallest model is at chance on digits too
    (dict(small_digit=0.12), "partial skill"),
    # the largest model does not solve the task
    (dict(large_exact=0.5), "the largest size"),
])
def test_each_condition_has_a_counter_example(change, failed):
    v = scaling_paradox(**{**GOOD, **change})
    assert not v.passed
    assert any(f.startswith(failed) for f in v.failures), v.failures
    assert v.sentence.startswith("The family does not show the full paradox")
    with pytest.raises(CheckFailed, match=failed):
        v.require()


def test_full_mode_numbers_pass():
    # FULL (36 points, 3 seeds x 2 splits), measured: seed scatter lowers both R^2
    v = scaling_paradox(small_exact=0.001, small_digit=0.42, large_exact=0.976, exact_r2=0.880,
                        exact_line_r2=0.721, digit_r2=0.908, digit_line_r2=0.934, ratio=3.23,
                        ratio_lo=2.42, ratio_hi=5.54)
    assert v.passed, v.failures


def test_the_sentence_names_what_failed():
    v = scaling_paradox(**{**GOOD, "digit_r2": 0.99, "digit_line_r2": 0.7})
    assert "does not rise smoothly" in v.sentence
    v = scaling_paradox(**{**GOOD, "ratio_lo": 0.7})
    assert "not steeper" in v.sentence


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="ratio_lo"):
        scaling_paradox(**{**GOOD, "ratio_lo": 9.0})
    with pytest.raises(ValueError, match="exact_r2"):
        scaling_paradox(**{**GOOD, "exact_r2": float("nan")})
