"""The gating metric G: chance value, maximum, invariance to the non-designated cells, bad
inputs, and its two sources of gate logits (explicit head gates, attention scores)."""

import numpy as np
import pytest
import torch

from emergence_lib.gating import (
    attention_gate_logits,
    explicit_gate_logits,
    gating_activation,
    gating_chance,
    gating_maximum,
    gating_ratio,
)
from emergence_lib.models import Transformer
from emergence_lib.utils import seeded

L, H, T = 3, 4, 8           # H * T = 32 cells per layer: 1/32 is exact in floating point
HEADS, FOCUS, LAYERS = [1, 3], [2, 5, 6], [0, 2]


def test_uniform_logits_give_exactly_the_chance_value():
    for logits in (torch.zeros(L, H, T), torch.full((5, L, H, T), 3.7, dtype=torch.float64)):
        g = gating_activation(logits, HEADS, FOCUS, LAYERS)
        chance = gating_chance(logits, HEADS, FOCUS, LAYERS)
        assert chance == len(LAYERS) / (H * T) == 2 / 32
        assert torch.all(g == chance)
        assert torch.all(gating_ratio(logits, HEADS, FOCUS, LAYERS) == 1.0)
    assert gating_chance(torch.zeros(L, H, T), HEADS, FOCUS) == L / (H * T)  # every layer


def test_a_gate_open_only_on_designated_cells_gives_the_maximum():
    logits = torch.full((L, H, T), -1e4, dtype=torch.float64)
    logits[0, 3, 5] = logits[2, 1, 2] = 0.0              # one-hot per layer, on designated cells
    g = gating_activation(logits, HEADS, FOCUS, LAYERS)
    top = gating_maximum(logits, HEADS, FOCUS, LAYERS)
    assert float(top) == len(LAYERS) / (len(HEADS) * len(FOCUS)) and torch.equal(g, top)
    assert float(gating_ratio(logits, HEADS, FOCUS, LAYERS)) == pytest.approx(
        H * T / (len(HEADS) * len(FOCUS)))
    # spreading the mass over several designated cells is still the maximum
    logits[0, 1, 6] = 0.0
    assert torch.allclose(gating_activation(logits, HEADS, FOCUS, LAYERS), top)
    # the same one-hot on a non-designated cell gives zero
    off = torch.full((L, H, T), -1e4, dtype=torch.float64)
    off[0, 0, 5] = off[2, 1, 0] = 0.0
    assert float(gating_activation(off, HEADS, FOCUS, LAYERS)) == pytest.approx(0.0, abs=1e-12)
    # random logits stay between zero and the maximum
    rand = torch.randn(6, L, H, T, generator=torch.Generator().manual_seed(0))
    g = gating_activation(rand, HEADS, FOCUS, LAYERS)
    assert g.shape == (6,) and torch.all((g > 0) & (g < top))


def test_shuffling_non_designated_cells_leaves_g_unchanged():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(4, L, H, T, generator=gen, dtype=torch.float64)
    designated = torch.zeros(L, H, T, dtype=torch.bool)
    for layer in LAYERS:
        for head in HEADS:
            designated[layer, head, FOCUS] = True
    shuffled = logits.clone()
    for b in range(4):
        for layer in range(L):      # permute the other cells within each layer (same softmax)
            free = (~designated[layer]).flatten().nonzero().squeeze(1)
            flat = shuffled[b, layer].flatten()
            flat[free] = flat[free[torch.randperm(len(free), generator=gen)]]
            shuffled[b, layer] = flat.reshape(H, T)
    assert not torch.equal(shuffled, logits)
    assert torch.allclose(gating_activation(shuffled, HEADS, FOCUS, LAYERS),
                          gating_activation(logits, HEADS, FOCUS, LAYERS), rtol=1e-12)
    # layers outside L_gate do not enter at all
    other = logits.clone()
    other[:, 1] = torch.randn(4, H, T, generator=gen, dtype=torch.float64)
    assert torch.equal(gating_activation(other, HEADS, FOCUS, LAYERS),
                       gating_activation(logits, HEADS, FOCUS, LAYERS))


def test_batch_gives_one_value_per_example_and_masks_per_example_focus():
    logits = torch.randn(3, L, H, T, generator=torch.Generator().manual_seed(2))
    batch = gating_activation(logits, HEADS, FOCUS)
    single = torch.stack([gating_activation(x, HEADS, FOCUS) for x in logits])
    assert batch.shape == (3,) and torch.allclose(batch, single)
    mask = torch.zeros(3, T, dtype=torch.bool)
    mask[0, FOCUS] = True
    mask[1, [0]] = True
    mask[2, [1, 7]] = True
    per = gating_activation(logits, HEADS, mask)
    assert torch.allclose(per[0], batch[0])
    assert torch.allclose(per[1], gating_activation(logits[1], HEADS, [0]))
    assert torch.allclose(per[2], gating_activation(logits[2], HEADS, np.array([1, 7])))
    assert gating_maximum(logits, HEADS, mask).tolist() == [L / 6, L / 2, L / 4]
    # differentiable in the logits (e.g. for a gate regulariser)
    x = logits.clone().requires_grad_(True)
    gating_activation(x, HEADS, FOCUS).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("call, error, match", [
    (lambda z: gating_activation(z[0, 0], [0], [0]), ValueError, "logits must have shape"),
    (lambda z: gating_activation(z.long(), [0], [0]), TypeError, "floating point"),
    (lambda z: gating_activation([[[0.0]]], [0], [0]), TypeError, "logits must be a torch"),
    (lambda z: gating_activation(torch.zeros(0, H, T), [0], [0]), ValueError, "not be empty"),
    (lambda z: gating_activation(z.index_fill(-1, torch.tensor([3]), float("nan")), [0], [0]),
     ValueError, "logits must be finite"),
    (lambda z: gating_activation(z, [], [0]), ValueError, "gate_heads must not be empty"),
    (lambda z: gating_activation(z, [4], [0]), ValueError, r"gate_heads must hold head indices "
                                                            r"in \[0, 4\), got 4"),
    (lambda z: gating_activation(z, [-1], [0]), ValueError, "gate_heads"),
    (lambda z: gating_activation(z, [1, 1], [0]), ValueError, "gate_heads must not repeat"),
    (lambda z: gating_activation(z, [0.5], [0]), TypeError, "gate_heads must hold integer"),
    (lambda z: gating_activation(z, 1, [0]), TypeError, "gate_heads must be a sequence"),
    (lambda z: gating_activation(z, [0], []), ValueError, "focus_tokens must not be empty"),
    (lambda z: gating_activation(z, [0], [8]), ValueError, r"token indices in \[0, 8\)"),
    (lambda z: gating_activation(z, [0], [0], []), ValueError, "gate_layers must not be empty"),
    (lambda z: gating_activation(z, [0], [0], [3]), ValueError, r"layer indices in \[0, 3\)"),
    (lambda z: gating_activation(z, [0], torch.zeros(T, dtype=torch.bool)), ValueError,
     "select at least one token"),
    (lambda z: gating_activation(z, [0], torch.ones(2, T, dtype=torch.bool)), ValueError,
     "mask must have shape"),
])
def test_bad_inputs_name_the_argument(call, error, match):
    with pytest.raises(error, match=match):
        call(torch.zeros(L, H, T))


# --- sources of gate logits ---

def make(**kwargs):
    with seeded(0):
        return Transformer(vocab=11, n_ctx=8, d_model=16, n_layers=2, n_heads=2, **kwargs).eval()


def test_explicit_gates_from_the_cache():
    model = make(head_gates=True)
    tokens = torch.randint(11, (3, 8), generator=torch.Generator().manual_seed(0))
    model(tokens, cache=(cache := {}))
    g = explicit_gate_logits(cache)
    assert g.shape == (3, 2, 2, 8) and torch.equal(g[:, 1], cache["gate1"])
    assert gating_activation(g, [0], [6, 7], [1]).shape == (3,)
    model_without = make()
    model_without(tokens, cache=(plain := {}))
    with pytest.raises(ValueError, match="head_gates=True"):
        explicit_gate_logits(plain)


def test_attention_scores_as_gates():
    model = make()
    tokens = torch.randint(11, (3, 8), generator=torch.Generator().manual_seed(0))
    model(tokens, cache=(cache := {}))
    queries = torch.tensor([3, 5, 7])
    keys = torch.tensor([[1, 2, 4], [0, 5, 6], [3, 3, 3]])   # one key per query, per example
    g = attention_gate_logits(cache, queries, keys)
    assert g.shape == (3, 2, 2, 3)
    for b in range(3):
        for i in range(3):
            expected = cache["scores1"][b, :, queries[i], keys[b, i]]
            assert torch.equal(g[b, 1, :, i], expected)
    # a list of per-layer scores works the same way; the result feeds G directly
    assert torch.equal(attention_gate_logits([cache["scores0"], cache["scores1"]],
                                             queries, keys), g)
    ratio = gating_ratio(g, [1], [2], [1])
    assert ratio.shape == (3,) and torch.isfinite(ratio).all()
    with pytest.raises(ValueError, match="cannot attend to a later key"):
        attention_gate_logits(cache, [3], [4])
    with pytest.raises(ValueError, match=r"key_positions must lie in \[0, 8\)"):
        attention_gate_logits(cache, [3], [8])
    with pytest.raises(ValueError, match="one key per query"):
        attention_gate_logits(cache, [3, 4], [1])
    with pytest.raises(ValueError, match="integer positions"):
        attention_gate_logits(cache, [3.0], [1])
    with pytest.raises(ValueError, match="no 'scores0'"):
        attention_gate_logits({}, [3], [1])
    with pytest.raises(TypeError, match="cache dict"):
        attention_gate_logits("scores", [3], [1])
