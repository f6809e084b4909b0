"""Progress measures for induction heads, read from attention patterns and per-position losses.

An induction circuit has two parts: a *previous-token head* (layer 0) whose query at t attends
to t - 1, and an *induction head* (a later layer) whose query at t attends to the position just
after an earlier copy of the current token ("prefix matching"), then copies what it finds there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import check_choice, check_int, check_tensor

HeadKey = tuple[int, int]


def _check_pattern(pattern: object) -> torch.Tensor:
    pattern = check_tensor("pattern", pattern, ndim=4)
    if not pattern.is_floating_point():
        raise TypeError(f"pattern must hold attention weights (floats), got {pattern.dtype}")
    if pattern.shape[-1] != pattern.shape[-2]:
        raise ValueError(f"pattern must have shape (batch, heads, T, T) with queries at every "
                         f"position, got {tuple(pattern.shape)}")
    return pattern


def _check_tokens_mask(tokens: object, mask: object) -> tuple[torch.Tensor, torch.Tensor]:
    tokens = check_tensor("tokens", tokens, ndim=2, integer=True)
    mask = check_tensor("mask", mask, ndim=2)
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got {mask.dtype}")
    if mask.shape != tokens.shape:
        raise ValueError(f"mask must have the shape of tokens {tuple(tokens.shape)}, "
                         f"got {tuple(mask.shape)}")
    if not mask.any():
        raise ValueError("mask selects no position: there is nothing to score")
    return tokens, mask


def previous_token_score(pattern: torch.Tensor) -> torch.Tensor:
    """Mean attention from each position t >= 1 to t - 1: pattern (B, H, T, T) -> (H,)."""
    pattern = _check_pattern(pattern)
    if pattern.shape[-1] < 2:
        raise ValueError("pattern needs at least 2 positions for a previous-token score")
    return pattern.diagonal(offset=-1, dim1=-2, dim2=-1).mean(dim=(0, 2))  # (H,)


def prefix_matching_score(pattern: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Mean attention from each query t to the positions s <= t whose *previous* token equals
    the current one (``tokens[s - 1] == tokens[t]``, s - 1 < t), over the queries that have
    at least one such position: pattern (B, H, T, T), tokens (B, T) -> (H,) in [0, 1]."""
    pattern = _check_pattern(pattern)
    tokens = check_tensor("tokens", tokens, ndim=2, integer=True)
    B, H, T, _ = pattern.shape
    if tuple(tokens.shape) != (B, T):
        raise ValueError(f"tokens must have shape {(B, T)} to match pattern, "
                         f"got {tuple(tokens.shape)}")
    # target[b, t, s] = tokens[b, s - 1] == tokens[b, t], for 1 <= s <= t
    same = tokens[:, :, None] == tokens[:, None, :]                      # (B, T, T) [t, s]
    target = torch.zeros(B, T, T, dtype=torch.bool)
    target[:, :, 1:] = same[:, :, :-1]
    target &= torch.ones(T, T, dtype=torch.bool).tril()                 # s <= t
    has_target = target.any(-1)                                          # (B, T)
    if not has_target.any():
        raise ValueError("no position in tokens repeats an earlier token: use sequences with "
                         "repeats (e.g. tasks.repeated_sequences)")
    mass = (pattern * target[:, None]).sum(-1)                           # (B, H, T)
    return (mass * has_target[:, None]).sum(dim=(0, 2)) / has_target.sum()  # (H,)


def per_position_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Next-token cross-entropy at every position but the last: logits (B, T, V), tokens (B, T)
    -> (B, T - 1) in nats."""
    logits = check_tensor("logits", logits, ndim=3)
    tokens = check_tensor("tokens", tokens, ndim=2, integer=True)
    if logits.shape[:2] != tokens.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and tokens {tuple(tokens.shape)} must "
                         f"share (batch, positions)")
    return F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")


def masked_loss(logits: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss over the positions where ``mask`` is True (the copy loss when mask
    marks the copyable positions): a scalar tensor."""
    tokens, mask = _check_tokens_mask(tokens, mask)
    return per_position_loss(logits, tokens)[mask[:, :-1]].mean()


def in_context_learning_score(losses: torch.Tensor, early: int, late: int) -> float:
    """Loss late in the context minus loss early (Olsson et al.): losses (B, T - 1) or (T - 1,)
    per position -> mean at ``late`` minus mean at ``early``; negative = learning in context."""
    losses = check_tensor("losses", losses)
    if losses.ndim not in (1, 2):
        raise ValueError(f"losses must have shape (B, T - 1) or (T - 1,), "
                         f"got {tuple(losses.shape)}")
    losses = losses.reshape(-1, losses.shape[-1])
    early = check_int("early", early, minimum=0, maximum=losses.shape[1] - 1)
    late = check_int("late", late, minimum=early + 1, maximum=losses.shape[1] - 1)
    return float(losses[:, late].mean() - losses[:, early].mean())


@torch.no_grad()
def induction_measures(model: nn.Module, tokens: torch.Tensor, mask: torch.Tensor,
                       early: int, late: int) -> dict[str, float]:
    """Every measure at once on evaluation sequences: ``copy_loss`` (mean loss on the masked
    positions), ``icl_score``, per-head ``prev_token_L{l}H{h}`` and ``prefix_L{l}H{h}``, and the
    summaries ``prev_token_score`` (best layer-0 head) and ``induction_score`` (best head of
    the last layer)."""
    tokens, mask = _check_tokens_mask(tokens, mask)
    cache: dict = {}
    logits = model(tokens, cache=cache)
    losses = per_position_loss(logits, tokens)
    out = {"copy_loss": float(losses[mask[:, :-1]].mean()),
           "icl_score": in_context_learning_score(losses, early, late)}
    n_layers = model.n_layers
    prev0 = previous_token_score(cache["attn0"])
    for layer in range(n_layers):
        prev = previous_token_score(cache[f"attn{layer}"])
        prefix = prefix_matching_score(cache[f"attn{layer}"], tokens)
        for head in range(len(prev)):
            out[f"prev_token_L{layer}H{head}"] = float(prev[head])
            out[f"prefix_L{layer}H{head}"] = float(prefix[head])
    out["prev_token_score"] = float(prev0.max())
    out["induction_score"] = max(out[f"prefix_L{n_layers - 1}H{h}"]
                                 for h in range(model.n_heads))
    return out


@torch.no_grad()
def ablated_loss(model: nn.Module, tokens: torch.Tensor, mask: torch.Tensor,
                 heads: Iterable[HeadKey], mode: str = "mean") -> float:
    """Copy loss with all of ``heads`` ablated together (``mode`` "zero" or "mean")."""
    tokens, mask = _check_tokens_mask(tokens, mask)
    check_choice("mode", mode, ["zero", "mean"])
    ablate = {tuple(key): mode for key in heads}
    return float(masked_loss(model(tokens, ablate=ablate), tokens, mask))


def restored_fraction(ablated: float, intact: float, baseline: float) -> float:
    """How much of the drop from ``baseline`` to ``intact`` an ablation undoes: 1 = all of it."""
    if baseline == intact:
        raise ValueError(f"baseline and intact losses are equal ({intact}): no drop to restore")
    return (ablated - intact) / (baseline - intact)


@torch.no_grad()
def ablation_losses(model: nn.Module, tokens: torch.Tensor, mask: torch.Tensor,
                    heads: Iterable[HeadKey] | None = None, mode: str = "mean"
                    ) -> dict[HeadKey, float]:
    """Copy loss with each head ablated on its own (``mode`` "zero" or "mean"), plus the key
    ``()`` for the intact model: {(layer, head): loss}."""
    tokens, mask = _check_tokens_mask(tokens, mask)
    check_choice("mode", mode, ["zero", "mean"])
    if heads is None:
        heads = [(l_, h) for l_ in range(model.n_layers) for h in range(model.n_heads)]
    out: dict = {(): float(masked_loss(model(tokens), tokens, mask))}
    for key in heads:
        out[tuple(key)] = float(masked_loss(model(tokens, ablate={tuple(key): mode}),
                                            tokens, mask))
    return out


@torch.no_grad()
def patching_restoration(model: nn.Module, clean: torch.Tensor, corrupted: torch.Tensor,
                         mask: torch.Tensor) -> dict[HeadKey, float]:
    """Activation patching: run ``corrupted`` with one head's values taken from the ``clean``
    run, and report the fraction of the clean-vs-corrupted loss gap (on the clean targets, at
    the masked positions) that this restores: 1 = fully restored, 0 = no effect."""
    clean, mask = _check_tokens_mask(clean, mask)
    corrupted = check_tensor("corrupted", corrupted, ndim=2, integer=True)
    if corrupted.shape != clean.shape:
        raise ValueError(f"corrupted must have the shape of clean {tuple(clean.shape)}, "
                         f"got {tuple(corrupted.shape)}")
    cache: dict = {}

    def loss_on_clean_targets(logits: torch.Tensor) -> float:
        return float(masked_loss(logits, clean, mask))

    clean_loss = loss_on_clean_targets(model(clean, cache=cache))
    corrupt_loss = loss_on_clean_targets(model(corrupted))
    gap = corrupt_loss - clean_loss
    if abs(gap) < 1e-6:
        raise ValueError("clean and corrupted runs have the same loss: nothing to restore")
    out = {}
    for layer in range(model.n_layers):
        for head in range(model.n_heads):
            patched = model(corrupted, patch={(layer, head): cache[f"z{layer}"][:, head]})
            out[(layer, head)] = (corrupt_loss - loss_on_clean_targets(patched)) / gap
    return out


def as_grid(scores: Mapping[HeadKey, float], n_layers: int, n_heads: int) -> torch.Tensor:
    """{(layer, head): value} -> a (n_layers, n_heads) tensor for plotting (NaN where missing)."""
    grid = torch.full((n_layers, n_heads), float("nan"))
    for key, value in scores.items():
        if len(key) == 2:
            grid[key] = value
    return grid
