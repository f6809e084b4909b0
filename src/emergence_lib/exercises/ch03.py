"""Checkers for chapter 3 (grokking): the key frequencies, a prediction of how much sooner a
stronger weight decay groks, the delay's exponent and the verdict on delay ~ 1 / weight decay."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .core import CheckResult, check_function, check_number, check_verdict


def top_frequencies_reference(spectrum: np.ndarray, n: int) -> np.ndarray:
    """The n strongest frequencies, strongest first; entry i of ``spectrum`` is frequency i + 1."""
    return np.argsort(-np.asarray(spectrum, dtype=float), kind="stable")[:n] + 1


def check_top_frequencies(student: Callable[[np.ndarray, int], np.ndarray]) -> CheckResult:
    """CS-student exercise: read the key frequencies off a Fourier spectrum."""
    cases = [
        {"spectrum": np.array([0.1, 3.0, 0.2, 5.0, 0.1]), "n": 2},
        {"spectrum": np.array([4.0, 0.5, 0.5, 0.5, 2.0, 0.1, 3.0]), "n": 3},
        {"spectrum": np.array([1.0, 2.0]), "n": 1},
    ]
    hints = [
        (lambda spectrum, n: np.argsort(-spectrum)[:n],
         "frequencies are 1-based: entry 0 of the spectrum is frequency 1 (add 1)."),
        (lambda spectrum, n: np.argsort(spectrum)[:n] + 1,
         "you took the weakest frequencies; sort in decreasing order."),
        (lambda spectrum, n: np.sort(np.argsort(-spectrum)[:n] + 1),
         "return them strongest first, not sorted by frequency."),
    ]
    return check_function(student, top_frequencies_reference, cases, name="top_frequencies",
                          hints=hints)


def delay_exponent_reference(weight_decays: np.ndarray, grok_steps: np.ndarray) -> float:
    """Slope of log(grokking step) against log(weight decay): -1 means step ~ 1 / weight decay."""
    return float(np.polyfit(np.log(weight_decays), np.log(grok_steps), 1)[0])


def check_delay_exponent(student: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """Applied-researcher exercise: the power law between weight decay and the grokking step."""
    cases = [
        {"weight_decays": np.array([0.1, 0.2, 0.4]), "grok_steps": np.array([4000., 2000., 1000.])},
        {"weight_decays": np.array([0.2, 0.3, 0.5, 1.0]),
         "grok_steps": np.array([2100., 1250., 800., 300.])},
    ]
    hints = [
        (lambda weight_decays, grok_steps: float(np.polyfit(weight_decays, grok_steps, 1)[0]),
         "fit in log-log coordinates: take np.log of both arrays first."),
        (lambda weight_decays, grok_steps: float(
            np.polyfit(np.log(grok_steps), np.log(weight_decays), 1)[0]),
         "you regressed weight decay on the step; put log(weight decay) on the x axis."),
    ]
    return check_function(student, delay_exponent_reference, cases, name="delay_exponent",
                          rtol=1e-4, hints=hints)


# ---- CS student: predict how much sooner a stronger weight decay groks -----------------------
SPEEDUP_DECAYS = (0.5, 2.0)      # the grid runs compared, at the delay sweep's train fraction
SPEEDUP_RTOL = 0.25


def speedup_reference(grid: dict) -> float:
    """Grokking step of the grid run at weight decay 0.5 over the one at 2.0 (train fraction
    DELAY_TRAIN_FRAC): how many times sooner the stronger decay generalizes."""
    from ..recipes.grokking import DELAY_TRAIN_FRAC, grokking_report

    slow, fast = (grokking_report(grid[(wd, DELAY_TRAIN_FRAC)]).grokked_step
                  for wd in SPEEDUP_DECAYS)
    if slow is None or fast is None:
        return float("nan")
    return float(slow / fast)


def check_speedup_prediction(answer: object, grid: dict) -> CheckResult:
    """CS-student prediction: the factor by which 4x the weight decay brings grokking sooner."""
    reference = speedup_reference(grid)
    return check_number(
        answer, reference, name="predicted_speedup", rtol=SPEEDUP_RTOL,
        explain=("If the grokking step were proportional to 1 / weight decay the factor would "
                 "be 4; the run shows less, because memorization itself takes longer at strong "
                 "weight decay and only the delay after it shrinks like 1 / weight decay (the "
                 "applied-researcher exercise measures it)."))


# ---- applied researcher: is the delay's exponent -1? -----------------------------------------
@dataclass(frozen=True)
class DelayFit:
    """Slope of log(delay) on log(weight decay), its 95% bootstrap interval (resampling the
    seeds within each weight decay) and whether -1 lies inside it."""

    exponent: float
    interval: tuple[float, float]
    n_runs: int
    n_boot: int

    @property
    def consistent(self) -> bool:
        """The hypothesis delay ~ 1 / weight decay: -1 inside the interval."""
        return bool(self.interval[0] <= -1.0 <= self.interval[1])

    def sentence(self) -> str:
        lo, hi = self.interval
        return (f"The delay scales like weight decay^{self.exponent:.2f} (95% bootstrap "
                f"interval [{lo:.2f}, {hi:.2f}] over seeds, {self.n_runs} runs, {self.n_boot} "
                f"resamples): -1 is {'inside' if self.consistent else 'outside'} it, so the "
                f"runs {'are consistent with' if self.consistent else 'reject'} a delay "
                f"proportional to 1 / weight decay.")


def delay_fit(weight_decays: Sequence[float], delays: Sequence[float], *, n_boot: int = 200,
              seed: int = 0) -> DelayFit:
    """The exponent of delay ~ weight_decay^b on (N,) runs, with a bootstrap that resamples the
    runs within each weight decay (so every resample keeps every decay)."""
    wd = np.asarray(weight_decays, dtype=float)
    dl = np.asarray(delays, dtype=float)
    if wd.shape != dl.shape or wd.ndim != 1 or len(np.unique(wd)) < 2:
        raise ValueError(f"weight_decays and delays must be 1-D of the same length with at least "
                         f"2 distinct weight decays, got shapes {wd.shape} and {dl.shape}")
    if not (np.all(wd > 0) and np.all(dl > 0)):
        raise ValueError("weight_decays and delays must be positive (a log-log fit)")
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(wd == w) for w in np.unique(wd)]
    slopes = []
    for _ in range(n_boot):
        idx = np.concatenate([rng.choice(g, len(g)) for g in groups])
        slopes.append(delay_exponent_reference(wd[idx], dl[idx]))
    lo, hi = np.percentile(slopes, [2.5, 97.5]) if slopes else (np.nan, np.nan)
    return DelayFit(delay_exponent_reference(wd, dl), (float(lo), float(hi)), len(wd), n_boot)


def check_delay_verdict(answer: object, fit: DelayFit) -> CheckResult:
    """Applied-researcher verdict: True if the runs are consistent with delay ~ 1/weight decay."""
    lo, hi = fit.interval
    return check_verdict(
        answer, fit.consistent, name="delay_verdict",
        explain=(f"The reference run's exponent is {fit.exponent:.2f} with 95% interval "
                 f"[{lo:.2f}, {hi:.2f}]; the hypothesis holds only if -1 is inside it."))
