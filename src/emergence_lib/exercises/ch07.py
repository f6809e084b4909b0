"""Checkers for chapter 7 (toy models of superposition): the student's forward pass and
dimensionality measure against the library's, on fixed inputs, with plain-words hints."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..progress.superposition import feature_dimensionality
from .core import CheckResult, check_function


def toy_forward_reference(W: torch.Tensor, b: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """x' = ReLU(W^T W x + b) for a batch: W (m, n), b (n,), x (B, n) -> (B, n)."""
    return torch.relu(x @ W.T @ W + b)


def _forward_cases() -> list[dict]:
    gen = torch.Generator().manual_seed(7)
    cases = []
    for m, n, B in ((2, 5, 4), (3, 3, 2), (1, 2, 6)):
        W = torch.randn(m, n, generator=gen)
        b = torch.randn(n, generator=gen) * 0.3 - 0.1
        x = torch.rand(B, n, generator=gen) * (torch.rand(B, n, generator=gen) < 0.5)
        cases.append({"W": W, "b": b, "x": x})
    return cases


def check_toy_forward(student: Callable[[torch.Tensor, torch.Tensor, torch.Tensor],
                                         torch.Tensor]) -> CheckResult:
    """CS-student exercise: the toy model's forward pass on fixed W, b and sparse x."""
    hints = [
        (lambda W, b, x: x @ W.T @ W + b, "the output has negative entries: apply the ReLU "
         "after adding the bias, x' = ReLU(W^T W x + b)."),
        (lambda W, b, x: torch.relu(x @ W.T @ W), "you left out the bias b (it is added before "
         "the ReLU)."),
        (lambda W, b, x: torch.relu(x @ W.T @ W) + b, "the bias goes inside the ReLU: "
         "ReLU(W^T W x + b), not ReLU(W^T W x) + b."),
        (lambda W, b, x: torch.relu(x @ W.T) @ W + b, "the ReLU acts on the output, not on the "
         "hidden layer h = W x: this model has no hidden nonlinearity."),
    ]
    return check_function(student, toy_forward_reference, _forward_cases(), name="toy_forward",
                          rtol=1e-4, atol=1e-5, hints=hints)


def dimensionality_reference(W: torch.Tensor) -> torch.Tensor:
    """D_i = ||W_i||^2 / sum_j (Ŵ_i . W_j)^2 (j = i included): W (m, n) -> (n,)."""
    return feature_dimensionality(W)


def _dimensionality_cases() -> list[dict]:
    angles = torch.arange(5) * 2 * np.pi / 5
    pentagon = torch.stack([torch.cos(angles), torch.sin(angles)]).float()      # D_i = 2/5
    antipodal = torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.9, -0.9]])   # D_i = 1/2
    gen = torch.Generator().manual_seed(3)
    return [{"W": pentagon}, {"W": antipodal}, {"W": torch.randn(3, 7, generator=gen)}]


def check_dimensionality(student: Callable[[torch.Tensor], torch.Tensor]) -> CheckResult:
    """Applied-researcher exercise: per-feature dimensionality D_i of a weight matrix."""

    def unit(W):
        return W / W.norm(dim=0, keepdim=True)

    hints = [
        (lambda W: W.norm(dim=0) ** 2 / (((unit(W).T @ W) ** 2).sum(1) - W.norm(dim=0) ** 2),
         "the sum in the denominator includes j = i (the feature's own ||W_i||^2); without it a "
         "feature alone in its dimension divides by zero."),
        (lambda W: W.norm(dim=0) ** 2 / ((W.T @ W) ** 2).sum(1),
         "project onto the unit direction Ŵ_i = W_i / ||W_i||, not onto W_i itself."),
        (lambda W: W.norm(dim=1) ** 2 / ((unit(W.T).T @ W.T) ** 2).sum(1),
         "feature i is column i of W (shape (m, n)): take norms over dim 0, the hidden axis."),
    ]
    return check_function(student, dimensionality_reference, _dimensionality_cases(),
                          name="dimensionality", rtol=1e-4, atol=1e-5, hints=hints)
