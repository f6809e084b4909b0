"""One-hidden-layer MLPs, alone or S at once: the batched model keeps a leading member (seed)
dimension in every weight, so S independent networks train as one module (chapters 5, 7, 9).

A batched model built ``from_modules`` of S ordinary ``OneHiddenMLP``s starts identical to them,
and ``member(i)`` gives member i back as an ordinary module. With a loss that sums each
member's own mean loss, each member's gradient is exactly its separate-run gradient, so SGD
(with or without momentum) gives the same per-member weights as separate runs up to float
rounding (tested in tests/test_parity.py). Adam is elementwise too, so the same in exact
arithmetic, but not in floats: it divides by sqrt(v) + eps, so a gradient that is 1e-9 in one
run and exactly 0 in the other (batched and unbatched matmuls round differently) becomes a
full-size step in one and none in the other, and runs drift apart. Clipping by a global
gradient norm, or per-tensor norms (LARS, LAMB), would couple the members outright.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import check_int


class OneHiddenMLP(nn.Module):
    """x (B, n_inputs) -> ReLU hidden layer of ``width`` -> (B, n_outputs)."""

    def __init__(self, n_inputs: int, width: int, n_outputs: int = 1):
        super().__init__()
        self.n_inputs = check_int("n_inputs", n_inputs, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.n_outputs = check_int("n_outputs", n_outputs, minimum=1)
        self.hidden = nn.Linear(n_inputs, width)
        self.head = nn.Linear(width, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"x must have shape (batch, {self.n_inputs}), "
                             f"got {tuple(x.shape)}")
        return self.head(F.relu(self.hidden(x)))  # (B, n_outputs)


class BatchedMLP(nn.Module):
    """S independent one-hidden-layer MLPs: x (S, B, n_inputs) -> (S, B, n_outputs).

    hidden (S, n_inputs + 1, width): each member's first layer laid out for ``x @ hidden``, its
    last row the bias (the input gets a constant 1 appended), so one matmul gives the layer and
    one in-place matmul updates weights and bias together (``recipes.parity.hinge_sgd_update``).
    ``w1`` (S, width, n_inputs) and ``b1`` (S, width) are views of it laid out like
    ``nn.Linear``; w2 (S, n_outputs, width), b2 (S, n_outputs). Members with fewer real inputs
    (``member_inputs``) have zero weights on the padded coordinates; with zero inputs there,
    those weights get zero gradient.
    """

    def __init__(self, n_members: int, n_inputs: int, width: int, n_outputs: int = 1,
                 member_inputs: Sequence[int] | None = None):
        super().__init__()
        S = self.n_members = check_int("n_members", n_members, minimum=1)
        self.n_inputs = check_int("n_inputs", n_inputs, minimum=1)
        self.width = check_int("width", width, minimum=1)
        self.n_outputs = check_int("n_outputs", n_outputs, minimum=1)
        ins = [n_inputs] * S if member_inputs is None else list(member_inputs)
        if len(ins) != S:
            raise ValueError(f"member_inputs must have n_members={S} entries, got {len(ins)}")
        for i, m in enumerate(ins):
            check_int(f"member_inputs[{i}]", m, minimum=1, maximum=n_inputs)
        self.member_inputs = tuple(ins)
        # Same init law as nn.Linear: uniform(+-1/sqrt(fan_in)), fan_in = the member's inputs.
        bound1 = torch.tensor([m ** -0.5 for m in ins])[:, None, None]
        self.hidden = nn.Parameter((2 * torch.rand(S, n_inputs + 1, width) - 1) * bound1)
        self.w2 = nn.Parameter((2 * torch.rand(S, n_outputs, width) - 1) * width ** -0.5)
        self.b2 = nn.Parameter((2 * torch.rand(S, n_outputs) - 1) * width ** -0.5)
        with torch.no_grad():
            self.w1.mul_(self._input_mask())

    @property
    def w1(self) -> torch.Tensor:
        """(S, width, n_inputs): the first-layer weights, a view into ``hidden``."""
        return self.hidden[:, :-1, :].transpose(1, 2)

    @property
    def b1(self) -> torch.Tensor:
        """(S, width): the first-layer biases, a view into ``hidden``."""
        return self.hidden[:, -1, :]

    def _input_mask(self) -> torch.Tensor:
        """(S, 1, n_inputs): 1 on each member's real inputs, 0 on padding."""
        real = torch.tensor(self.member_inputs)[:, None]
        return (torch.arange(self.n_inputs) < real).float()[:, None, :]

    def check_input(self, x: torch.Tensor) -> None:
        """Raise a ValueError unless x has shape (n_members, batch, n_inputs)."""
        S, n = self.n_members, self.n_inputs
        if x.ndim != 3 or x.shape[0] != S or x.shape[2] != n:
            raise ValueError(f"x must have shape ({S}, batch, {n}), got {tuple(x.shape)}")

    def hidden_activations(self, x: torch.Tensor) -> torch.Tensor:
        """x (S, B, n_inputs) -> ReLU(x @ w1^T + b1) (S, B, width)."""
        self.check_input(x)
        ones = x.new_ones(*x.shape[:2], 1)
        return F.relu(torch.bmm(torch.cat([x, ones], -1), self.hidden), inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.hidden_activations(x)                                         # (S, B, W)
        return torch.baddbmm(self.b2[:, None, :], h, self.w2.transpose(1, 2))  # (S, B, out)

    @classmethod
    def from_modules(cls, modules: Sequence[OneHiddenMLP]) -> BatchedMLP:
        """Stack ordinary MLPs (same width and outputs; inputs may differ and are zero-padded)."""
        modules = list(modules)
        if not modules or not all(isinstance(m, OneHiddenMLP) for m in modules):
            raise TypeError(f"modules must be a non-empty sequence of OneHiddenMLP, got "
                            f"{[type(m).__name__ for m in modules]}")
        width, outs = modules[0].width, modules[0].n_outputs
        if any(m.width != width or m.n_outputs != outs for m in modules):
            raise ValueError(f"modules must share width and n_outputs, got widths "
                             f"{sorted({m.width for m in modules})} and n_outputs "
                             f"{sorted({m.n_outputs for m in modules})}")
        ins = [m.n_inputs for m in modules]
        batched = cls(len(modules), max(ins), width, outs, member_inputs=ins)
        with torch.no_grad():
            batched.hidden.zero_()
            for i, m in enumerate(modules):
                batched.w1[i, :, : m.n_inputs] = m.hidden.weight
                batched.b1[i] = m.hidden.bias
                batched.w2[i] = m.head.weight
                batched.b2[i] = m.head.bias
        return batched

    def member(self, i: int) -> OneHiddenMLP:
        """Member i as an ordinary module (a copy of its current weights, padding dropped)."""
        i = check_int("i", i, minimum=0, maximum=self.n_members - 1)
        n = self.member_inputs[i]
        module = OneHiddenMLP(n, self.width, self.n_outputs)
        with torch.no_grad():
            module.hidden.weight.copy_(self.w1[i, :, :n])
            module.hidden.bias.copy_(self.b1[i])
            module.head.weight.copy_(self.w2[i])
            module.head.bias.copy_(self.b2[i])
        return module


def seeded_mlps(seeds: Sequence[int], n_inputs: int | Sequence[int], width: int,
                n_outputs: int = 1) -> list[OneHiddenMLP]:
    """One ordinary MLP per seed, each built under ``seeded(seed)`` (so the same seed always gives
    the same initial weights, batched or not); ``n_inputs`` may differ per member."""
    from ..utils import seeded

    seeds = list(seeds)
    ins = [n_inputs] * len(seeds) if isinstance(n_inputs, int) else list(n_inputs)
    if not seeds or len(ins) != len(seeds):
        raise ValueError(f"seeds must be non-empty and match n_inputs in length, got "
                         f"{len(seeds)} seeds and {len(ins)} input sizes")
    models = []
    for seed, n in zip(seeds, ins, strict=True):
        with seeded(seed):
            models.append(OneHiddenMLP(n, width, n_outputs))
    return models
