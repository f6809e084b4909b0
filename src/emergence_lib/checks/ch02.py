"""Chapter 2 (the metric mirage): where the sharpening of exact match comes from, and whether the
smooth metrics are smooth. Plain numbers in, a Verdict out (see ``emergence_lib.checks``).

The sharpening is measured in steepness k of the logistic in log-size (floor and ceiling fixed
at chance and perfect), from per-token accuracy (the average p of the L positions) to exact
match, in three steps, each a curve fitted alike to the same models:

1. the metric: p -> p**L, the all-or-nothing power applied to the measured average (what the
   mirage argument predicts from per-token accuracy alone);
2. the weakest link: p**L -> prod_i p_i, the same power applied to the actual, uneven positions;
3. dependence: prod_i p_i -> measured exact match (zero when positions err independently).

Each step's share is its part of ln(k_exact / k_token); the three add up to 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from . import Verdict, verdict

SHARPER = 2.0        # exact match counts as sharper when k_exact >= 2 x k_token (and a position
                     # counts as sharp when its own k >= 2 x k_token)
MAX_GAP = 0.02       # prod_i p_i must match measured exact match within this, for every model
SHARE_COUNTS = 0.2   # a cause counts when it accounts for at least a fifth of ln(k_exact/k_token)
LEAD = 0.2           # ... and it is *the* cause when its share exceeds the other's by this much
SMOOTH_LINEAR_R2 = 0.9  # a smooth metric: a line in log-size fits it with R^2 >= 0.9, or ...
SMOOTH_MAX_RATIO = 1.0 / SHARPER  # ... its k is at most half of exact match's
CAUSES = ("metric", "weakest link", "both", "neither")


@dataclass(frozen=True)
class Shares:
    """Shares of ln(k_exact / k_token) taken by the metric, the weakest link and dependence."""

    metric: float
    weakest_link: float
    dependence: float


def _positive(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise TypeError(f"{name} must be a positive number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0 (a fitted steepness), got {value}")
    return value


def sharpening_shares(k_token: float, k_power: float, k_product: float,
                      k_exact: float) -> Shares:
    """Split ln(k_exact / k_token) into metric, weakest link and dependence (module docstring).
    Needs k_exact > k_token: with no sharpening there is nothing to share out."""
    k_token, k_power, k_product, k_exact = (
        _positive(n, v) for n, v in (("k_token", k_token), ("k_power", k_power),
                                     ("k_product", k_product), ("k_exact", k_exact)))
    total = math.log(k_exact / k_token)
    if total <= 0:
        raise ValueError(f"k_exact must be > k_token to share out a sharpening, got k_exact = "
                         f"{k_exact} and k_token = {k_token}")
    return Shares(metric=math.log(k_power / k_token) / total,
                  weakest_link=math.log(k_product / k_power) / total,
                  dependence=math.log(k_exact / k_product) / total)


def cause(shares: Shares) -> str:
    """'metric' or 'weakest link' when that share reaches SHARE_COUNTS and leads the other's by
    LEAD, 'both' when both reach SHARE_COUNTS and neither leads, else 'neither'."""
    metric, link = shares.metric, shares.weakest_link
    if metric >= SHARE_COUNTS and metric >= link + LEAD:
        return "metric"
    if link >= SHARE_COUNTS and link >= metric + LEAD:
        return "weakest link"
    return "both" if min(metric, link) >= SHARE_COUNTS else "neither"


def _pct(share: float) -> str:
    """A share as a whole percentage, without a '-0%'."""
    return f"{0.0 if abs(share) < 0.005 else share:.0%}"


def _explained(found: str, shares: Shares) -> str:
    """What the cause means, in words that fit its numbers."""
    if found == "metric":
        rest = "little" if shares.weakest_link < SHARE_COUNTS else "the smaller part"
        return ("mostly the metric's doing: the power L steepens the measured average's rise, "
                f"and the uneven positions add {rest}")
    if found == "weakest link":
        rest = "little" if shares.metric < SHARE_COUNTS else "the smaller part"
        return ("mostly the weakest link's doing: exact match waits for the last position to "
                f"switch on, and the power L of the average adds {rest}")
    if found == "both":
        return ("the doing of both: the power L of the metric and the uneven positions (the "
                "weakest link) each account for a comparable part")
    return ("neither the power L nor the uneven positions' doing: together they do not account "
            "for it")


def sharpening_verdict(label: str, *, k_token: float, k_power: float,
                       k_product: float, k_exact: float, k_positions: Sequence[float],
                       max_gap: float, expected: str, sharp_positions: bool) -> Verdict:
    """Where a family's exact-match sharpening comes from, and whether that is ``expected``
    (one of CAUSES) with ``sharp_positions`` (some position's own k >= SHARPER x k_token)."""
    if expected not in CAUSES:
        raise ValueError(f"expected must be one of {list(CAUSES)}, got {expected!r}")
    if not isinstance(sharp_positions, bool):
        raise TypeError(f"sharp_positions must be True or False, got {sharp_positions!r}")
    positions = np.asarray(k_positions, dtype=float)
    if positions.ndim != 1 or positions.size == 0 or np.isinf(positions).any():
        raise ValueError(f"k_positions must be a non-empty 1-D sequence of steepnesses (NaN for "
                         f"a position that never moves), got {k_positions!r}")
    max_gap = float(max_gap)
    if not math.isfinite(max_gap) or max_gap < 0:
        raise ValueError(f"max_gap must be a finite number >= 0, got {max_gap}")
    k_token, k_exact = _positive("k_token", k_token), _positive("k_exact", k_exact)
    ratio = k_exact / k_token
    k_sharpest = float(np.nanmax(positions)) if np.isfinite(positions).any() else 0.0
    positions_sharp = k_sharpest >= SHARPER * k_token
    numbers = {"k_token": k_token, "k_exact": k_exact, "ratio": ratio, "max_gap": max_gap,
               "k_sharpest_position": k_sharpest}
    position_text = (f"the sharpest single position has k = {k_sharpest:.2f}, "
                     f"{k_sharpest / k_token:.1f} times the average's"
                     + ("" if positions_sharp else ", so no position jumps on its own"))
    if ratio <= 1.0:
        found = "none"
        sentence = (f"On {label}, exact match is not steeper than per-token accuracy (k = "
                    f"{k_exact:.2f} vs {k_token:.2f}): there is no sharpening to explain; "
                    f"{position_text}.")
        dependence = math.nan
    else:
        shares = sharpening_shares(k_token, k_power, k_product, k_exact)
        found = cause(shares)
        dependence = shares.dependence
        numbers.update(metric_share=shares.metric, link_share=shares.weakest_link,
                       dependence_share=shares.dependence)
        sentence = (f"On {label}, exact match is {ratio:.1f} times as steep as per-token "
                    f"accuracy (k = {k_exact:.2f} vs {k_token:.2f}); the power L of the metric "
                    f"accounts for {_pct(shares.metric)} of that sharpening, the uneven "
                    f"positions (the weakest link) for {_pct(shares.weakest_link)} and "
                    f"dependence between positions for {_pct(shares.dependence)}, so the "
                    f"sharpening is {_explained(found, shares)}; {position_text}.")
    conditions = {
        "sharpening": (ratio >= SHARPER, f"k_exact / k_token = {ratio:.2f} < {SHARPER}"),
        "independence": (max_gap <= MAX_GAP and abs(dependence) < SHARE_COUNTS,
                         f"the product of positions misses exact match by up to {max_gap:.4f} "
                         f"(allowed {MAX_GAP}) or dependence takes {dependence:.0%} of the "
                         f"sharpening (allowed < {SHARE_COUNTS:.0%})"),
        "cause": (found == expected, f"the sharpening is the {found}'s, expected {expected}"),
        "positions": (positions_sharp == sharp_positions,
                      f"sharpest position k = {k_sharpest:.2f} vs {SHARPER} x k_token = "
                      f"{SHARPER * k_token:.2f}: expected "
                      f"{'a sharp' if sharp_positions else 'no sharp'} position"),
    }
    return verdict(conditions, sentence, numbers)


def smooth_metrics_verdict(k_exact: float, smooth: Mapping[str, tuple[float, float]]) -> Verdict:
    """Whether exact match is sharper than every smooth metric {name: (k, R^2 of a line in
    log-size)}: each needs line R^2 >= SMOOTH_LINEAR_R2 or k <= SMOOTH_MAX_RATIO x k_exact."""
    k_exact = _positive("k_exact", k_exact)
    if not smooth:
        raise ValueError("smooth must name at least one metric: {name: (k, line R^2)}")
    conditions, worst = {}, []
    for name, (k, line_r2) in smooth.items():
        k, line_r2 = _positive(f"smooth[{name!r}] steepness", k), float(line_r2)
        ok = line_r2 >= SMOOTH_LINEAR_R2 or k <= SMOOTH_MAX_RATIO * k_exact
        conditions[name] = (ok, f"line R^2 {line_r2:.3f} < {SMOOTH_LINEAR_R2} and k = {k:.2f} > "
                                f"{SMOOTH_MAX_RATIO * k_exact:.2f}")
        if not ok:
            worst.append(name)
    k_max = max(k for k, _ in smooth.values())
    if worst:
        sentence = (f"Not every smooth metric is smooth: {', '.join(worst)} "
                    f"{'is' if len(worst) == 1 else 'are'} neither close to a line in log-size "
                    f"nor clearly gentler than exact match (k = {k_exact:.2f}).")
    else:
        sentence = (f"Every smooth metric is smooth: the steepest has k = {k_max:.2f} against "
                    f"exact match's {k_exact:.2f} ({k_exact / k_max:.1f} times), and each is "
                    f"fitted by a line in log-size with R² >= {SMOOTH_LINEAR_R2} or is at most "
                    f"half as steep as exact match.")
    return verdict(conditions, sentence, {"k_exact": k_exact, "k_smooth_max": k_max})
