"""Weights rounded to B bits (precision.round_weights): exactness, level counts, bad inputs."""

import pytest
import torch

from emergence_lib.models import Transformer
from emergence_lib.precision import distinct_values, round_tensor, round_weights
from emergence_lib.utils import seeded


def small_model() -> Transformer:
    with seeded(0):
        return Transformer(vocab=20, n_ctx=6, d_model=16, n_layers=2, n_heads=2, d_mlp=32,
                           layernorm=True)


def test_16_bits_is_close_to_float32():
    model = small_model()
    rounded = round_weights(model, 16)
    for (name, p), q in zip(model.named_parameters(), rounded.parameters(), strict=True):
        step = p.detach().abs().max() / (2 ** 15 - 1)
        assert (p - q).abs().max() <= step / 2 + 1e-7, name
    tokens = torch.randint(20, (4, 6), generator=torch.Generator().manual_seed(0))
    model.eval()
    assert torch.allclose(model(tokens), rounded(tokens), atol=1e-3)


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_at_most_2_to_the_bits_minus_one_values_per_tensor(bits):
    counts = distinct_values(round_weights(small_model(), bits))
    assert max(counts.values()) <= 2 ** bits - 1
    if bits == 2:
        assert max(counts.values()) <= 3     # -scale, 0, +scale (<= 4 as asked)


def test_levels_are_symmetric_and_zero_is_exact():
    w = torch.tensor([-1.0, -0.4, 0.0, 0.2, 0.9])
    assert round_tensor(w, 2).tolist() == [-1.0, 0.0, 0.0, 0.0, 1.0]
    assert round_tensor(w, 3).tolist() == pytest.approx([-1.0, -1 / 3, 0.0, 1 / 3, 1.0])
    assert torch.equal(round_tensor(torch.zeros(3), 4), torch.zeros(3))
    once = round_tensor(w, 4)
    assert torch.equal(round_tensor(once, 4), once)              # idempotent


def test_the_original_is_left_unchanged_and_the_copy_is_in_eval_mode():
    model = small_model().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rounded = round_weights(model, 2)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert model.training and not rounded.training
    assert rounded is not model


@pytest.mark.parametrize("bits, error", [(1, ValueError), (17, ValueError), (2.5, TypeError),
                                         (True, TypeError), ("8", TypeError)])
def test_bad_bits(bits, error):
    with pytest.raises(error, match="bits"):
        round_weights(small_model(), bits)
    with pytest.raises(error, match="bits"):
        round_tensor(torch.ones(3), bits)


def test_bad_models_and_tensors():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        round_weights({"w": torch.ones(2)}, 8)
    with pytest.raises(TypeError, match="floating-point"):
        round_tensor(torch.ones(3, dtype=torch.long), 8)
    with pytest.raises(ValueError, match="finite"):
        round_tensor(torch.tensor([1.0, float("nan")]), 8)
