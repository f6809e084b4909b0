"""The gating metric G (course brief, phase-transition lab): how much of each layer's gate mass
lands on designated heads at focus tokens, with its chance value and a chance-corrected ratio.

    G = 1/(|H_gate| |T_focus|) * sum_{l in L_gate, h in H_gate, t in T_focus} softmax_l(g)[l, h, t]

where g (L, H, T) are gate logits and softmax_l runs over all (head, token) cells of layer l.
Two sources of gate logits: the explicit gates of ``Transformer(head_gates=True)``
(``explicit_gate_logits``) and, for any model, the attention scores of every head at chosen
queries towards a designated key (``attention_gate_logits``).

Shapes: B batch, L layers, H heads, T gate positions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ._validate import _show

Index = Sequence[int] | torch.Tensor | np.ndarray


def _as_tensor(name: str, value: object) -> torch.Tensor:
    if isinstance(value, np.ndarray):
        value = torch.from_numpy(value)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor (or numpy array), "
                        f"got {type(value).__name__}")
    return value


def _check_logits(logits: object) -> torch.Tensor:
    logits = _as_tensor("logits", logits)
    if logits.ndim not in (3, 4):
        raise ValueError(f"logits must have shape (layers, heads, tokens) or (batch, layers, "
                         f"heads, tokens), got shape {tuple(logits.shape)}")
    if not logits.is_floating_point():
        raise TypeError(f"logits must be floating point, got {logits.dtype}")
    if logits.numel() == 0:
        raise ValueError(f"logits must not be empty, got shape {tuple(logits.shape)}")
    bad = ~torch.isfinite(logits)
    if bad.any():
        where = tuple(int(i) for i in bad.nonzero()[0])
        value = float(logits[where].detach())
        raise ValueError(f"logits must be finite, got {value} at index {where} "
                         f"({int(bad.sum())} non-finite values); a -inf usually means a masked "
                         f"(future) key was used as a gate")
    return logits


def _check_index(name: str, value: object, size: int, what: str) -> list[int]:
    """A non-empty list of distinct indices in [0, size)."""
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of {what} indices, got shape "
                             f"{tuple(value.shape)}")
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a sequence of {what} indices, got {_show(value)}")
    items = list(value)
    if not items:
        raise ValueError(f"{name} must not be empty: G needs at least one {what}")
    for i in items:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise TypeError(f"{name} must hold integer {what} indices, got {_show(i)}")
        if not 0 <= i < size:
            raise ValueError(f"{name} must hold {what} indices in [0, {size}), got {int(i)}")
    if len(set(items)) != len(items):
        raise ValueError(f"{name} must not repeat an index, got {items}")
    return [int(i) for i in items]


def _focus_mask(focus_tokens: object, logits: torch.Tensor) -> torch.Tensor:
    """focus_tokens as a bool mask (T,) or (B, T), each row with at least one True."""
    T = logits.shape[-1]
    if isinstance(focus_tokens, (torch.Tensor, np.ndarray)) and focus_tokens.dtype in (
            torch.bool, np.bool_):
        mask = _as_tensor("focus_tokens", focus_tokens)
        allowed = [(T,)] + ([(logits.shape[0], T)] if logits.ndim == 4 else [])
        if tuple(mask.shape) not in allowed:
            raise ValueError(f"focus_tokens as a mask must have shape "
                             f"{' or '.join(map(str, allowed))}, got {tuple(mask.shape)}")
        empty = ~mask.reshape(-1, T).any(-1)
        if empty.any():
            raise ValueError(f"focus_tokens must select at least one token in every example; "
                             f"row {int(empty.nonzero()[0])} selects none")
        return mask.to(logits.device)
    mask = torch.zeros(T, dtype=torch.bool, device=logits.device)
    mask[_check_index("focus_tokens", focus_tokens, T, "token")] = True
    return mask


def _parts(logits: object, gate_heads: Index, focus_tokens: object,
           gate_layers: Index | None) -> tuple[torch.Tensor, list[int], list[int], torch.Tensor]:
    logits = _check_logits(logits)
    L, H = logits.shape[-3], logits.shape[-2]
    heads = _check_index("gate_heads", gate_heads, H, "head")
    layers = list(range(L)) if gate_layers is None else _check_index(
        "gate_layers", gate_layers, L, "layer")
    return logits, heads, layers, _focus_mask(focus_tokens, logits)


def gating_activation(logits: torch.Tensor, gate_heads: Index, focus_tokens: Index,
                      gate_layers: Index | None = None) -> torch.Tensor:
    """G of gate logits (L, H, T) -> a 0-d tensor, or (B, L, H, T) -> (B,) one per example.

    gate_heads, gate_layers (None = every layer): distinct indices; focus_tokens: distinct
    token indices, or a bool mask (T,) or (B, T) when the focus differs between examples.
    Computed in float64; differentiable in ``logits``.
    """
    logits, heads, layers, mask = _parts(logits, gate_heads, focus_tokens, gate_layers)
    *lead, L, H, T = logits.shape
    share = logits.double().reshape(*lead, L, H * T).softmax(-1).reshape(*lead, L, H, T)
    picked = share[..., layers, :, :][..., heads, :]              # (..., |L_gate|, |H_gate|, T)
    focus = mask.double()                                         # (T,) or (B, T)
    if focus.ndim == 2:
        focus = focus[:, None, None, :]                           # (B, 1, 1, T)
    total = (picked * focus).sum(dim=(-3, -2, -1))
    n_focus = mask.sum(-1).double()                               # () or (B,)
    return total / (len(heads) * n_focus)


def gating_chance(logits: torch.Tensor, gate_heads: Index, focus_tokens: Index,
                  gate_layers: Index | None = None) -> float:
    """G when every logit is equal: |L_gate| / (H * T), whatever the designated cells."""
    logits, _, layers, _ = _parts(logits, gate_heads, focus_tokens, gate_layers)
    return len(layers) / (logits.shape[-2] * logits.shape[-1])


def gating_maximum(logits: torch.Tensor, gate_heads: Index, focus_tokens: Index,
                   gate_layers: Index | None = None) -> torch.Tensor:
    """The largest G can be (every layer's gate mass on designated cells):
    |L_gate| / (|H_gate| |T_focus|), shaped like ``gating_activation``'s result."""
    logits, heads, layers, mask = _parts(logits, gate_heads, focus_tokens, gate_layers)
    n_focus = mask.sum(-1).double()
    if logits.ndim == 4 and n_focus.ndim == 0:
        n_focus = n_focus.expand(logits.shape[0])
    return len(layers) / (len(heads) * n_focus)


def gating_ratio(logits: torch.Tensor, gate_heads: Index, focus_tokens: Index,
                 gate_layers: Index | None = None) -> torch.Tensor:
    """Chance-corrected G: G / G_chance, 1 for a uniform gate, up to
    H * T / (|H_gate| |T_focus|) for a gate that only opens on the designated cells."""
    g = gating_activation(logits, gate_heads, focus_tokens, gate_layers)
    return g / gating_chance(logits, gate_heads, focus_tokens, gate_layers)


# --- sources of gate logits ---

def _per_layer(cache: object, prefix: str, hint: str) -> list[torch.Tensor]:
    if isinstance(cache, Mapping):
        found = []
        while f"{prefix}{len(found)}" in cache:
            found.append(cache[f"{prefix}{len(found)}"])
        if not found:
            raise ValueError(f"the cache has no '{prefix}0' entry: {hint}")
        return found
    if isinstance(cache, Sequence) and cache and all(isinstance(t, torch.Tensor) for t in cache):
        return list(cache)
    raise TypeError(f"expected a cache dict from Transformer.forward(..., cache=...) or a "
                    f"non-empty list of per-layer tensors, got {_show(cache)}")


def explicit_gate_logits(cache: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """The gate logits of ``Transformer(head_gates=True)`` from its forward cache:
    ``gate{l}`` (B, H, Tq) for every layer -> (B, L, H, Tq)."""
    gates = _per_layer(cache, "gate", "build the model with Transformer(..., head_gates=True) "
                       "and pass cache={} to its forward")
    return torch.stack(gates, dim=1)


def _positions(name: str, value: object, batch: int) -> torch.Tensor:
    if isinstance(value, (list, tuple, np.ndarray)):
        value = torch.as_tensor(np.asarray(value))
    value = _as_tensor(name, value)
    if value.is_floating_point() or value.dtype == torch.bool or value.ndim not in (1, 2):
        raise ValueError(f"{name} must be integer positions of shape (T,) or (batch, T), got "
                         f"{value.dtype} of shape {tuple(value.shape)}")
    if value.ndim == 2 and value.shape[0] != batch:
        raise ValueError(f"{name} has {value.shape[0]} rows but the scores have batch {batch}")
    if value.shape[-1] == 0:
        raise ValueError(f"{name} must hold at least one position")
    return value.long().expand(batch, -1) if value.ndim == 1 else value.long()


def attention_gate_logits(scores: Mapping[str, torch.Tensor] | Sequence[torch.Tensor],
                          query_positions: Index, key_positions: Index) -> torch.Tensor:
    """Attention as a gate: g[b, l, h, i] = the attention logit (before the softmax) of head h
    of layer l from query ``query_positions[i]`` to key ``key_positions[i]`` -> (B, L, H, T).

    scores: the cache of ``Transformer.forward(..., cache=...)`` (its ``scores{l}`` entries) or
    a list of per-layer scores (B, H, Tq, Tk). query_positions, key_positions: integer (T,) or
    (B, T) when they differ between examples, e.g. key = the decisive token for each query.
    """
    layers = _per_layer(scores, "scores", "pass the cache of Transformer.forward(..., cache=...)")
    first = layers[0]
    if first.ndim != 4:
        raise ValueError(f"scores must be per-layer tensors of shape (batch, heads, queries, "
                         f"keys), got shape {tuple(first.shape)}")
    for layer, s in enumerate(layers):
        if s.shape != first.shape:
            raise ValueError(f"scores of layer {layer} have shape {tuple(s.shape)}, layer 0 has "
                             f"{tuple(first.shape)}")
    B, H, Tq, Tk = first.shape
    queries = _positions("query_positions", query_positions, B)
    keys = _positions("key_positions", key_positions, B)
    if keys.shape != queries.shape:
        raise ValueError(f"key_positions (shape {tuple(keys.shape)}) must give one key per "
                         f"query (query_positions has shape {tuple(queries.shape)})")
    for name, pos, size in (("query_positions", queries, Tq), ("key_positions", keys, Tk)):
        if int(pos.min()) < 0 or int(pos.max()) >= size:
            raise ValueError(f"{name} must lie in [0, {size}), got values from "
                             f"{int(pos.min())} to {int(pos.max())}")
    rows = torch.arange(B, device=first.device)[:, None].expand_as(queries)
    queries, keys = queries.to(first.device), keys.to(first.device)
    picked = torch.stack([s[rows, :, queries, keys] for s in layers], dim=1)  # (B, L, T, H)
    bad = ~torch.isfinite(picked)
    if bad.any():
        b, layer, i, h = (int(v) for v in bad.nonzero()[0])
        value = float(picked[b, layer, i, h].detach())
        raise ValueError(f"the score of layer {layer}, head {h} from query {int(queries[b, i])} "
                         f"to key {int(keys[b, i])} (example {b}, gate position {i}) is {value}: "
                         f"a causal head cannot attend to a later key; pick a key <= its query")
    return picked.transpose(-1, -2)                               # (B, L, H, T)
