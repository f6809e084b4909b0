"""The FAST model of chapter 3: add the embeddings of a and b, square, read out linearly.

A quadratic activation is the smallest nonlinearity that can multiply the two operands' Fourier
features (cos x cos y = ...), so this tiny network groks modular addition in seconds.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .._validate import check_int


class SquaredEmbeddingMLP(nn.Module):
    """logits = ((E_a[a] + E_b[b]) ** 2) @ W_out.

    forward: tokens (B, 2) or (B, 3) ``a b [=]`` with ids in [0, p) -> logits (B, p).
    """

    def __init__(self, p: int, width: int = 256):
        super().__init__()
        self.p = check_int("p", p, minimum=2)
        self.width = check_int("width", width, minimum=1)
        self.embed_a = nn.Embedding(p, width)   # (p, width)
        self.embed_b = nn.Embedding(p, width)   # (p, width)
        self.unembed = nn.Linear(width, p, bias=False)  # weight (p, width)
        # PyTorch's default initialisation (embeddings N(0, 1)) is part of the measured recipe:
        # large initial weights are what weight decay has to shrink before the model generalises.

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.ndim != 2 or tokens.shape[1] not in (2, 3) or tokens.is_floating_point():
            raise ValueError(f"tokens must be integer ids of shape (batch, 2) or (batch, 3), "
                             f"got {tokens.dtype} of shape {tuple(tokens.shape)}")
        a, b = tokens[:, 0], tokens[:, 1]
        if torch.compiler.is_compiling():  # torch.export: the same range check, in the graph
            torch._check(tokens[:, :2].min().item() >= 0)
            torch._check(tokens[:, :2].max().item() < self.p)
        elif tokens.numel() and (int(torch.minimum(a, b).min()) < 0
                                 or int(torch.maximum(a, b).max()) >= self.p):
            raise ValueError(f"the operands a and b must be ids in [0, {self.p})")
        hidden = (self.embed_a(a) + self.embed_b(b)) ** 2   # (B, width)
        return self.unembed(hidden)                         # (B, p)
