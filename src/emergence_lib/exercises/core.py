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
