"""The capacity proxy C of the phase-transition lab (course brief), and counters of its inputs
for the library's Transformer: parameters P, heads H, layers L, forward FLOPs per token F.

    log2 C   = log2(P * log2 B) + log2 H + log2 L + log2(F / F_ref)     (B values per parameter)
    log2 C_i = log2 P_i + log2 H_i + log2 L_i + log2(F_i / F_ref)       (per instance)

The proxy has three known weaknesses, tested as facts in tests/test_capacity.py: P does not
change with the number of heads at fixed d_model; F grows with P * L, so layers enter C about
three times; padding the context raises F (hence C) without any effect on a causal read-out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch.nn as nn

from ._validate import _show, check_int

# The reference of F / F_ref: one single-head attention layer (d_head = d_model, attention-only)
# reading a context of one token, at 16-bit precision. F and F_ref are counted at the same
# precision, so it cancels in F / F_ref; it enters C through B = 2**16 values per parameter.
REFERENCE_BITS = 16
REFERENCE_B = 2 ** REFERENCE_BITS
REFERENCE_CONTEXT = 1


def _positive(name: str, value: object, *, above: float = 0.0) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a number or an array of numbers, got "
                        f"{_show(value)}") from err
    if not np.all(np.isfinite(arr)) or np.any(arr <= above):
        bad = arr[~(np.isfinite(arr) & (arr > above))].ravel()[0]
        raise ValueError(f"{name} must be finite and > {above:g} (it enters a log2), got {bad}")
    return arr


def _out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


def capacity_proxy(P, B, H, L, F, F_ref) -> float | np.ndarray:
    """log2 C = log2(P log2 B) + log2 H + log2 L + log2(F / F_ref): P parameters, B values each
    parameter can take (2**16 at 16-bit precision), H heads, L layers, F FLOPs per token.
    Scalars or arrays (broadcast) -> float or array."""
    P, B = _positive("P", P), _positive("B", B, above=1.0)
    H, L = _positive("H", H), _positive("L", L)
    F, F_ref = _positive("F", F), _positive("F_ref", F_ref)
    return _out(np.log2(P * np.log2(B)) + np.log2(H) + np.log2(L) + np.log2(F / F_ref))


def instance_capacity(P, H, L, F, F_ref) -> float | np.ndarray:
    """The per-instance form log2 C_i = log2 P_i + log2 H_i + log2 L_i + log2(F_i / F_ref)
    (precision left out). Scalars or arrays (broadcast) -> float or array."""
    P, H, L = _positive("P", P), _positive("H", H), _positive("L", L)
    F, F_ref = _positive("F", F), _positive("F_ref", F_ref)
    return _out(np.log2(P) + np.log2(H) + np.log2(L) + np.log2(F / F_ref))


def count_params(model: nn.Module, modules: Sequence[str] | None = None) -> int:
    """Trainable parameters of ``model``, or of its named sub-modules only (names as in
    ``model.named_modules()``, e.g. ``["blocks"]`` or ``["blocks.0.attn"]``; shared ones once)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if modules is None:
        parts = [model]
    else:
        if isinstance(modules, str) or not isinstance(modules, Sequence) or not modules:
            raise TypeError(f"modules must be a non-empty list of sub-module names, got "
                            f"{_show(modules)}")
        named = dict(model.named_modules())
        for name in modules:
            if name not in named or name == "":
                top = [n for n in named if n and "." not in n]
                raise ValueError(f"modules: {name!r} is not a sub-module of this model; "
                                 f"its top-level ones are {top}")
        parts = [named[name] for name in modules]
    seen = {id(p): p for part in parts for p in part.parameters() if p.requires_grad}
    return sum(p.numel() for p in seen.values())


def _check_transformer(model: object):
    from .models.transformer import Transformer  # local: keeps this module light to import
    if not isinstance(model, Transformer):
        raise TypeError(f"model must be an emergence_lib.models.Transformer, "
                        f"got {type(model).__name__}")
    return model


def layer_flops(d_model: int, n_heads: int, d_head: int, n_keys: int,
                d_mlp: int | None = None, head_gates: bool = False) -> int:
    """Forward FLOPs per token of one block (a multiply-add counts 2): Q, K, V and output
    projections, scores and the weighted sum over ``n_keys`` keys, gates, MLP."""
    D = check_int("d_model", d_model, minimum=1)
    H = check_int("n_heads", n_heads, minimum=1)
    Dh = check_int("d_head", d_head, minimum=1)
    n = check_int("n_keys", n_keys, minimum=1)
    flops = 2 * 3 * D * H * Dh        # q, k, v
    flops += 2 * H * Dh * n * 2       # q . k over n keys, then pattern @ v
    flops += 2 * H * Dh * D           # output projection
    if head_gates:
        flops += 2 * D * H            # one gate logit per head
    if d_mlp:
        flops += 2 * 2 * D * check_int("d_mlp", d_mlp, minimum=1)
    return flops


def count_flops(model: nn.Module, n_ctx: int | None = None, unembed: bool = True) -> int:
    """Forward FLOPs per token of a ``Transformer`` whose queries each read ``n_ctx`` keys
    (default the model's n_ctx: the full context, the last position's cost), with or without
    the unembedding. Layernorm, softmax, biases and embedding look-ups (O(d_model)) are left out;
    the count equals the matmul FLOPs of a forward pass over n_ctx tokens divided by n_ctx."""
    model = _check_transformer(model)
    n_keys = model.n_ctx if n_ctx is None else check_int("n_ctx", n_ctx, minimum=1)
    per_layer = layer_flops(model.d_model, model.n_heads, model.d_head, n_keys, model.d_mlp,
                            model.head_gates)
    return model.n_layers * per_layer + (2 * model.d_model * model.vocab if unembed else 0)


def reference_flops(d_model: int) -> int:
    """F_ref: forward FLOPs per token of one single-head attention layer (d_head = d_model) over
    a context of ``REFERENCE_CONTEXT`` token, at the same width as the model it is compared with."""
    return layer_flops(d_model, 1, d_model, REFERENCE_CONTEXT)


def transformer_capacity(model: nn.Module, n_ctx: int | None = None,
                         bits: int = REFERENCE_BITS) -> dict[str, float]:
    """Every input of C for a ``Transformer`` and both forms of the proxy:
    {"P", "H", "L", "F", "F_ref", "log2_C", "log2_C_i"} (F over ``n_ctx`` keys, B = 2**bits)."""
    model = _check_transformer(model)
    bits = check_int("bits", bits, minimum=1)
    P, H, L = count_params(model), model.n_heads, model.n_layers
    F, F_ref = count_flops(model, n_ctx), reference_flops(model.d_model)
    return {"P": P, "H": H, "L": L, "F": F, "F_ref": F_ref,
            "log2_C": capacity_proxy(P, 2 ** bits, H, L, F, F_ref),
            "log2_C_i": instance_capacity(P, H, L, F, F_ref)}
