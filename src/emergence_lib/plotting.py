"""One house style and the figures every chapter draws: metric curves on log axes, a family
against size, a fitted logistic with its interval, and a frame-slider animation for the site."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._validate import as_1d_array, check_int
from .fit import LogisticFit

COLORS = ["#1f5aa6", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057"]

HOUSE_STYLE = {
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "axes.prop_cycle": plt.cycler(color=COLORS),
    "font.size": 10,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "animation.embed_limit": 20.0,  # MB of frames an animation may embed in a page
}


def use_house_style() -> None:
    """Apply the course's matplotlib style (call once at the top of a chapter)."""
    plt.rcParams.update(HOUSE_STYLE)


def plot_curves(x: object, curves: Mapping[str, object], *, ax: Axes | None = None,
                logx: bool = True, xlabel: str = "step", ylabel: str = "",
                title: str = "") -> Axes:
    """Several named curves over the same x (e.g. a History's steps), on a log x axis."""
    if ax is None:
        _, ax = plt.subplots()
    x = as_1d_array("x", x)
    shift = 1 if logx and (x <= 0).any() else 0  # step 0 on a log axis is drawn at step 1
    for name, y in curves.items():
        y = as_1d_array(name, y)
        if len(y) != len(x):
            raise ValueError(f"curve {name!r} has {len(y)} values but x has {len(x)}")
        ax.plot(x + shift, y, label=name)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel + (" + 1" if shift else ""))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_family(x: object, values: Mapping[str, object], *, ax: Axes | None = None,
                xlabel: str = "parameters", ylabel: str = "", title: str = "",
                markers: bool = True) -> Axes:
    """Metrics of a model family against size: scattered points plus the mean at each size."""
    if ax is None:
        _, ax = plt.subplots()
    x = as_1d_array("x", x, positive=True)
    for i, (name, y) in enumerate(values.items()):
        y = as_1d_array(name, y)
        if len(y) != len(x):
            raise ValueError(f"values {name!r} has {len(y)} entries but x has {len(x)}")
        color = COLORS[i % len(COLORS)]
        sizes = np.unique(x)
        means = np.array([y[x == s].mean() for s in sizes])
        if markers:
            ax.scatter(x, y, color=color, alpha=0.4, s=18)
        ax.plot(sizes, means, "-o", color=color, label=name)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend()
    return ax


def plot_logistic_fit(fit: LogisticFit, x: object, y: object, *, ax: Axes | None = None,
                      label: str = "data", color: str | None = None) -> Axes:
    """Points, the fitted logistic, the linear-in-log-x baseline and the threshold's interval."""
    if ax is None:
        _, ax = plt.subplots()
    x = as_1d_array("x", x, positive=True)
    y = as_1d_array("y", y)
    color = color or COLORS[0]
    grid = np.geomspace(x.min() / 1.5, x.max() * 1.5, 200)
    ax.scatter(x, y, color=color, alpha=0.6, s=20, label=label)
    ax.plot(grid, fit.predict(grid), color=color,
            label=f"logistic (R²={fit.r2:.3f}, k={fit.steepness:.2g})")
    ax.plot(grid, fit.linear.predict(grid), "--", color="gray",
            label=f"linear in log x (R²={fit.linear.r2:.3f})")
    ax.axvline(fit.threshold, color=color, lw=1, ls=":")
    if "threshold" in fit.intervals:
        lo, hi = fit.intervals["threshold"]
        ax.axvspan(lo, hi, color=color, alpha=0.12, label="threshold interval")
    ax.set_xscale("log")
    ax.legend()
    return ax


def frame_slider(draw: Callable[[Axes, int], None], n_frames: int, *,
                 figsize: tuple[float, float] = (6.0, 3.6), interval_ms: int = 400) -> str:
    """Render ``draw(ax, frame)`` for each frame into a self-contained HTML animation with a
    frame slider (no kernel, no internet): the static fallback for an interactive widget."""
    n_frames = check_int("n_frames", n_frames, minimum=1)
    fig: Figure
    fig, ax = plt.subplots(figsize=figsize)

    def update(frame: int) -> Sequence:
        ax.clear()
        draw(ax, frame)
        return []

    animation = FuncAnimation(fig, update, frames=n_frames, interval=interval_ms, blit=False)
    html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    return html
