"""The generic checker every chapter's exercises use."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class CheckResult:
    """Outcome of a check: ``passed`` (truthy when it passed), ``attempted`` and the message."""

    passed: bool
    attempted: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed


def _as_array(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _show_inputs(kwargs: Mapping[str, Any]) -> str:
    parts = []
    for k, v in kwargs.items():
        text = repr(_as_array(v).tolist()) if isinstance(v, np.ndarray | torch.Tensor) else repr(v)
        parts.append(f"{k}={text if len(text) < 60 else text[:57] + '...'}")
    return ", ".join(parts)


def check_function(student: Callable[..., Any], reference: Callable[..., Any],
                   cases: Sequence[Mapping[str, Any]], *, name: str, rtol: float = 1e-5,
                   atol: float = 1e-6, hints: Sequence[tuple[Callable[..., Any], str]] = (),
                   verbose: bool = True) -> CheckResult:
    """Call ``student(**case)`` and ``reference(**case)`` on each case and compare the results.

    hints: (wrong_function, advice) pairs: if the student's output matches a known wrong
    answer, the advice says which mistake it is. Prints the verdict; never raises.
    """

    def done(passed: bool, attempted: bool, message: str) -> CheckResult:
        if verbose:
            print(("✅ " if passed else ("⏳ " if not attempted else "❌ ")) + message)
        return CheckResult(passed, attempted, message)

    if not callable(student):
        return done(False, False, f"{name}: expected a function, got {type(student).__name__}.")
    for i, case in enumerate(cases, start=1):
        shown = _show_inputs(case)
        try:
            got = student(**case)
        except NotImplementedError:
            return done(False, False, f"{name}: not attempted yet — replace the "
                        "`raise NotImplementedError` with your code and run this cell again.")
        except Exception as err:  # noqa: BLE001 - the point is to report any failure plainly
            return done(False, True, f"{name} raised {type(err).__name__}: {err} "
                        f"(test {i} of {len(cases)}, inputs {shown}).")
        want = reference(**case)
        got_a, want_a = _as_array(got), _as_array(want)
        if got is None:
            return done(False, True, f"{name} returned None on test {i} ({shown}); "
                        "did you forget `return`?")
        if got_a.shape != want_a.shape:
            return done(False, True, f"{name} returned shape {got_a.shape} but the answer has "
                        f"shape {want_a.shape} (test {i}, inputs {shown}). Check which axis "
                        "you reduce over.")
        try:
            ok = np.allclose(got_a.astype(float), want_a.astype(float), rtol=rtol, atol=atol,
                             equal_nan=True)
        except (TypeError, ValueError):
            ok = bool(np.array_equal(got_a, want_a))
        if not ok:
            advice = ""
            for wrong, text in hints:
                try:
                    if np.allclose(_as_array(wrong(**case)).astype(float),
                                   got_a.astype(float), rtol=rtol, atol=atol):
                        advice = " Hint: " + text
                        break
                except Exception:  # noqa: BLE001 - a hint that does not apply is skipped
                    continue
            def shown_value(a: np.ndarray) -> list:
                return (a if a.dtype == bool else np.round(a.astype(float), 4)).tolist()

            return done(False, True, f"{name} gave {shown_value(got_a)} but the "
                        f"answer is {shown_value(want_a)} (test {i}, inputs {shown})."
                        + advice)
    return done(True, True, f"{name}: all {len(cases)} tests passed.")


def _done(passed: bool, attempted: bool, message: str, verbose: bool) -> CheckResult:
    if verbose:
        print(("✅ " if passed else ("⏳ " if not attempted else "❌ ")) + message)
    return CheckResult(passed, attempted, message)


def check_number(answer: Any, reference: float, *, name: str, rtol: float = 0.0,
                 atol: float = 0.0, unit: str = "", explain: str = "",
                 verbose: bool = True) -> CheckResult:
    """Compare a student's number (a prediction, a fitted value) with the run's.

    Passes when |answer - reference| <= atol + rtol * |reference|; ``answer`` None or
    Ellipsis means not attempted. ``explain`` is added to a failure (why the run says so).
    """
    if answer is None or answer is Ellipsis:
        return _done(False, False, f"{name}: not attempted yet — replace the `...` with your "
                     "number and run this cell again.", verbose)
    try:
        got = float(answer)
    except (TypeError, ValueError):
        return _done(False, True, f"{name}: expected a number, got {answer!r} "
                     f"({type(answer).__name__}).", verbose)
    want = float(reference)
    allowed = atol + rtol * abs(want)
    suffix = f" {unit}" if unit else ""
    tolerance = (f"within {rtol:.0%}" if rtol and not atol else f"within ±{allowed:.4g}{suffix}")
    if not np.isfinite(got):
        return _done(False, True, f"{name}: {got} is not a finite number.", verbose)
    if abs(got - want) <= allowed:
        return _done(True, True, f"{name}: {got:.4g}{suffix} is {tolerance} of the run's "
                     f"{want:.4g}{suffix}.", verbose)
    side = "high" if got > want else "low"
    return _done(False, True, f"{name}: {got:.4g}{suffix} is too {side}: the run gives "
                 f"{want:.4g}{suffix} and the answer must be {tolerance}."
                 + (f" {explain}" if explain else ""), verbose)


def check_verdict(answer: Any, reference: Any, *, name: str, allowed: Sequence[Any] = (True, False),
                  explain: str = "", verbose: bool = True) -> CheckResult:
    """Compare a student's verdict (True/False, or one of ``allowed`` labels) with the one the
    reference run's numbers give; None or Ellipsis means not attempted."""
    if answer is None or answer is Ellipsis:
        return _done(False, False, f"{name}: not attempted yet — set your verdict and run this "
                     "cell again.", verbose)
    if isinstance(answer, np.bool_):
        answer = bool(answer)
    if not any(type(answer) is type(a) and answer == a for a in allowed):
        return _done(False, True, f"{name}: {answer!r} is not a verdict; use one of "
                     f"{', '.join(repr(a) for a in allowed)}.", verbose)
    if answer == reference:
        return _done(True, True, f"{name}: {answer!r} agrees with the reference run.", verbose)
    return _done(False, True, f"{name}: you concluded {answer!r} but the reference run's numbers "
                 f"give {reference!r}." + (f" {explain}" if explain else ""), verbose)


def interval_above(interval: tuple[float, float], value: float, *, name: str = "interval") -> bool:
    """A verdict from an interval: True when all of (low, high) lies above ``value`` (e.g. a
    ratio's 95% interval above 1); a reversed interval is an error naming ``name``."""
    lo, hi = (float(v) for v in interval)
    if not lo <= hi:
        raise ValueError(f"{name} must be (low, high) with low <= high, got {interval!r}")
    return bool(lo > value)
