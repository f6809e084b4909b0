"""Progress measures for induction heads, read from attention patterns and per-position losses.

An induction circuit has two parts: a *previous-token head* (layer 0) whose query at t attends
to t - 1, and an *induction head* (a later layer) whose query at t attends to the position just
after an earlier copy of the current token ("prefix matching"), then copies what it finds there.
The two compose through the induction head's keys (K-composition), which we also read from the
weights alone (Elhage et al. 2021).

Weight conventions (row vectors, as in ``models.Transformer``): a head's attention score is
``x_q W_QK x_k^T`` with ``W_QK = W_Q W_K^T`` (D, D), and its write to the residual stream is
``x W_OV`` with ``W_OV = W_V W_O`` (D, D).
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
    return _previous_token(pattern)


def _previous_token(pattern: torch.Tensor) -> torch.Tensor:
    """``previous_token_score`` without the checks (for patterns the model just made)."""
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
    target = prefix_targets(tokens)
    if not target.any():
        raise ValueError("no position in tokens repeats an earlier token: use sequences with "
                         "repeats (e.g. tasks.repeated_sequences)")
    return _prefix_matching(pattern, target)


def prefix_targets(tokens: torch.Tensor) -> torch.Tensor:
    """The keys an induction head should attend to: tokens (B, T) -> (B, T, T) bool,
    target[b, t, s] = tokens[b, s - 1] == tokens[b, t] for 1 <= s <= t."""
    B, T = tokens.shape
    same = tokens[:, :, None] == tokens[:, None, :]                      # (B, T, T) [t, s]
    target = torch.zeros(B, T, T, dtype=torch.bool)
    target[:, :, 1:] = same[:, :, :-1]
    return target & torch.ones(T, T, dtype=torch.bool).tril()           # s <= t


def _prefix_matching(pattern: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``prefix_matching_score`` from precomputed ``prefix_targets`` (B, T, T), without the
    checks: pattern (B, H, T, T) -> (H,)."""
    has_target = target.any(-1)                                          # (B, T)
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
    per position (index i = the loss of predicting token i + 1) -> mean at ``late`` minus mean
    at ``early``; negative = the model predicts better with more context. Measure it on
    sequences unlike the training data, or it is the training loss in another form."""
    losses = check_tensor("losses", losses)
    if losses.ndim not in (1, 2):
        raise ValueError(f"losses must have shape (B, T - 1) or (T - 1,), "
                         f"got {tuple(losses.shape)}")
    losses = losses.reshape(-1, losses.shape[-1])
    early = check_int("early", early, minimum=0, maximum=losses.shape[1] - 1)
    late = check_int("late", late, minimum=early + 1, maximum=losses.shape[1] - 1)
    return float(losses[:, late].mean() - losses[:, early].mean())


def _head_weights(model: nn.Module, layer: int, head: int) -> tuple[torch.Tensor, ...]:
    """(W_Q, W_K, W_V, W_O) of one head of a ``models.Transformer``: three (D, Dh), one (Dh, D)."""
    n_layers, n_heads = getattr(model, "n_layers", None), getattr(model, "n_heads", None)
    if n_layers is None or not hasattr(model, "blocks"):
        raise TypeError(f"model must be an emergence_lib.models.Transformer, "
                        f"got {type(model).__name__}")
    if not (0 <= layer < n_layers and 0 <= head < n_heads):
        raise ValueError(f"head (layer, head) must have layer in [0, {n_layers}) and head in "
                         f"[0, {n_heads}), got {(layer, head)}")
    attn = model.blocks[layer].attn
    return tuple(w[head].detach() for w in (attn.W_Q, attn.W_K, attn.W_V, attn.W_O))


def qk_matrix(model: nn.Module, layer: int, head: int) -> torch.Tensor:
    """A head's bilinear attention form ``W_QK = W_Q W_K^T`` (D, D): score = x_q W_QK x_k^T."""
    W_Q, W_K, _, _ = _head_weights(model, layer, head)
    return W_Q @ W_K.T


def ov_matrix(model: nn.Module, layer: int, head: int) -> torch.Tensor:
    """A head's output-value map ``W_OV = W_V W_O`` (D, D): what it writes is x W_OV."""
    _, _, W_V, W_O = _head_weights(model, layer, head)
    return W_V @ W_O


def composition_score(A: torch.Tensor, B: torch.Tensor) -> float:
    """Elhage et al.'s composition score ||A B||_F / (||A||_F ||B||_F) of two matrices
    A (m, k), B (k, n): near 1/sqrt(k) for unrelated random matrices, 1 for aligned rank one."""
    A = check_tensor("A", A, ndim=2).detach()
    B = check_tensor("B", B, ndim=2).detach()
    if A.shape[1] != B.shape[0]:
        raise ValueError(f"A {tuple(A.shape)} and B {tuple(B.shape)} cannot be multiplied")
    norms = float(A.norm() * B.norm())
    if norms == 0:
        raise ValueError("A or B is all zeros: the composition score is undefined")
    return float((A @ B).norm()) / norms


@torch.no_grad()
def k_composition(model: nn.Module, earlier: HeadKey, later: HeadKey) -> float:
    """How much the ``later`` head's keys read what the ``earlier`` head writes:
    ``composition_score(W_QK^later, (W_OV^earlier)^T)`` (Elhage et al.'s K-composition)."""
    if earlier[0] >= later[0]:
        raise ValueError(f"earlier head {earlier} must sit in a lower layer than later {later}")
    return composition_score(qk_matrix(model, *later), ov_matrix(model, *earlier).T)


@torch.no_grad()
def token_matching_score(model: nn.Module, earlier: HeadKey, later: HeadKey) -> float:
    """The K-composed circuit read in token space: M[a, b] = the ``later`` head's score from a
    query holding token a to a key where the ``earlier`` head wrote token b,
    ``M = W_E W_QK (W_E W_OV)^T`` (V, V). Returns the mean of M's diagonal over the standard
    deviation of its off-diagonal, after centring each row (softmax ignores a row's offset):
    about 0 for random weights, large when keys are found by *matching the query's token*."""
    if earlier[0] >= later[0]:
        raise ValueError(f"earlier head {earlier} must sit in a lower layer than later {later}")
    W_E = model.W_E.weight.detach()                                    # (V, D)
    M = W_E @ qk_matrix(model, *later) @ (W_E @ ov_matrix(model, *earlier)).T  # (V, V)
    M = M - M.mean(1, keepdim=True)
    off = M[~torch.eye(len(M), dtype=torch.bool)]
    return float(M.diagonal().mean() / off.std())


def composition_baseline(d_model: int, d_head: int, vocab: int, n_draws: int = 200,
                         seed: int = 0) -> dict[str, tuple[float, float]]:
    """Mean and standard deviation of ``k_composition`` and ``token_matching_score`` for
    independent Gaussian weights of the model's shapes (the random-matrix baseline):
    {"k_composition": (mean, std), "token_matching": (mean, std)}."""
    d_model = check_int("d_model", d_model, minimum=1)
    d_head = check_int("d_head", d_head, minimum=1)
    vocab = check_int("vocab", vocab, minimum=2)
    n_draws = check_int("n_draws", n_draws, minimum=2)
    g = torch.Generator().manual_seed(check_int("seed", seed, minimum=0))
    k, match = [], []
    for _ in range(n_draws):
        W_Q, W_K, W_V = (torch.randn(d_model, d_head, generator=g) for _ in range(3))
        W_O = torch.randn(d_head, d_model, generator=g)
        W_E = torch.randn(vocab, d_model, generator=g)
        QK, OV = W_Q @ W_K.T, W_V @ W_O
        k.append(composition_score(QK, OV.T))
        M = W_E @ QK @ (W_E @ OV).T
        M = M - M.mean(1, keepdim=True)
        match.append(float(M.diagonal().mean() / M[~torch.eye(vocab, dtype=torch.bool)].std()))
    return {name: (float(torch.tensor(v).mean()), float(torch.tensor(v).std()))
            for name, v in (("k_composition", k), ("token_matching", match))}


@torch.no_grad()
def composition_measures(model: nn.Module) -> dict[str, float]:
    """Weight-only measures for every (layer-0 head, layer-1 head) pair:
    ``kcomp_L0H{a}_L1H{b}`` (``k_composition``) and ``kmatch_L0H{a}_L1H{b}``
    (``token_matching_score``); empty for a one-layer model."""
    out: dict[str, float] = {}
    if model.n_layers < 2:
        return out
    for a in range(model.n_heads):
        for b in range(model.n_heads):
            out[f"kcomp_L0H{a}_L1H{b}"] = k_composition(model, (0, a), (1, b))
            out[f"kmatch_L0H{a}_L1H{b}"] = token_matching_score(model, (0, a), (1, b))
    return out


@torch.no_grad()
def text_icl_measures(model: nn.Module, tokens: torch.Tensor, mask: torch.Tensor,
                      early: int, late: int) -> dict[str, float]:
    """On held-out text-like sequences (``tasks.induction.text_like_sequences``): ``icl_score``
    (Olsson et al.: loss at position ``late`` minus at ``early``), and the mean loss on the
    copyable (``text_copy_loss``) and the other (``text_fresh_loss``) positions."""
    tokens, mask = _check_tokens_mask(tokens, mask)
    logits = model(tokens)                                              # (B, T, V)
    if not torch.isfinite(logits).all():
        raise ValueError("the model's logits contain NaN or infinite values")
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:],
                             reduction="none")                          # (B, T - 1)
    copyable = mask[:, :-1]
    return {"icl_score": in_context_learning_score(losses, early, late),
            "text_copy_loss": float(losses[copyable].mean()),
            "text_fresh_loss": float(losses[~copyable].mean())}


@torch.no_grad()
def induction_measures(model: nn.Module, tokens: torch.Tensor, mask: torch.Tensor
                       ) -> dict[str, float]:
    """Every attention measure at once on evaluation sequences: ``copy_loss`` (mean loss on the
    masked positions), per-head ``prev_token_L{l}H{h}`` and ``prefix_L{l}H{h}``, and the
    summaries ``prev_token_score`` (best layer-0 head) and ``induction_score`` (best head of
    the last layer)."""
    tokens, mask = _check_tokens_mask(tokens, mask)
    target = prefix_targets(tokens)
    if not target.any():
        raise ValueError("no position in tokens repeats an earlier token: use sequences with "
                         "repeats (e.g. tasks.repeated_sequences)")
    cache: dict = {}
    logits = model(tokens, cache=cache)
    if not torch.isfinite(logits).all():
        raise ValueError("the model's logits contain NaN or infinite values")
    # the patterns come from the model (softmax of finite logits): score them unchecked
    losses = F.cross_entropy(logits[:, :-1].transpose(1, 2), tokens[:, 1:], reduction="none")
    out = {"copy_loss": float(losses[mask[:, :-1]].mean())}
    n_layers = model.n_layers
    prev0 = _previous_token(cache["attn0"])
    for layer in range(n_layers):
        prev = _previous_token(cache[f"attn{layer}"])
        prefix = _prefix_matching(cache[f"attn{layer}"], target)
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
