"""Checkers for chapter 3 (grokking)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .core import CheckResult, check_function


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
