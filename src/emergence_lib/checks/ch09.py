"""Chapter 9's criterion: the structural task's sweep spans unsolved (at chance) and solved
(>= 90%) configurations, the logistic fit and the predictor comparison were computed from the
run, and the sentence the chapter prints about G (does it separate solved from unsolved
configurations by more than its seed-to-seed spread?) is the one the numbers give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._validate import as_1d_array, check_float
from . import Verdict, verdict

AT_CHANCE = 0.10  # "at chance": accuracy within 10 points of the chance level
SOLVED = 0.90     # "solved": accuracy at least 90%


def g_separation(g_solved: float, g_unsolved: float, seed_spread: float) -> tuple[bool, str]:
    """Does the mean chance-corrected G of solved configurations differ from that of unsolved
    ones by more than G's seed-to-seed spread? -> (separates, the sentence that says so)."""
    solved = check_float("g_solved", g_solved)
    unsolved = check_float("g_unsolved", g_unsolved)
    spread = check_float("seed_spread", seed_spread, minimum=0.0)
    gap = solved - unsolved
    separates = abs(gap) > spread
    sentence = (f"G separates solved from unsolved configurations: their means differ by "
                f"{gap:+.2f}, more than its seed-to-seed spread of {spread:.2f}."
                if separates else
                f"G does not separate solved from unsolved configurations: their means differ "
                f"by {gap:+.2f}, within its seed-to-seed spread of {spread:.2f}.")
    return separates, sentence


def lab_verdict(accuracies: Sequence[float], chance: float, threshold: float,
                loo_r2: Mapping[str, float], g_solved: float, g_unsolved: float,
                g_seed_spread: float,
                g_sentence: str) -> Verdict:
    """accuracies: final test accuracy of every configuration of the structural sweep; chance:
    the task's chance accuracy; threshold: the fitted logistic threshold (NaN if no fit);
    loo_r2: predictor name -> leave-one-out R²; the mean G of solved / unsolved configurations,
    its seed-to-seed spread, and the sentence the chapter printed about it."""
    acc = as_1d_array("accuracies", accuracies, min_len=2)
    threshold = float("nan") if threshold is None else float(threshold)
    chance = check_float("chance", chance, minimum=0.0, maximum=1.0)
    if not isinstance(loo_r2, Mapping):
        raise TypeError(f"loo_r2 must map predictor names to leave-one-out R², got "
                        f"{type(loo_r2).__name__}")
    r2 = {str(k): float(v) for k, v in loo_r2.items()}
    finite = {k: v for k, v in r2.items() if np.isfinite(v)}
    separates, expected = g_separation(g_solved, g_unsolved, g_seed_spread)
    lowest, highest = float(acc.min()), float(acc.max())
    best = max(finite, key=finite.get) if finite else None
    conditions = {
        "configurations at chance": (lowest <= chance + AT_CHANCE,
                                     f"the least accurate configuration reached {lowest:.0%}, "
                                     f"more than {AT_CHANCE:.0%} above chance ({chance:.0%})"),
        "configurations solved": (highest >= SOLVED,
                                  f"the most accurate configuration reached {highest:.0%}, "
                                  f"below {SOLVED:.0%}"),
        "logistic fit": (bool(np.isfinite(threshold)),
                         f"the logistic threshold is {threshold}, not a fitted number"),
        "predictors compared": (len(finite) >= 2,
                                f"only {len(finite)} predictor(s) have a finite leave-one-out "
                                f"R² ({r2}); the comparison needs at least two"),
        "G sentence": (g_sentence == expected,
                       f"the chapter printed {g_sentence!r}, the numbers say {expected!r}"),
    }
    sentence = (f"The structural sweep runs from {lowest:.0%} (chance {chance:.0%}) to "
                f"{highest:.0%}; "
                + (f"of the predictors, {best} predicts held-out configurations best "
                   f"(leave-one-out R² {finite[best]:.2f}). " if best else
                   "no predictor has a finite leave-one-out R². ")
                + expected)
    numbers = {"lowest": lowest, "highest": highest, "chance": chance,
               "threshold": float(threshold), "g_separates": float(separates),
               **{f"loo_r2[{k}]": v for k, v in r2.items()}}
    return verdict(conditions, sentence, numbers)
