"""A small decoder-only transformer (GPT-style) whose internals can be read and edited.

Used by the grokking chapter (one layer with an MLP, read out at the last position) and the
induction-heads chapter (one or two attention-only layers). No global hooks: pass a ``cache``
dict to ``forward`` to receive attention scores, patterns and per-head outputs, and pass
interventions (``ablate``, ``patch``) explicitly. With ``head_gates=True`` every head also gets one
scalar gate per position (its gate logits come back in the cache, for the gating metric G).

Shapes: B batch, T positions, H heads, D d_model, Dh d_head, V vocab.
Head keys are ``(layer, head)`` pairs, e.g. ``(1, 0)`` is head 0 of the second layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F

from .._validate import check_choice, check_int

HeadKey = tuple[int, int]


class Attention(nn.Module):
    """Causal multi-head self-attention with one weight tensor per role, heads kept separate;
    with ``head_gates``, head h's values at t are scaled by sigmoid(x_t . W_gate[h])."""

    def __init__(self, d_model: int, n_heads: int, d_head: int, head_gates: bool = False):
        super().__init__()
        self.n_heads, self.d_head = n_heads, d_head
        self.W_Q = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_K = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_V = nn.Parameter(torch.empty(n_heads, d_model, d_head))
        self.W_O = nn.Parameter(torch.empty(n_heads, d_head, d_model))
        # created only when asked, so a model without gates keeps its keys and its init stream
        self.W_gate = nn.Parameter(torch.empty(n_heads, d_model)) if head_gates else None

    def forward(self, x: torch.Tensor, last_position_only: bool = False
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (B, T, D) -> pattern (B, H, Tq, T) and head values z (B, H, Tq, Dh), where Tq = T,
        or 1 when only the last position asks (its query sees every key)."""
        _, pattern, z, _ = self.parts(x, last_position_only)
        return pattern, z

    def parts(self, x: torch.Tensor, last_position_only: bool = False,
              need_pattern: bool = True
              ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor,
                         torch.Tensor | None]:
        """x (B, T, D) -> scores (B, H, Tq, T) before the softmax (-inf on future keys),
        pattern (B, H, Tq, T), values z (B, H, Tq, Dh) (gated) and gate logits (B, H, Tq) or
        None. With ``need_pattern=False`` (training: nobody reads the pattern) scores and
        pattern come back as None and z comes from PyTorch's fused causal attention, the same
        softmax(q k^T / sqrt(Dh)) v to float rounding, about 1.3x faster a step on a CPU."""
        T = x.shape[1]
        x_query = x[:, -1:] if last_position_only else x
        q = torch.einsum("btd,hde->bhte", x_query, self.W_Q)  # (B, H, Tq, Dh)
        k = torch.einsum("btd,hde->bhte", x, self.W_K)        # (B, H, T, Dh)
        v = torch.einsum("btd,hde->bhte", x, self.W_V)        # (B, H, T, Dh)
        if not need_pattern and not last_position_only:
            scores = pattern = None
            z = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, Dh)
        else:
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.d_head)  # (B, H, Tq, T)
            if not last_position_only:
                future = torch.triu(torch.ones(T, T, dtype=torch.bool, device=x.device),
                                    diagonal=1)
                scores = scores.masked_fill(future, float("-inf"))
            pattern = scores.softmax(dim=-1)                   # (B, H, Tq, T)
            z = pattern @ v                                    # (B, H, Tq, Dh)
        gate = None
        if self.W_gate is not None:
            gate = torch.einsum("btd,hd->bht", x_query, self.W_gate)  # (B, H, Tq)
            z = z * torch.sigmoid(gate).unsqueeze(-1)
        return scores, pattern, z, gate

    def head_outputs(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, H, Tq, Dh) -> each head's write to the residual stream (B, H, Tq, D)."""
        return torch.einsum("bhte,hed->bhtd", z, self.W_O)

    def combine(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, H, Tq, Dh) -> the summed output of all heads (B, Tq, D)."""
        return torch.einsum("bhte,hed->btd", z, self.W_O)


class MLP(nn.Module):
    """Position-wise feed-forward layer: D -> d_mlp -> ReLU -> D."""

    def __init__(self, d_model: int, d_mlp: int):
        super().__init__()
        self.fc_in = nn.Linear(d_model, d_mlp)
        self.fc_out = nn.Linear(d_mlp, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc_out(F.relu(self.fc_in(x)))  # (B, Tq, D)


class Block(nn.Module):
    """Residual block: x + attn(ln(x)), then (if d_mlp) x + mlp(ln(x))."""

    def __init__(self, d_model: int, n_heads: int, d_head: int, d_mlp: int | None,
                 layernorm: bool, head_gates: bool = False):
        super().__init__()
        self.ln_attn = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.attn = Attention(d_model, n_heads, d_head, head_gates)
        self.ln_mlp = nn.LayerNorm(d_model) if layernorm and d_mlp else nn.Identity()
        self.mlp = MLP(d_model, d_mlp) if d_mlp else None


class Transformer(nn.Module):
    """Decoder-only transformer: token + learned position embeddings, ``n_layers`` causal blocks
    (attention-only when ``d_mlp`` is None), optional pre-LayerNorm, linear unembedding.

    forward: tokens (B, T) int ids in [0, vocab), T <= n_ctx -> logits (B, T, vocab), or
    (B, vocab) with ``last_position_only=True``.
    head_gates: give every head one scalar gate logit per position, g = x_t . W_gate[l, h]
    (x_t the attention's input), and scale its output at t by sigmoid(g). Off by default.
    """

    def __init__(self, vocab: int, n_ctx: int, d_model: int = 64, n_layers: int = 2,
                 n_heads: int = 2, d_head: int | None = None, d_mlp: int | None = None,
                 layernorm: bool = False, act: str = "relu", init_std: float = 0.02,
                 head_gates: bool = False):
        super().__init__()
        self.vocab = check_int("vocab", vocab, minimum=2)
        self.n_ctx = check_int("n_ctx", n_ctx, minimum=1)
        self.d_model = check_int("d_model", d_model, minimum=1)
        self.n_layers = check_int("n_layers", n_layers, minimum=1)
        self.n_heads = check_int("n_heads", n_heads, minimum=1)
        if d_head is None:
            if d_model % n_heads:
                raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads}) "
                                 f"when d_head is not given")
            d_head = d_model // n_heads
        self.d_head = check_int("d_head", d_head, minimum=1)
        self.d_mlp = None if d_mlp is None else check_int("d_mlp", d_mlp, minimum=1)
        if not isinstance(layernorm, bool):
            raise TypeError(f"layernorm must be True or False, got {layernorm!r}")
        self.layernorm = layernorm
        if not isinstance(head_gates, bool):
            raise TypeError(f"head_gates must be True or False, got {head_gates!r}")
        self.head_gates = head_gates
        self.act = check_choice("act", act, ["relu"])
        if not isinstance(init_std, (int, float)) or isinstance(init_std, bool) or init_std <= 0:
            raise ValueError(f"init_std must be a positive number, got {init_std!r}")

        self.W_E = nn.Embedding(vocab, d_model)    # token embedding
        self.W_pos = nn.Embedding(n_ctx, d_model)  # learned position embedding
        self.blocks = nn.ModuleList(Block(d_model, n_heads, self.d_head, self.d_mlp, layernorm,
                                          head_gates) for _ in range(n_layers))
        self.ln_final = nn.LayerNorm(d_model) if layernorm else nn.Identity()
        self.W_U = nn.Linear(d_model, vocab, bias=False)  # unembedding
        gates = []
        for name, p in self.named_parameters():
            if name.endswith("W_gate"):
                gates.append(p)  # drawn last: the other weights match the ungated model's
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln_" in name or name.startswith("ln_"):
                nn.init.ones_(p)
            else:
                nn.init.normal_(p, std=init_std)
        for p in gates:
            nn.init.normal_(p, std=init_std)

    def _check_heads(self, name: str, heads: Mapping) -> None:
        if not isinstance(heads, Mapping):
            raise TypeError(f"{name} must be a dict {{(layer, head): ...}}, "
                            f"got {type(heads).__name__}")
        for key in heads:
            ok = (isinstance(key, tuple) and len(key) == 2
                  and all(isinstance(i, int) and not isinstance(i, bool) for i in key))
            if not ok or not (0 <= key[0] < self.n_layers and 0 <= key[1] < self.n_heads):
                raise ValueError(f"{name} keys must be (layer, head) with layer in "
                                 f"[0, {self.n_layers}) and head in [0, {self.n_heads}), "
                                 f"got {key!r}")

    def forward(self, tokens: torch.Tensor, cache: dict | None = None,
                ablate: Mapping[HeadKey, str] | None = None,
                patch: Mapping[HeadKey, torch.Tensor] | None = None,
                last_position_only: bool = False) -> torch.Tensor:
        """tokens (B, T) -> logits (B, T, V), or (B, V) if ``last_position_only``.

        cache: a dict to fill with ``attn{l}`` patterns (B, H, Tq, T), ``scores{l}`` the
        attention logits before the softmax (B, H, Tq, T; -inf on future keys), ``z{l}`` head
        values (B, H, Tq, Dh; after the gate, with ``head_gates``), ``head_out{l}`` per-head
        writes to the residual stream (B, H, Tq, D), ``resid{l}`` the residual stream entering
        layer l (B, T, D),
        ``resid_final``, and with ``head_gates`` the gate logits ``gate{l}`` (B, H, Tq).
        ablate: ``{(layer, head): "zero" | "mean"}`` replaces that head's values z by zeros or
        by their mean over the batch (per position). patch: ``{(layer, head): z}`` replaces that
        head's values by ``z`` (B, Tq, Dh), e.g. ``cache["z1"][:, 0]`` from another run.
        last_position_only: compute queries, MLP and unembedding only at the last position
        (exact for a one-layer model; a ValueError for deeper ones).
        Without a cache the attention of the full sequence runs PyTorch's fused causal kernel
        (``Attention.parts`` with ``need_pattern=False``): equal to the cached path to float
        rounding, and the training path.
        """
        if not isinstance(tokens, torch.Tensor):
            raise TypeError(f"tokens must be a torch.Tensor, got {type(tokens).__name__}")
        if tokens.ndim != 2 or tokens.is_floating_point() or tokens.is_complex():
            raise ValueError(f"tokens must be integer token ids of shape (batch, positions), "
                             f"got {tokens.dtype} of shape {tuple(tokens.shape)}")
        B, T = tokens.shape
        if not 1 <= T <= self.n_ctx:
            raise ValueError(f"tokens must have between 1 and n_ctx={self.n_ctx} positions, "
                             f"got {T}")
        if torch.compiler.is_compiling():  # torch.export: the same range check, in the graph
            torch._check(tokens.min().item() >= 0)
            torch._check(tokens.max().item() < self.vocab)
        elif tokens.numel() and (int(tokens.min()) < 0 or int(tokens.max()) >= self.vocab):
            raise ValueError(f"tokens must hold ids in [0, {self.vocab}), got values from "
                             f"{int(tokens.min())} to {int(tokens.max())}")
        if last_position_only and self.n_layers > 1:
            raise ValueError(f"last_position_only=True is exact only for a one-layer model "
                             f"(later layers read every position); this model has "
                             f"n_layers={self.n_layers}")
        if cache is not None and not isinstance(cache, dict):
            raise TypeError(f"cache must be a dict or None, got {type(cache).__name__}")
        ablate, patch = ablate or {}, patch or {}
        self._check_heads("ablate", ablate)
        self._check_heads("patch", patch)
        for key, mode in ablate.items():
            check_choice(f"ablate[{key}]", mode, ["zero", "mean"])
        Tq = 1 if last_position_only else T
        for key, value in patch.items():
            if not isinstance(value, torch.Tensor) or tuple(value.shape) != (B, Tq, self.d_head):
                shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value)
                raise ValueError(f"patch[{key}] must be a tensor of shape "
                                 f"{(B, Tq, self.d_head)} (batch, positions, d_head), "
                                 f"got {shape}")

        positions = torch.arange(T, device=tokens.device)
        x = self.W_E(tokens) + self.W_pos(positions)  # (B, T, D)
        for layer, block in enumerate(self.blocks):
            if cache is not None:
                cache[f"resid{layer}"] = x
            scores, pattern, z, gate = block.attn.parts(block.ln_attn(x), last_position_only,
                                                        need_pattern=cache is not None)
            edits = {h: m for (l_, h), m in ablate.items() if l_ == layer}
            patches = {h: p for (l_, h), p in patch.items() if l_ == layer}
            if edits or patches:
                z = z.clone()
                for head, mode in edits.items():
                    z[:, head] = 0.0 if mode == "zero" else z[:, head].mean(0, keepdim=True)
                for head, value in patches.items():
                    z[:, head] = value.to(z.dtype)
            if cache is not None:
                cache[f"scores{layer}"] = scores
                cache[f"attn{layer}"] = pattern
                if gate is not None:
                    cache[f"gate{layer}"] = gate
                cache[f"z{layer}"] = z
                cache[f"head_out{layer}"] = block.attn.head_outputs(z)
            if last_position_only:
                x = x[:, -1:]                                  # (B, 1, D)
            x = x + block.attn.combine(z)                      # (B, Tq, D)
            if block.mlp is not None:
                x = x + block.mlp(block.ln_mlp(x))             # (B, Tq, D)
        if cache is not None:
            cache["resid_final"] = x
        logits = self.W_U(self.ln_final(x))                    # (B, Tq, V)
        return logits[:, -1] if last_position_only else logits
