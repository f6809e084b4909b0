"""Chapter 8's small models: a deep linear network (depth L, width N, init scale sigma) and a
two-layer ReLU network, both without biases and with N(0, sigma^2) entries (Atanasov et al.'s
unnormalised parameterisation, so sigma alone sets how rich or lazy training is)."""

from __future__ import annotations

import torch
import torch.nn as nn

from .._validate import check_float, check_int


def _gaussian(shape: tuple[int, int], std: float) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape) * std)


class DeepLinear(nn.Module):
    """f(x) = W_L ... W_1 x: x (B, d_in) -> (B, d_out); hidden width N, depth L >= 1 layers,
    every entry N(0, sigma^2) at init (build it under ``utils.seeded`` for a fixed draw)."""

    def __init__(self, d_in: int, width: int, depth: int, d_out: int = 1, sigma: float = 1e-2):
        super().__init__()
        self.d_in = check_int("d_in", d_in, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.depth = check_int("depth", depth, minimum=1)
        self.d_out = check_int("d_out", d_out, minimum=1)
        self.sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True)
        sizes = [d_in] + [width] * (depth - 1) + [d_out]
        self.weights = nn.ParameterList(_gaussian((b, a), sigma)
                                        for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    def end_to_end(self) -> torch.Tensor:
        """The product W_L ... W_1, shape (d_out, d_in)."""
        M = self.weights[0]
        for W in self.weights[1:]:
            M = W @ M
        return M

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.d_in:
            shape = tuple(getattr(x, "shape", ()))
            raise ValueError(f"x must be a tensor of shape (batch, {self.d_in}), got {shape}")
        h = x
        for W in self.weights:
            h = h @ W.T
        return h                                     # (B, d_out)


class TwoLayerReLU(nn.Module):
    """f(x) = a . ReLU(W x): x (B, d_in) -> (B,); W (N, d_in) and a (N,) with N(0, sigma^2)
    entries divided by sqrt(fan-in), so sigma = 1 is the usual scale."""

    def __init__(self, d_in: int, width: int, sigma: float = 1e-2):
        super().__init__()
        self.d_in = check_int("d_in", d_in, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.sigma = check_float("sigma", sigma, minimum=0.0, strict_min=True)
        self.W = _gaussian((width, d_in), sigma / d_in ** 0.5)
        self.a = nn.Parameter(torch.randn(width) * sigma / width ** 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != self.d_in:
            shape = tuple(getattr(x, "shape", ()))
            raise ValueError(f"x must be a tensor of shape (batch, {self.d_in}), got {shape}")
        return torch.relu(x @ self.W.T) @ self.a     # (B,)
