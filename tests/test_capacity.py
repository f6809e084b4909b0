"""The capacity proxy C: its formula, the parameter and FLOP counters (checked against PyTorch's
own FLOP counter), and its three known weaknesses shown as facts."""

import math

import numpy as np
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from emergence_lib.capacity import (
    REFERENCE_B,
    capacity_proxy,
    count_flops,
    count_params,
    instance_capacity,
    reference_flops,
    transformer_capacity,
)
from emergence_lib.models import Transformer
from emergence_lib.utils import seeded


def make(**kwargs):
    defaults = dict(vocab=13, n_ctx=16, d_model=32, n_layers=2, n_heads=2)
    with seeded(0):
        return Transformer(**{**defaults, **kwargs}).eval()


def test_formula():
    # log2(1024 * 16) + log2 4 + log2 2 + log2(8) = 14 + 2 + 1 + 3
    assert capacity_proxy(1024, 2**16, 4, 2, 800, 100) == 20.0
    assert instance_capacity(1024, 4, 2, 800, 100) == 10 + 2 + 1 + 3
    both = capacity_proxy(np.array([1024, 2048]), REFERENCE_B, 1, 1, 1, 1)
    assert both.tolist() == [14.0, 15.0]


@pytest.mark.parametrize("kwargs", [dict(), dict(d_mlp=24, layernorm=True, head_gates=True),
                                    dict(n_heads=4, d_head=5, n_layers=3)])
def test_flops_match_pytorchs_flop_counter(kwargs, monkeypatch):
    """count_flops = the matmul FLOPs of a forward pass over n_ctx tokens, per token. Counted on
    the explicit attention path: PyTorch's counter does not see the fused CPU attention kernel
    a forward without a cache uses (the same arithmetic, tests/test_transformer.py)."""
    from emergence_lib.models.transformer import Attention

    explicit = Attention.parts
    monkeypatch.setattr(Attention, "parts", lambda self, x, last_position_only=False,
                        need_pattern=True: explicit(self, x, last_position_only, True))
    model = make(**kwargs)
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(2, 16, dtype=torch.long))
    assert count_flops(model) == counter.get_total_flops() / (2 * 16)
    assert count_flops(model, unembed=False) == count_flops(model) - 2 * 32 * 13
    assert reference_flops(32) == count_flops(make(n_layers=1, n_heads=1), n_ctx=1,
                                              unembed=False)


def test_params_of_the_model_or_of_named_parts():
    model = make(d_mlp=24)
    assert count_params(model) == sum(p.numel() for p in model.parameters())
    blocks = sum(p.numel() for p in model.blocks.parameters())
    assert count_params(model, ["blocks"]) == blocks
    assert count_params(model, ["blocks", "blocks.0.attn"]) == blocks     # counted once
    assert count_params(model, ["W_E", "W_pos"]) == (13 + 16) * 32
    with pytest.raises(ValueError, match="'blocks.7' is not a sub-module"):
        count_params(model, ["blocks.7"])
    with pytest.raises(TypeError, match="modules must be a non-empty list"):
        count_params(model, "blocks")


def test_weakness_heads_do_not_change_P_at_fixed_d_model():
    counts = {h: transformer_capacity(make(n_heads=h)) for h in (1, 2, 4, 8)}
    assert len({c["P"] for c in counts.values()}) == 1
    assert len({c["F"] for c in counts.values()}) == 1
    # heads move C only through the explicit log2 H term
    for h, c in counts.items():
        assert c["log2_C"] - counts[1]["log2_C"] == pytest.approx(math.log2(h))


def test_weakness_layers_enter_C_about_three_times():
    def log_c(n_layers, blocks_only):
        model = make(n_layers=n_layers, d_mlp=64)
        P = count_params(model, ["blocks"]) if blocks_only else count_params(model)
        F = count_flops(model, unembed=not blocks_only)
        return capacity_proxy(P, REFERENCE_B, 2, n_layers, F, reference_flops(32))
    # the blocks alone: P and F both double with L, and log2 L adds the third bit
    assert log_c(4, True) - log_c(2, True) == pytest.approx(3.0)
    # with embeddings and unembedding counted, doubling L still adds well over 2 bits
    steps = [log_c(2 * n, False) - log_c(n, False) for n in (1, 2, 4, 8)]
    assert all(2.0 < s <= 3.0 for s in steps) and steps == sorted(steps)


def test_weakness_padding_raises_C_without_changing_a_causal_read_out():
    model = make(n_ctx=64, d_mlp=32)
    tokens = torch.randint(13, (4, 8), generator=torch.Generator().manual_seed(0))
    padded = torch.cat([tokens, torch.zeros(4, 56, dtype=torch.long)], dim=1)
    # the read-out of the first 8 positions is the same with or without the padding
    assert torch.allclose(model(tokens), model(padded)[:, :8], atol=1e-6)
    short, long = transformer_capacity(model, n_ctx=8), transformer_capacity(model, n_ctx=64)
    assert short["P"] == long["P"] and long["F"] > short["F"]
    assert long["log2_C"] - short["log2_C"] > 0.3


@pytest.mark.parametrize("call, match", [
    (lambda: capacity_proxy(0, 2**16, 1, 1, 1, 1), "P must be finite and > 0"),
    (lambda: capacity_proxy(10, 1, 1, 1, 1, 1), "B must be finite and > 1"),
    (lambda: capacity_proxy(10, 4, 1, 1, -5, 1), "F must be finite and > 0"),
    (lambda: capacity_proxy(10, 4, 1, 1, 1, float("nan")), "F_ref must be finite"),
    (lambda: instance_capacity(10, [1, 0], 1, 1, 1), "H must be finite and > 0"),
    (lambda: capacity_proxy("ten", 4, 1, 1, 1, 1), "P must be a number"),
    (lambda: count_flops(torch.nn.Linear(2, 2)), "must be an emergence_lib.models.Transformer"),
    (lambda: count_flops(make(), n_ctx=0), "n_ctx must be >= 1"),
])
def test_bad_inputs(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
