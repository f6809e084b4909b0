"""A multilayer perceptron over one-hot tokens: the small model family of chapters 1 and 2."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import check_int


class DigitMLP(nn.Module):
    """One-hot input tokens -> ``depth`` hidden ReLU layers of ``width`` -> logits per output.

    forward: x (B, n_inputs) token ids in [0, vocab) -> logits (B, n_outputs, vocab).
    """

    def __init__(self, n_inputs: int = 8, n_outputs: int = 5, width: int = 64, depth: int = 2,
                 vocab: int = 10):
        super().__init__()
        self.n_inputs = check_int("n_inputs", n_inputs, minimum=1)
        self.n_outputs = check_int("n_outputs", n_outputs, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.depth = check_int("depth", depth, minimum=1)
        self.vocab = check_int("vocab", vocab, minimum=2)
        sizes = [n_inputs * vocab] + [width] * depth
        pairs = zip(sizes[:-1], sizes[1:], strict=True)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in pairs)
        self.head = nn.Linear(width, n_outputs * vocab)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.n_inputs or x.is_floating_point():
            raise ValueError(f"x must be integer token ids of shape (batch, {self.n_inputs}), "
                             f"got {x.dtype} of shape {tuple(x.shape)}")
        tracing = torch.compiler.is_compiling()  # torch.export cannot branch on values
        if not tracing and x.numel() and (int(x.min()) < 0 or int(x.max()) >= self.vocab):
            raise ValueError(f"x must hold token ids in [0, {self.vocab}), "
                             f"got values from {int(x.min())} to {int(x.max())}")
        h = F.one_hot(x, self.vocab).flatten(1).float()  # (B, n_inputs * vocab)
        for layer in self.hidden:
            h = F.relu(layer(h))                          # (B, width)
        return self.head(h).view(-1, self.n_outputs, self.vocab)  # (B, n_outputs, vocab)
