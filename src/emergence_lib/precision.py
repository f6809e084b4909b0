"""Precision as a resource: a model whose weights are rounded to B bits, so that the B of the
capacity proxy (``capacity.capacity_proxy``: 2**bits values per parameter) is the precision the
model is actually evaluated at.

The rounding is symmetric, uniform and per tensor (round to nearest, zero kept exact):

    scale = max|w| / (2**(bits - 1) - 1),   w_rounded = scale * round(w / scale)

so a tensor takes at most 2**bits - 1 distinct values (3 at 2 bits: -scale, 0, +scale). Every
floating-point parameter is rounded (embeddings, attention and MLP weights, biases, LayerNorm
gains); an all-zero tensor stays zero. The arithmetic of the forward pass stays float32: this
is weight-only quantisation, the model is not run in B-bit arithmetic.
"""

from __future__ import annotations

import copy

import torch
import torch.nn as nn

from ._validate import check_int

MIN_BITS, MAX_BITS = 2, 16


def _check_bits(bits: object) -> int:
    return check_int("bits", bits, minimum=MIN_BITS, maximum=MAX_BITS)


def round_tensor(weight: torch.Tensor, bits: int) -> torch.Tensor:
    """``weight`` rounded to ``bits``-bit symmetric uniform levels of its own scale
    (same shape and dtype; a new tensor)."""
    bits = _check_bits(bits)
    if not isinstance(weight, torch.Tensor) or not weight.is_floating_point():
        raise TypeError(f"weight must be a floating-point torch.Tensor, got "
                        f"{getattr(weight, 'dtype', type(weight).__name__)}")
    if not torch.isfinite(weight).all():
        raise ValueError("weight must be finite to be rounded (it holds NaN or inf)")
    levels = 2 ** (bits - 1) - 1                      # positive levels; as many negative; 0
    top = weight.detach().abs().max() if weight.numel() else weight.new_zeros(())
    if float(top) == 0.0:
        return weight.detach().clone()
    scale = top.double() / levels
    return (torch.round(weight.detach().double() / scale) * scale).to(weight.dtype)


def round_weights(model: nn.Module, bits: int) -> nn.Module:
    """A copy of ``model`` in eval mode whose floating-point parameters are each rounded to
    ``bits`` bits (2 to 16) by ``round_tensor``; ``model`` itself is left unchanged."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    bits = _check_bits(bits)
    rounded = copy.deepcopy(model)
    with torch.no_grad():
        for param in rounded.parameters():
            if param.is_floating_point():
                param.copy_(round_tensor(param, bits))
    return rounded.eval()


def distinct_values(model: nn.Module) -> dict[str, int]:
    """How many distinct values each parameter tensor of ``model`` holds: {name: count}."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return {name: int(p.detach().unique().numel()) for name, p in model.named_parameters()}


__all__ = ["round_weights", "round_tensor", "distinct_values", "MIN_BITS", "MAX_BITS"]
