import pytest

from emergence_lib.checks import CheckFailed
from emergence_lib.checks.ch00 import recovers_threshold

GOOD = dict(true_threshold=1e4, fitted=1.1e4, lo=8e3, hi=1.4e4, r2=0.99, line_r2=0.8)


def test_a_good_fit_passes_and_says_so():
    v = recovers_threshold(**GOOD)
    assert v.passed and "inside" in v.sentence and "beats" in v.sentence
    v.require()


@pytest.mark.parametrize("change, failed", [
    (dict(lo=1.2e4), "threshold recovered"),           # truth below the interval
    (dict(hi=9e3), "threshold recovered"),             # truth above the interval
    (dict(r2=0.7), "logistic beats the line"),         # a line explains more
])
def test_counter_examples_fail(change, failed):
    v = recovers_threshold(**{**GOOD, **change})
    assert not v.passed and any(f.startswith(failed) for f in v.failures)
    assert ("outside" in v.sentence) or ("does not beat" in v.sentence)
    with pytest.raises(CheckFailed, match=failed):
        v.require()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="lo"):
        recovers_threshold(**{**GOOD, "lo": float("nan")})
    with pytest.raises(ValueError, match="lo <= hi"):
        recovers_threshold(**{**GOOD, "lo": 2e4, "hi": 1e4})
