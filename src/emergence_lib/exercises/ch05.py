"""Checkers for chapter 5 (sparse parity and hidden progress)."""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np
import torch

from ..progress.parity import secret_weight_ratio
from .core import CheckResult, check_function, check_number, check_verdict


def chance_and_subsets_reference(n: int, k: int) -> tuple[float, int]:
    """Accuracy of guessing on a ±1 parity label, and the number of candidate secrets C(n, k)."""
    return 0.5, comb(n, k)


def check_chance_and_subsets(student: Callable[[int, int], tuple[float, int]]) -> CheckResult:
    """CS-student exercise: the chance baseline and the size of the search space."""
    cases = [{"n": 10, "k": 2}, {"n": 50, "k": 3}, {"n": 30, "k": 1}, {"n": 20, "k": 4}]
    hints = [
        (lambda n, k: (0.5, n**k), "n**k counts ordered picks with repeats; a secret is a set "
         "of k distinct coordinates: math.comb(n, k)."),
        (lambda n, k: (0.5, 2**n), "2**n counts every input, not every candidate secret."),
        (lambda n, k: (1 / 2**k, comb(n, k)), "the label is one ±1 bit whatever k is: guessing "
         "gets it right half the time."),
    ]
    return check_function(student, chance_and_subsets_reference, cases,
                          name="chance_and_subsets", hints=hints)


def secret_mass_reference(w: torch.Tensor, secret: torch.Tensor) -> float:
    """Mean |w| over the secret columns divided by mean |w| over the other columns."""
    return secret_weight_ratio(w, secret)


def check_secret_mass(student: Callable[[torch.Tensor, torch.Tensor], float]) -> CheckResult:
    """Applied-researcher exercise: the weight mass on the secret coordinates vs the others."""
    gen = torch.Generator().manual_seed(5)
    w = torch.randn(16, 10, generator=gen)
    w_learned = w.clone()
    w_learned[:, [1, 4, 7]] *= 3
    cases = [
        {"w": w, "secret": torch.tensor([1, 4, 7])},
        {"w": w_learned, "secret": torch.tensor([1, 4, 7])},
        {"w": torch.randn(8, 6, generator=gen), "secret": torch.tensor([0, 5])},
    ]

    def _split(w, secret):
        other = torch.ones(w.shape[1], dtype=torch.bool)
        other[secret] = False
        return w[:, ~other], w[:, other]

    hints = [
        (lambda w, secret: float(_split(w, secret)[0].abs().sum() / _split(w, secret)[1].abs()
                                 .sum()),
         "you compared sums; there are k secret columns and n - k others, so compare means."),
        (lambda w, secret: float(_split(w, secret)[0].mean() / _split(w, secret)[1].mean()),
         "take absolute values first: positive and negative weights both carry mass."),
        (lambda w, secret: float(_split(w, secret)[0].abs().mean() / w.abs().mean()),
         "divide by the mean over the *other* columns, not over all of them."),
    ]
    return check_function(student, secret_mass_reference, cases, name="secret_mass",
                          rtol=1e-4, hints=hints)


def predicted_steps(ns: np.ndarray, steps: np.ndarray, n_new: float) -> float:
    """Steps predicted at ``n_new`` by the power law fitted to (ns, steps) in log-log."""
    slope, intercept = np.polyfit(np.log(ns), np.log(steps), 1)
    return float(np.exp(intercept + slope * np.log(n_new)))


# --- CS student: a prediction checked against the sweep ---

GROWTH_RTOL = 0.4   # the predicted growth factor counts when within 40% of the sweep's

def check_growth_prediction(answer: object, median_from: float, median_to: float, *,
                            n_from: int = 20, n_to: int = 40, k: int = 3) -> CheckResult:
    """CS-student prediction: the factor by which the median steps to solve grew from
    ``n_from`` to ``n_to`` in the sweep, within GROWTH_RTOL."""
    return check_number(
        answer, median_to / median_from, name="predicted_growth", rtol=GROWTH_RTOL,
        explain=f"The number of candidate secrets grows {comb(n_to, k) / comb(n_from, k):.1f}x, "
                f"but SGD does not try candidates one at a time: every step moves all the "
                f"weights, and the signal that singles out the secret shrinks only as a power "
                f"of n. Look at the sweep's printed medians for k = {k}.")


# --- applied researcher: does the time to solve scale as 1 / learning rate? ---

def inverse_lr_supported(interval: tuple[float, float]) -> bool:
    """Is "steps to solve ~ 1 / lr" supported? True when the slope's interval (log steps
    against log lr) contains -1 and excludes 0 (a dependence, of the claimed size)."""
    lo, hi = interval
    return bool(lo <= -1.0 <= hi and hi < 0.0)


def check_lr_verdict(answer: object, cache_dir: str | None = ".cache") -> CheckResult:
    """Applied-researcher verdict on "steps to solve ~ 1 / lr", against the reference sweep
    ``recipes.parity.lr_sweep`` (loaded from ``cache_dir`` when it has run there)."""
    from ..recipes import parity

    if answer is None or answer is Ellipsis:       # no reference run needed to say so
        return check_verdict(answer, None, name="verdict")
    runs = parity.lr_sweep(progress=False, cache_dir=cache_dir)
    solve = [np.nan_to_num(run.solve_steps(), nan=np.inf) for run in runs.values()]
    _, lo, hi = parity.slope_interval(list(runs), solve)
    return check_verdict(
        answer, inverse_lr_supported((lo, hi)), name="verdict",
        explain=f"The reference sweep's slope interval is [{lo:.2f}, {hi:.2f}]: 1 / lr is "
                f"supported only when it contains -1 and lies below 0.")


# --- frontier researcher: did an estimator meet the target? ---

def within_target(predicted: float, observed: float, tolerance: float) -> bool:
    """True when ``predicted`` is within ``tolerance`` (relative) of ``observed``."""
    return bool(np.isfinite(predicted) and observed > 0
                and abs(predicted - observed) <= tolerance * observed)
