"""LoRA: a low-rank adapter on named ``nn.Linear`` maps of any model (Hu et al. 2021).

``attach_lora(model, ["blocks.0.mlp.fc_out"], rank=1, alpha=1.0)`` freezes every weight of
``model``, wraps each named linear map W as ``W x + (alpha / rank) * B (A x)`` with A (rank, in)
drawn at random and B (out, rank) zero, so the adapted model starts exactly as the base model.
Only A and B train. For rank 1 on an MLP's down-projection, B (out, 1) is the adapter's output
direction in the residual stream (Turner et al. 2025's setting).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn as nn

from .._validate import check_float, check_int


class LoRALinear(nn.Module):
    """A frozen ``nn.Linear`` plus a trainable low-rank update: x (..., in) -> (..., out)."""

    def __init__(self, base: nn.Linear, rank: int = 1, alpha: float = 1.0,
                 generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(base, nn.Linear):
            raise TypeError(f"base must be an nn.Linear, got {type(base).__name__}")
        self.rank = check_int("rank", rank, minimum=1, maximum=min(base.in_features,
                                                                  base.out_features))
        self.alpha = check_float("alpha", alpha, minimum=0.0, strict_min=True)
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        a = torch.randn(rank, base.in_features, generator=generator) / math.sqrt(base.in_features)
        self.A = nn.Parameter(a.to(base.weight.dtype))                             # (r, in)
        self.B = nn.Parameter(torch.zeros(base.out_features, rank, dtype=base.weight.dtype))
        self.multiplier = 1.0  # rescales the update (1 = as trained, 0 = the base model)

    @property
    def scale(self) -> float:
        return self.alpha / self.rank

    def delta(self) -> torch.Tensor:
        """The weight change the adapter makes, (alpha / rank) * B A: (out, in)."""
        return self.multiplier * self.scale * self.B @ self.A

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        update = (x @ self.A.T) @ self.B.T                                           # (..., out)
        return self.base(x) + self.multiplier * self.scale * update


def attach_lora(model: nn.Module, targets: Sequence[str], rank: int = 1, alpha: float = 1.0,
                seed: int = 0) -> dict[str, LoRALinear]:
    """Freeze ``model`` and wrap each named ``nn.Linear`` in a LoRALinear, in place (deep-copy
    the model first to keep the base). Returns {name: adapter}; A is seeded by ``seed``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(targets, str) or not isinstance(targets, Sequence) or not targets:
        raise ValueError(f"targets must be a non-empty list of module names, got {targets!r}")
    check_int("rank", rank, minimum=1)
    check_float("alpha", alpha, minimum=0.0, strict_min=True)
    seed = check_int("seed", seed, minimum=0)
    modules = dict(model.named_modules())
    linear = sorted(name for name, m in modules.items() if isinstance(m, nn.Linear))
    for name in targets:
        if name not in modules or not isinstance(modules[name], nn.Linear):
            what = "not a module of this model" if name not in modules else \
                f"a {type(modules[name]).__name__}, not an nn.Linear"
            raise ValueError(f"targets entry {name!r} is {what}; the linear maps are {linear}")
    for p in model.parameters():
        p.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    adapters = {}
    for name in targets:
        parent_name, _, child = name.rpartition(".")
        parent = model.get_submodule(parent_name) if parent_name else model
        adapters[name] = LoRALinear(getattr(parent, child), rank, alpha, generator)
        setattr(parent, child, adapters[name])
    return adapters


def lora_adapters(model: nn.Module) -> dict[str, LoRALinear]:
    """The LoRALinear modules of a model, by name."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}
