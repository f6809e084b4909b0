"""Chapter 0's criterion: the fitting tool every later chapter relies on recovers a threshold it
was given (inside its bootstrap interval) and beats a straight line on a known logistic."""

from __future__ import annotations

import math

from . import Verdict, verdict


def recovers_threshold(*, true_threshold: float, fitted: float, lo: float, hi: float,
                       r2: float, line_r2: float) -> Verdict:
    """Verdict on a refit of noisy points drawn from a logistic with ``true_threshold``: is the
    truth inside the interval [lo, hi] and does the logistic beat the line in R^2?"""
    numbers = {"true_threshold": true_threshold, "fitted": fitted, "lo": lo, "hi": hi,
               "r2": r2, "line_r2": line_r2}
    for name, value in numbers.items():
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be a finite number, got {value}")
    if not (true_threshold > 0 and lo <= hi):
        raise ValueError(f"need true_threshold > 0 and lo <= hi, got true_threshold="
                         f"{true_threshold}, interval [{lo}, {hi}]")
    covered = lo <= true_threshold <= hi
    beats = r2 > line_r2
    conditions = {
        "threshold recovered": (covered, f"true threshold {true_threshold:.3g} outside the "
                                         f"interval [{lo:.3g}, {hi:.3g}]"),
        "logistic beats the line": (beats, f"logistic R² {r2:.3f} does not beat the line's "
                                           f"{line_r2:.3f}"),
    }
    where = "inside" if covered else "outside"

    def num(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"

    better = "beats" if beats else "does not beat"
    sentence = (f"The fit puts the threshold at {num(fitted)} with 95% interval [{num(lo)}, "
                f"{num(hi)}], so the true value {num(true_threshold)} lies {where} it; the "
                f"logistic (R² {r2:.3f}) {better} the straight line in log x (R² {line_r2:.3f}).")
    return verdict(conditions, sentence, numbers)
