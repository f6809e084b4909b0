"""Checkers for chapter 0 (what is emergence): reading a logistic's steepness, a prediction of it,
interval coverage and its verdict, and the early-threshold prediction of the frontier exercise."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .._validate import check_int
from ..fit import fit_logistic, logistic
from ..metrics import wilson_interval
from .core import CheckResult, check_function, check_number, check_verdict


def transition_width_reference(steepness: float, low: float = 0.1, high: float = 0.9) -> float:
    """Factor by which x grows while the logistic in log-x climbs from ``low`` to ``high`` of the
    way from floor to ceiling: exp((logit(high) - logit(low)) / k)."""
    logit = np.log(high / (1 - high)) - np.log(low / (1 - low))
    return float(np.exp(logit / steepness))


def check_transition_width(student: Callable[..., float]) -> CheckResult:
    """CS-student exercise: how many times larger x must get to cross from 10% to 90%."""
    cases = [{"steepness": 1.0}, {"steepness": 4.0}, {"steepness": 2.0, "low": 0.25, "high": 0.75},
             {"steepness": 8.0, "low": 0.05, "high": 0.95}]
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731 - one-line helper for the hints
    hints = [
        (lambda steepness, low=0.1, high=0.9: (logit(high) - logit(low)) / steepness,
         "that is the width in ln x; the question asks for the factor in x itself (take exp)."),
        (lambda steepness, low=0.1, high=0.9: 10 ** ((logit(high) - logit(low)) / steepness),
         "k is per unit of the natural log ln x, not of log10 x: use exp, not 10**."),
        (lambda steepness, low=0.1, high=0.9: float(np.exp((logit(high) - logit(low))
                                                            * steepness)),
         "a steeper curve (larger k) crosses over a *narrower* range: divide by k."),
        (lambda steepness, low=0.1, high=0.9: float(np.exp((high - low) / steepness)),
         "solve the logistic for ln x at each level: the inverse involves log(p / (1 - p))."),
    ]
    return check_function(student, transition_width_reference, cases, name="transition_width",
                          rtol=1e-4, hints=hints)


def coverage_reference(intervals: np.ndarray, truth: float) -> float:
    """Share of intervals (n, 2) rows [lo, hi] that contain ``truth`` (ends included)."""
    intervals = np.asarray(intervals, dtype=float)
    return float(np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])))


def check_coverage(student: Callable[[np.ndarray, float], float]) -> CheckResult:
    """Applied-researcher exercise: how often a 95% interval actually contains the truth."""
    cases = [
        {"intervals": np.array([[0.0, 2.0], [1.5, 3.0], [0.5, 0.9]]), "truth": 1.0},
        {"intervals": np.array([[1.0, 2.0], [2.0, 3.0]]), "truth": 2.0},
        {"intervals": np.array([[5e3, 2e4], [1.1e4, 3e4], [9e3, 1.05e4], [1e3, 1e5]]),
         "truth": 1e4},
    ]
    hints = [
        (lambda intervals, truth: float(np.sum((np.asarray(intervals)[:, 0] <= truth)
                                               & (truth <= np.asarray(intervals)[:, 1]))),
         "you counted the intervals that contain the truth; return the share (divide by n)."),
        (lambda intervals, truth: float(np.mean((np.asarray(intervals)[:, 0] < truth)
                                                & (truth < np.asarray(intervals)[:, 1]))),
         "an interval whose end equals the truth contains it: use <= on both sides."),
    ]
    return check_function(student, coverage_reference, cases, name="coverage", hints=hints)


# ---- CS student: predict a factor before computing it ----------------------------------------
PREDICTED_STEEPNESS = 4.0
FACTOR_RTOL = 0.1


def check_factor_prediction(answer: object) -> CheckResult:
    """CS-student prediction: the 10%-to-90% factor in x of a logistic with steepness 4."""
    return check_number(
        answer, transition_width_reference(PREDICTED_STEEPNESS), name="predicted_factor",
        rtol=FACTOR_RTOL, explain=("The factor is 81^(1/k): 81 = (0.9/0.1)^2 for k = 1, and "
                                   "doubling k takes a square root (81, 9, 3 for k = 1, 2, 4)."))


# ---- applied researcher: does the bootstrap interval cover the truth? ------------------------
COVERAGE_POINTS = (5, 9, 17)   # the sweep's family sizes (points per fitted curve)


def coverage_sweep(true_threshold: float, true_steepness: float, noise: float,
                   n_points: Sequence[int] = COVERAGE_POINTS, repeats: int = 12, n_boot: int = 40,
                   seed: int = 0) -> dict[int, np.ndarray]:
    """For each number of points: ``repeats`` families drawn from the known logistic (floor 0,
    ceiling 1, x from 1e3 to 1e5, Gaussian noise, noise seeds seed + 1000 + r), each refitted with
    a bootstrap; returns n -> (repeats, 2) threshold intervals [lo, hi]."""
    repeats = check_int("repeats", repeats, minimum=1)
    out = {}
    for n in n_points:
        xs = np.geomspace(1e3, 1e5, check_int("n_points", n, minimum=3))
        rows = []
        for r in range(repeats):
            shake = np.random.default_rng(seed + 1000 + r).normal(0, noise, n)
            ys = np.clip(logistic(xs, 0.0, 1.0, true_threshold, true_steepness) + shake, 0, 1)
            rows.append(fit_logistic(xs, ys, floor=0.0, ceil=1.0, n_boot=n_boot,
                                     seed=seed + r).intervals["threshold"])
        out[int(n)] = np.asarray(rows, dtype=float)
    return out


def undercovers(covered: int, repeats: int, nominal: float = 0.95) -> bool:
    """Is under-coverage shown? True when the 95% Wilson interval of the coverage
    (``covered`` of ``repeats``) lies entirely below ``nominal``."""
    return bool(wilson_interval(covered, repeats)[1] < nominal)


def coverage_verdict_reference(intervals: np.ndarray, truth: float) -> bool:
    """The verdict on "the 95% interval under-covers" from one sweep's (repeats, 2) intervals."""
    covered = round(coverage_reference(intervals, truth) * len(intervals))
    return undercovers(covered, len(intervals))


def check_coverage_verdict(answer: object, intervals: np.ndarray, truth: float) -> CheckResult:
    """Applied-researcher verdict on the fewest-points sweep."""
    covered = round(coverage_reference(intervals, truth) * len(intervals))
    lo, hi = wilson_interval(covered, len(intervals))
    return check_verdict(
        answer, coverage_verdict_reference(intervals, truth), name="undercover_verdict",
        explain=(f"{covered} of {len(intervals)} intervals contain the truth; the coverage's 95% "
                 f"Wilson interval is [{lo:.0%}, {hi:.0%}], and under-coverage is shown only "
                 f"when all of it lies below 95%."))


# ---- frontier researcher: predict the threshold from the points before it --------------------
EARLY_TOLERANCE = 1.5     # the target: within this factor of the true threshold
@dataclass(frozen=True)
class EarlyPrediction:
    """Refits on the first k points (k = 3, 4, ...): thresholds and intervals; the target is a
    threshold within ``tolerance`` (a factor) of the truth from points below it alone."""

    cutoffs: tuple[float, ...]          # the largest x used by each refit
    thresholds: tuple[float, ...]
    intervals: tuple[tuple[float, float], ...]
    truth: float
    tolerance: float

    def within(self) -> list[bool]:
        return [1 / self.tolerance <= t / self.truth <= self.tolerance for t in self.thresholds]

    @property
    def met(self) -> bool:
        """Some refit that used only points below the true threshold was within tolerance."""
        return any(ok and c < self.truth for ok, c in zip(self.within(), self.cutoffs,
                                                            strict=True))

    def sentence(self) -> str:
        before = [(c, t) for c, t in zip(self.cutoffs, self.thresholds, strict=True)
                  if c < self.truth]
        if self.met:
            c, t = next((c, t) for (c, t), ok in zip(zip(self.cutoffs, self.thresholds,
                                                         strict=True), self.within(), strict=True)
                        if ok and c < self.truth)
            return (f"Target met: the points up to x = {c:,.0f}, all below the threshold, "
                    f"predict it at {t:,.0f}, within a factor {self.tolerance:g} of the true "
                    f"{self.truth:,.0f}.")
        shown = ", ".join(f"{t:,.0f}" for _, t in before) or "no refit (too few points)"
        return (f"Target not met: from points below the threshold alone the refits give "
                f"{shown}, none within a factor {self.tolerance:g} of the true "
                f"{self.truth:,.0f}; the fit needs points past the midpoint.")


def early_prediction(x: Sequence[float], y: Sequence[float], truth: float, *,
                     tolerance: float = EARLY_TOLERANCE, n_boot: int = 50,
                     seed: int = 0) -> EarlyPrediction:
    """Refit the logistic (floor 0, ceiling 1) on the first k points of (x, y), x increasing, for
    every k >= 3."""
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1 or len(xs) < 3 or np.any(np.diff(xs) <= 0):
        raise ValueError(f"x and y must be 1-D of the same length >= 3 with x increasing, got "
                         f"shapes {xs.shape} and {ys.shape}")
    cutoffs, thresholds, intervals = [], [], []
    for k in range(3, len(xs) + 1):
        f = fit_logistic(xs[:k], ys[:k], floor=0.0, ceil=1.0, n_boot=n_boot, seed=seed)
        cutoffs.append(float(xs[k - 1]))
        thresholds.append(float(f.threshold))
        intervals.append(tuple(float(v) for v in f.intervals.get("threshold",
                                                                 (np.nan, np.nan))))
    return EarlyPrediction(tuple(cutoffs), tuple(thresholds), tuple(intervals), float(truth),
                           float(tolerance))
