"""Chapter 5's criterion: every seed of the main run sits at chance, then solves in a jump much
shorter than the plateau, and its secret weights pull away from the others before accuracy moves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import Verdict, verdict

# Plateau (robust onset, recipes.parity.ONSET_SMOOTH) / jump (onset -> 90%), every seed. Measured
# on the main run: 3.3-18.9 over FULL's 16 seeds, 4.3-7.7 over FAST's 4 (December 2026).
MIN_PLATEAU_OVER_JUMP = 3.0
MIN_GROWTH = 2.0  # secret ||W_t - W_0||_inf at the onset over its value at a quarter of the plateau


def _array(name: str, values: Sequence[float], size: int | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or len(arr) == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (one value per seed), got shape "
                         f"{arr.shape}")
    if size is not None and len(arr) != size:
        raise ValueError(f"{name} must have one value per seed ({size}), got {len(arr)}")
    return arr


def _span(values: np.ndarray, fmt: str) -> str:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return "none"
    lo, hi = finite.min(), finite.max()
    return format(lo, fmt) if lo == hi else f"{lo:{fmt}}–{hi:{fmt}}"


def hidden_progress(solved: Sequence[float], plateau: Sequence[float], jump: Sequence[float],
                    growth: Sequence[float], pull_away_lead: Sequence[float], *,
                    pull_away: float = 2.0, min_ratio: float = MIN_PLATEAU_OVER_JUMP,
                    min_growth: float = MIN_GROWTH) -> Verdict:
    """Per seed (S,): first step at 99% (nan: never), plateau and jump in steps (nan: no jump),
    growth of the secret ||W_t - W_0||_inf over the plateau, and how many steps before
    accuracy's onset the secret columns' ||W_t - W_0||_inf stayed above ``pull_away`` x the
    others' (nan: never; negative: after)."""
    solved = _array("solved", solved)
    S = len(solved)
    plateau, jump = _array("plateau", plateau, S), _array("jump", jump, S)
    growth, ahead = _array("growth", growth, S), _array("pull_away_lead", pull_away_lead, S)
    ratio = np.where(jump > 0, plateau / np.where(jump > 0, jump, 1.0), np.nan)
    n_solved = int(np.isfinite(solved).sum())
    n_long = int((np.nan_to_num(ratio, nan=-1.0) >= min_ratio).sum())
    n_grew = int((np.nan_to_num(growth, nan=-1.0) >= min_growth).sum())
    n_ahead = int((np.nan_to_num(ahead, nan=-1.0) > 0).sum())
    conditions = {
        "solved": (n_solved == S, f"{S - n_solved} of {S} seeds never reached 99%"),
        "long plateau": (n_long == S, f"plateau/jump {np.round(ratio, 1).tolist()}, every seed "
                                      f"must be >= {min_ratio:g}"),
        "secret grew": (n_grew == S, f"secret ||W_t - W_0||_inf growth over the plateau "
                                     f"{np.round(growth, 1).tolist()}, every seed must be "
                                     f">= {min_growth:g}"),
        "progress leads": (n_ahead == S, f"pull-away leads {np.round(ahead).tolist()} steps, "
                                         f"every seed must be > 0"),
    }
    parts = (f"{n_solved} of {S} seeds reached 99% test accuracy; the plateau at chance was "
             f"{_span(ratio, '.1f')}× the jump ({n_long} of {S} at least {min_ratio:g}×); "
             f"on {n_ahead} of {S} seeds the secret columns' ‖W_t − W_0‖∞ pulled away "
             f"({pull_away:g}× the others') before accuracy left chance (by "
             f"{_span(ahead, ',.0f')} steps)")
    passed = all(holds for holds, _ in conditions.values())
    opening = ("Flat line, then a jump, with hidden progress on every seed: " if passed else
               "Not shown on every seed: ")
    numbers = {"min_ratio_required": min_ratio, "n_seeds": S, "n_solved": n_solved,
               "n_long_plateau": n_long, "n_secret_grew": n_grew, "n_progress_leads": n_ahead,
               "min_ratio": float(np.nanmin(ratio)) if np.isfinite(ratio).any() else np.nan,
               "min_lead": float(np.nanmin(ahead)) if np.isfinite(ahead).any() else np.nan}
    return verdict(conditions, opening + parts + ".", numbers)


def frontier_prediction(predicted: float, low: float, high: float, observed: float,
                        observed_low: float, observed_high: float, n: int) -> Verdict:
    """Did the power law's predicted median steps at ``n`` (interval low-high) agree with the
    run's median (its bootstrap interval over seeds)? Agreement = the two intervals overlap."""
    values = np.array([predicted, low, high, observed, observed_low, observed_high], float)
    if np.isnan(values).any():
        raise ValueError(f"predicted, low, high, observed, observed_low, observed_high must be "
                         f"numbers (inf allowed for an unsolved median), got {values.tolist()}")
    overlap = low <= observed_high and observed_low <= high
    off = (observed - predicted) / predicted
    fmt = (lambda v: f"{v:,.0f}" if np.isfinite(v) else "not solved")
    sentence = (f"At n = {n} the power law predicted a median of {fmt(predicted)} steps "
                f"({fmt(low)}–{fmt(high)}); the run took {fmt(observed)} "
                f"({fmt(observed_low)}–{fmt(observed_high)}), "
                + (f"{abs(off):.0%} {'more' if off > 0 else 'fewer'}" if np.isfinite(off)
                   else "unsolved")
                + (": the intervals overlap, the prediction holds." if overlap else
                   ": the intervals do not overlap, the prediction fails."))
    return verdict({"agrees": (overlap, "the predicted and measured intervals do not overlap")},
                   sentence, {"predicted": predicted, "observed": observed,
                              "relative_error": float(off)})
