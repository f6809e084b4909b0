"""Find a transition in a curve: where it starts, how sharp it is, and how far a progress
measure leads the visible metric.

Noisy, oscillating curves (an accuracy that leaves chance, falls back, and leaves again) fool a
crossing read off the raw points: a single dip back to chance pushes a "sustained" onset past the
whole oscillation. ``smooth=w`` (opt-in everywhere; the default 1 is the raw curve) reads the
crossings off the centred running median of ``w`` points instead (``running_median``): isolated
dips and spikes of fewer than ``w // 2 + 1`` points vanish, while a monotone curve, and so a
clean step, is left exactly as it is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_1d_array, check_choice, check_float, check_int, check_same_length


def _curve(x: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    x = as_1d_array("x", x, min_len=2)
    y = as_1d_array("y", y, min_len=2)
    check_same_length(x=x, y=y)
    if (np.diff(x) <= 0).any():
        i = int(np.flatnonzero(np.diff(x) <= 0)[0])
        raise ValueError(f"x must be strictly increasing, got x[{i}]={x[i]} then "
                         f"x[{i + 1}]={x[i + 1]}")
    return x, y


def running_median(y: object, window: int) -> np.ndarray:
    """Centred running median of ``window`` (odd) points, (T,) -> (T,); near the ends the window
    shrinks symmetrically (radius min(window // 2, i, T - 1 - i)), so a monotone y is unchanged."""
    y = as_1d_array("y", y)
    window = check_int("window", window, minimum=1)
    if window % 2 == 0:
        raise ValueError(f"window must be odd (a centred median), got {window}")
    h, T = window // 2, len(y)
    out = y.copy()
    if h == 0 or T < 3:
        return out
    if T > 2 * h:
        out[h:T - h] = np.median(np.lib.stride_tricks.sliding_window_view(y, window), axis=-1)
    for i in [*range(min(h, T)), *range(max(T - h, h), T)]:  # the ends: shrinking windows
        r = min(h, i, T - 1 - i)
        out[i] = np.median(y[i - r:i + r + 1])
    return out


def _smoothed(y: np.ndarray, smooth: int) -> np.ndarray:
    smooth = check_int("smooth", smooth, minimum=1)
    return y if smooth == 1 else running_median(y, smooth)


def first_crossing(x: object, y: object, level: float, direction: str = "up",
                   sustained: bool = False) -> float | None:
    """The x where y first reaches ``level`` (``direction`` "up": y >= level; "down": y <= level),
    interpolated linearly between samples; None if it never does. With ``sustained``, the first x
    after which y stays past the level."""
    x, y = _curve(x, y)
    level = check_float("level", level)
    check_choice("direction", direction, ["up", "down"])
    past = y >= level if direction == "up" else y <= level
    if not past.any():
        return None
    if sustained:
        if not past[-1]:
            return None
        before = np.flatnonzero(~past)
        i = 0 if len(before) == 0 else int(before[-1]) + 1
    else:
        i = int(np.argmax(past))
    if i == 0:
        return float(x[0])
    x0, x1, y0, y1 = x[i - 1], x[i], y[i - 1], y[i]
    return float(x0 + (level - y0) / (y1 - y0) * (x1 - x0)) if y1 != y0 else float(x1)


@dataclass(frozen=True)
class Transition:
    """A change from level ``start`` to level ``end``: x at 10%, 50% and 90% of the way."""

    direction: str
    start: float
    end: float
    onset: float
    midpoint: float
    finish: float

    @property
    def width(self) -> float:
        """x between 10% and 90% of the change."""
        return self.finish - self.onset

    @property
    def relative_width(self) -> float:
        """Width over the midpoint: small values mean an abrupt change."""
        return self.width / self.midpoint if self.midpoint > 0 else float("inf")

    @property
    def log_width(self) -> float:
        """Decades of x between 10% and 90% of the change (inf if the onset is at x <= 0)."""
        return float(np.log10(self.finish / self.onset)) if self.onset > 0 else float("inf")


# Where a transition's onset, midpoint and finish are read: these fractions of the way from
# the start level to the end level.
TRANSITION_FRACTIONS = (0.1, 0.5, 0.9)


def detect_transition(x: object, y: object, *, start: float | None = None,
                      end: float | None = None, min_change: float = 0.0,
                      sustained: bool = True, smooth: int = 1) -> Transition | None:
    """Locate the change of y along x. Levels default to the mean of the first and last three
    (raw) points; returns None when the curve changes by less than ``min_change`` or never
    settles. ``smooth`` > 1 (odd): find the 10/50/90% crossings on ``running_median(y, smooth)``,
    robust to dips and spikes shorter than ``smooth // 2 + 1`` points."""
    x, y = _curve(x, y)
    if len(x) < 3:
        raise ValueError(f"x and y need at least 3 points to locate a transition, got {len(x)}")
    k = min(3, len(y) // 2 or 1)
    start = float(y[:k].mean()) if start is None else check_float("start", start)
    end = float(y[-k:].mean()) if end is None else check_float("end", end)
    min_change = check_float("min_change", min_change, minimum=0.0)
    if abs(end - start) <= min_change or end == start:
        return None
    direction = "up" if end > start else "down"
    smoothed = _smoothed(y, smooth)
    marks = []
    for frac in TRANSITION_FRACTIONS:
        at = first_crossing(x, smoothed, start + frac * (end - start), direction, sustained)
        if at is None:
            return None
        marks.append(at)
    onset, midpoint, finish = marks
    finish = max(finish, midpoint)
    onset = min(onset, midpoint)
    return Transition(direction, start, end, onset, midpoint, finish)


def lead(x: object, progress: object, metric: object, *, fraction: float = 0.1,
         smooth: int = 1) -> float | None:
    """How many x-units (e.g. steps) the ``progress`` curve's onset comes before the ``metric``
    curve's (positive: progress moves first). Onset = first sustained ``fraction`` of each
    curve's own change (levels from the first and last three raw points), read off
    ``running_median(curve, smooth)`` when ``smooth`` > 1; None if either curve has no
    transition."""
    fraction = check_float("fraction", fraction, minimum=0.0, maximum=1.0, strict_min=True,
                           strict_max=True)
    onsets = []
    for curve in (progress, metric):
        xs, ys = _curve(x, curve)
        k = min(3, len(ys) // 2 or 1)
        a, b = float(ys[:k].mean()), float(ys[-k:].mean())
        if a == b:
            return None
        at = first_crossing(xs, _smoothed(ys, smooth), a + fraction * (b - a),
                            "up" if b > a else "down", sustained=True)
        if at is None:
            return None
        onsets.append(at)
    return onsets[1] - onsets[0]


def sustained_onset(x: object, y: object, level: float, *, direction: str = "up",
                    smooth: int = 11) -> float | None:
    """The first x after which the running median of ``smooth`` points of y stays past ``level``
    (e.g. above a chance band), interpolated; None if it does not stay there to the end."""
    x, y = _curve(x, y)
    return first_crossing(x, _smoothed(y, smooth), level, direction, sustained=True)
