"""Chapter 3's squared-embedding model, S instances at once: every weight has a leading instance
dimension, so a grid of small runs (weight decay x train fraction x seed) trains as one module
(``emergence_lib.instances``).

``from_modules`` stacks ordinary ``SquaredEmbeddingMLP``s and ``member(i)`` gives instance i back
as one. ``forward`` goes through autograd; ``fused_backward`` writes the same gradients by hand
(per instance: one gather-sum, one softmax, three matmuls, two index-adds), which is what makes
the batched grid faster than a loop of ordinary runs on a CPU: the model is compute-bound there,
so stacking the instances alone saves nothing (measured in benchmarks/instances.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import check_int
from .modular_mlp import SquaredEmbeddingMLP


class BatchedSquaredMLP(nn.Module):
    """S squared-embedding MLPs: logits[s] = ((E_a[s][a] + E_b[s][b]) ** 2) @ W_out[s]^T.

    embed_a, embed_b (S, p, width); unembed (S, p, width), laid out like ``nn.Linear.weight``.
    forward: tokens (S, B, 2) or (S, B, 3) ``a b [=]`` -> logits (S, B, p).
    """

    def __init__(self, n_instances: int, p: int, width: int = 256):
        super().__init__()
        S = self.n_instances = check_int("n_instances", n_instances, minimum=1)
        self.p = check_int("p", p, minimum=2)
        self.width = check_int("width", width, minimum=1)
        # the init law of SquaredEmbeddingMLP: embeddings N(0, 1), the readout like nn.Linear
        self.embed_a = nn.Parameter(torch.randn(S, p, width))
        self.embed_b = nn.Parameter(torch.randn(S, p, width))
        self.unembed = nn.Parameter((2 * torch.rand(S, p, width) - 1) * width ** -0.5)

    def _operands(self, tokens: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Check tokens (S, B, 2 or 3) and return the rows of a and b in the stacked tables."""
        S, p = self.n_instances, self.p
        if (tokens.ndim != 3 or tokens.shape[0] != S or tokens.shape[2] not in (2, 3)
                or tokens.is_floating_point()):
            raise ValueError(f"tokens must be integer ids of shape ({S}, batch, 2) or "
                             f"({S}, batch, 3), got {tokens.dtype} of shape "
                             f"{tuple(tokens.shape)}")
        ab = tokens[..., :2]
        if ab.numel() and (int(ab.min()) < 0 or int(ab.max()) >= p):
            raise ValueError(f"the operands a and b must be ids in [0, {p})")
        offset = torch.arange(S, device=tokens.device)[:, None] * p   # (S, 1)
        return ab[..., 0] + offset, ab[..., 1] + offset

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        a, b = self._operands(tokens)                                  # (S, B) rows
        S, p, W = self.n_instances, self.p, self.width
        hidden = (F.embedding(a, self.embed_a.view(S * p, W))
                  + F.embedding(b, self.embed_b.view(S * p, W))) ** 2  # (S, B, W)
        return torch.bmm(hidden, self.unembed.transpose(1, 2))        # (S, B, p)

    @torch.no_grad()
    def fused_backward(self, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor,
                       weight: torch.Tensor, start: int = 0) -> torch.Tensor:
        """Gradients of instances start..start+s-1 of sum_s sum_n weight[s, n] * CE(row n),
        written into ``.grad`` by hand; returns that weighted loss per instance (s,).

        a, b, y: (s, n) operand and label ids; weight: (s, n), e.g. 1/n_train on an instance's
        training rows and 0 on padding, so each instance gets its mean-loss gradient.
        """
        s, n = a.shape
        p, W = self.p, self.width
        stop = start + s
        check_int("start", start, minimum=0, maximum=self.n_instances - s)
        A, B = self.embed_a[start:stop], self.embed_b[start:stop]     # (s, p, W) views
        U = self.unembed[start:stop]
        offset = torch.arange(s, device=a.device)[:, None] * p
        rows_a, rows_b = (a + offset).view(-1), (b + offset).view(-1)  # (s n,)
        # e = A[a] + B[b] in one kernel: a bag of two rows of the table [A; B] of each instance
        table = torch.cat([A, B], 1).view(s * 2 * p, W)                # (s 2p, W)
        bags = torch.stack([a + offset, b + offset + p], -1) + offset[..., None]
        e = F.embedding_bag(bags.view(s * n, 2), table, mode="sum").view(s, n, W)
        hidden = e * e
        logits = torch.bmm(hidden, U.transpose(1, 2))                  # (s, n, p)
        logp = torch.log_softmax(logits, -1)
        loss = -(logp.gather(-1, y[..., None]).squeeze(-1) * weight).sum(-1)   # (s,)
        grad = logp.exp_()                                             # softmax
        grad.scatter_add_(-1, y[..., None], grad.new_full((s, n, 1), -1.0))
        grad.mul_(weight[..., None])                                   # d loss / d logits
        grads = [self._grad(q) for q in (self.embed_a, self.embed_b, self.unembed)]
        torch.bmm(grad.transpose(1, 2), hidden, out=grads[2][start:stop])
        d_e = torch.bmm(grad, U * 2).mul_(e).view(s * n, W)  # d loss / d e (2 U: exact)
        for g, rows in ((grads[0], rows_a), (grads[1], rows_b)):
            flat = g[start:stop].view(s * p, W)
            flat.zero_()
            flat.index_add_(0, rows, d_e)
        return loss

    @staticmethod
    def _grad(q: torch.Tensor) -> torch.Tensor:
        if q.grad is None:
            q.grad = torch.zeros_like(q)
        return q.grad

    @classmethod
    def from_modules(cls, modules: Sequence[SquaredEmbeddingMLP]) -> BatchedSquaredMLP:
        """Stack ordinary models (same p and width) into one batched model with their weights."""
        modules = list(modules)
        if not modules or not all(isinstance(m, SquaredEmbeddingMLP) for m in modules):
            raise TypeError(f"modules must be a non-empty sequence of SquaredEmbeddingMLP, got "
                            f"{[type(m).__name__ for m in modules]}")
        shapes = sorted({(m.p, m.width) for m in modules})
        if len(shapes) > 1:
            raise ValueError(f"modules must share p and width, got (p, width) pairs {shapes}")
        batched = cls(len(modules), *shapes[0])
        with torch.no_grad():
            for i, m in enumerate(modules):
                batched.embed_a[i] = m.embed_a.weight
                batched.embed_b[i] = m.embed_b.weight
                batched.unembed[i] = m.unembed.weight
        return batched

    def member(self, i: int, out: SquaredEmbeddingMLP | None = None) -> SquaredEmbeddingMLP:
        """Instance i as an ordinary model (a copy of its current weights), written into ``out``
        if given (an ordinary model of the same p and width, e.g. to evaluate it repeatedly)."""
        i = check_int("i", i, minimum=0, maximum=self.n_instances - 1)
        if out is not None and (not isinstance(out, SquaredEmbeddingMLP)
                                or (out.p, out.width) != (self.p, self.width)):
            raise ValueError(f"out must be a SquaredEmbeddingMLP with p={self.p} and "
                             f"width={self.width}, got {out!r}")
        module = SquaredEmbeddingMLP(self.p, self.width) if out is None else out
        with torch.no_grad():
            module.embed_a.weight.copy_(self.embed_a[i])
            module.embed_b.weight.copy_(self.embed_b[i])
            module.unembed.weight.copy_(self.unembed[i])
        return module
