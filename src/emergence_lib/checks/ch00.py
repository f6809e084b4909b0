"""Chapter 0's criterion: the fitting tool every later chapter relies on recovers a threshold it
was given (inside its bootstrap interval) and beats a straight line on a known logistic."""

from __future__ import annotations

import math

from ..fit import LogisticFit
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


def transition_record(sizes: object, observed: object, fit: LogisticFit, result: Verdict,
                      prediction: object | None = None):
    """Chapter 0's illustrative transition for the atlas (``atlas.TransitionRecord``): the noisy
    points drawn from the known logistic (floor 0, ceiling 1), the chapter's calibration case.
    No network is trained, so the metric and hidden-progress questions have no answer (None);
    predictable: whether ``prediction`` (``exercises.ch00.early_prediction``) met its target.
    The threshold, steepness and R² are the chapter's own ``fit`` (floor and ceiling fixed)."""
    from dataclasses import replace

    from ..atlas import transition_record as record

    lo, hi = fit.intervals["threshold"]
    if prediction is None:
        predictable = (None, "No prediction before the jump was attempted.")
    else:
        predictable = (bool(prediction.met), prediction.sentence())
    made = record(
        chapter="00_what_is_emergence", phenomenon="a known logistic, refitted",
        parameter="control parameter x", unit="arbitrary", x=sizes, metric=observed,
        metric_name="capability (noisy draws)", floor=0.0, ceil=1.0,
        answers={"metric_artefact": (None, "No metric to question: the curve is drawn from a "
                                           "known logistic, not measured on a model."),
                 "hidden_progress": (None, "No network, so no inside to measure."),
                 "predictable": predictable},
        printed={"ch00_threshold": format(fit.threshold, ",.0f"),
                 "ch00_threshold_lo": format(lo, ",.0f"), "ch00_threshold_hi": format(hi, ",.0f"),
                 "ch00_r2": format(fit.r2, ".3f"), "ch00_line_r2": format(fit.linear.r2, ".3f")},
        notes=result.sentence, fit=False)
    # the chapter's own fit (floor and ceiling fixed), not a second one with both free
    k_lo, k_hi = fit.intervals.get("steepness", (float("nan"), float("nan")))
    return replace(made, threshold=float(fit.threshold), threshold_interval=(float(lo), float(hi)),
                   steepness=float(fit.steepness), steepness_interval=(float(k_lo), float(k_hi)),
                   r2=float(fit.r2), r2_linear=float(fit.linear.r2))
