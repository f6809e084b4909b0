"""The robust onset: a running median finds where a noisy, oscillating curve leaves its plateau,
on synthetic curves whose onset is known; the defaults of detect.py are unchanged."""

import numpy as np
import pytest

from emergence_lib.detect import (
    detect_transition,
    first_crossing,
    lead,
    running_median,
    sustained_onset,
)

STEPS = np.arange(0, 5_000, 10.0)
TRUE_ONSET = 2_300.0   # where the clean curve leaves chance (crosses 0.55)


def oscillating_accuracy(seed: int, dip_prob: float = 0.2) -> np.ndarray:
    """Chance (0.5, binomial noise of a 1,000-sample test set) until TRUE_ONSET, a step to 0.62,
    300 steps rising to 0.88 and 300 at 0.88 during which a fraction ``dip_prob`` of the points
    fall back to chance (as chapter 5's seeds do), then 0.88 -> 1.0 over 200 steps. (T,)"""
    rng = np.random.default_rng(seed)
    clean = np.interp(STEPS, [0, TRUE_ONSET - 10, TRUE_ONSET + 300, TRUE_ONSET + 600,
                              TRUE_ONSET + 800, STEPS[-1]], [0.5, 0.5, 0.88, 0.88, 1.0, 1.0])
    clean = np.where(STEPS >= TRUE_ONSET, np.maximum(clean, 0.62), clean)  # a jump at the onset
    dips = (STEPS > TRUE_ONSET + 30) & (STEPS < TRUE_ONSET + 600) & (rng.random(len(STEPS))
                                                                      < dip_prob)
    p = np.where(dips, 0.5, clean)
    return rng.binomial(1_000, p) / 1_000


def test_running_median_removes_short_dips_and_keeps_monotone_curves():
    assert np.array_equal(running_median([3.0, 1, 2, 5, 8, 9, 9.5], 1), [3, 1, 2, 5, 8, 9, 9.5])
    ramp = np.linspace(0, 1, 50) ** 2
    assert np.array_equal(running_median(ramp, 11), ramp)            # monotone: unchanged
    step = (np.arange(40) >= 17).astype(float)
    assert np.array_equal(running_median(step, 7), step)             # a clean step stays put
    y = np.ones(30)
    y[[5, 12, 13, 20, 21, 22]] = 0.0                                 # dips of 1, 2, 3 points
    assert (running_median(y, 7) == 1).all()
    assert running_median([1.0, 5.0], 11).tolist() == [1.0, 5.0]     # ends: shrinking windows


def test_robust_onset_finds_the_known_onset_of_oscillating_curves():
    for seed in range(20):
        acc = oscillating_accuracy(seed)
        robust = detect_transition(STEPS, acc, start=0.5, end=1.0, smooth=21)
        raw = detect_transition(STEPS, acc, start=0.5, end=1.0)
        # dips inside the window just after the onset delay the majority by about their number
        assert abs(robust.onset - TRUE_ONSET) <= 50, (seed, robust.onset)
        assert raw.onset > TRUE_ONSET + 150, (seed, raw.onset)      # the raw points: fooled
        at = sustained_onset(STEPS, acc, 0.55, smooth=21)
        assert at == pytest.approx(robust.onset)


def test_smoothing_does_not_move_a_clean_transition():
    clean = np.where(STEPS < TRUE_ONSET, 0.5, np.minimum(1.0, 0.5 + (STEPS - TRUE_ONSET) / 800))
    raw, robust = (detect_transition(STEPS, clean, start=0.5, end=1.0, smooth=w) for w in (1, 11))
    assert robust == raw
    assert raw.onset == pytest.approx(TRUE_ONSET + 40, abs=1e-6)


def test_defaults_are_unchanged():
    acc = oscillating_accuracy(0)
    assert detect_transition(STEPS, acc) == detect_transition(STEPS, acc, smooth=1)
    progress = np.clip((STEPS - 1_500) / 1_000, 0, 1)
    assert lead(STEPS, progress, acc) == lead(STEPS, progress, acc, smooth=1)
    assert first_crossing(STEPS, acc, 0.55, sustained=True) == pytest.approx(
        detect_transition(STEPS, acc, start=0.5, end=1.0).onset)


def test_smoothed_lead_of_a_progress_measure_over_an_oscillating_metric():
    acc = oscillating_accuracy(1)
    progress = np.clip((STEPS - 1_800) / 2_000, 0, 1)   # 10% of its change at step 2,000
    assert lead(STEPS, progress, acc, smooth=21) == pytest.approx(TRUE_ONSET - 2_000, abs=50)
    assert lead(STEPS, progress, acc) > TRUE_ONSET - 2_000 + 150   # raw: inflated


def test_sustained_onset_returns_none_when_the_curve_falls_back():
    y = np.r_[np.zeros(20), np.ones(20), np.zeros(20)]
    assert sustained_onset(np.arange(60.0), y, 0.5, smooth=5) is None
    assert sustained_onset(np.arange(60.0), 1 - y, 0.5, direction="down", smooth=5) is None
    assert sustained_onset(np.arange(40.0), y[:40], 0.5, smooth=5) == pytest.approx(19.5)


@pytest.mark.parametrize("call, match", [
    (lambda: running_median([1.0, 2.0, 3.0], 4), "window must be odd"),
    (lambda: running_median([1.0, 2.0, 3.0], 0), "window must be >= 1"),
    (lambda: running_median([1.0, np.nan], 3), "y must be finite"),
    (lambda: detect_transition([0, 1, 2], [0, 1, 1], smooth=0), "smooth must be >= 1"),
    (lambda: lead([0, 1, 2], [0, 1, 1], [0, 0, 1], smooth=2.5), "smooth must be an integer"),
    (lambda: sustained_onset([0, 1, 2], [0, 1, 1], 0.5, direction="left"), "direction"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
