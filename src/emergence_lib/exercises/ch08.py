"""Checkers for chapter 8 (silent alignment): the student's kernel alignment and the student's
prediction of a mode's learning time, against the library's, with plain-words hints."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..progress.ntk import kernel_alignment
from ..recipes.silent_alignment import saxe_learning_time
from .core import CheckResult, check_function


def _alignment_cases() -> list[dict]:
    gen = torch.Generator().manual_seed(8)
    y = torch.randn(6, generator=gen)
    A = torch.randn(6, 6, generator=gen)
    return [{"K": torch.outer(y, y), "y": y}, {"K": A @ A.T, "y": y},
            {"K": torch.eye(6) * 3.0, "y": torch.ones(6)}]


def check_alignment(student: Callable[[torch.Tensor, torch.Tensor], float]) -> CheckResult:
    """CS-student exercise: A = y^T K y / (||K||_F |y|^2)."""
    hints = [
        (lambda K, y: float(y @ K @ y / (torch.linalg.matrix_norm(K) * y.norm())),
         "divide by |y|^2 (the squared norm), not |y|: then K = y y^T gives exactly 1."),
        (lambda K, y: float(y @ K @ y / (K.trace() * (y @ y))),
         "normalise by the Frobenius norm ||K||_F = sqrt(sum K_ij^2), not the trace."),
        (lambda K, y: float(y @ K @ y), "normalise: divide by ||K||_F |y|^2 so that A does not "
         "depend on the kernel's or the targets' scale."),
    ]
    return check_function(student, lambda K, y: kernel_alignment(K, y), _alignment_cases(),
                          name="alignment", rtol=1e-4, atol=1e-6, hints=hints)


def _time_cases() -> list[dict]:
    return [{"s": 2.0, "u0": 1e-3}, {"s": 0.5, "u0": 1e-4}, {"s": 4.0, "u0": 0.1}]


def check_learning_time(student: Callable[[float, float], float]) -> CheckResult:
    """Applied-researcher exercise: the time a mode takes from u0 to s / 2 (tau = 1)."""
    hints = [
        (lambda s, u0: 1 / s, "1/s is the order of magnitude; the exact half-time also has the "
         "factor ln((s - u0) / u0) / 2 from solving u(t) = s / 2."),
        (lambda s, u0: torch.log(torch.tensor(s / u0)).item() / s,
         "the exponent of the closed form is 2st: the time is (1 / 2s) ln(...), half of this."),
    ]
    return check_function(student, lambda s, u0: saxe_learning_time(s, u0), _time_cases(),
                          name="learning_time", rtol=1e-4, atol=1e-6, hints=hints)
