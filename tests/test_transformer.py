import pytest
import torch

from emergence_lib.models import Transformer
from emergence_lib.utils import seeded


def make(**kwargs):
    defaults = dict(vocab=11, n_ctx=8, d_model=16, n_layers=2, n_heads=2)
    with seeded(0):
        return Transformer(**{**defaults, **kwargs}).eval()


def test_shapes_and_cache():
    model = make(d_mlp=32, layernorm=True)
    tokens = torch.randint(11, (3, 8))
    cache = {}
    logits = model(tokens, cache=cache)
    assert logits.shape == (3, 8, 11)
    assert cache["attn0"].shape == (3, 2, 8, 8) and cache["z1"].shape == (3, 2, 8, 8)
    assert cache["head_out1"].shape == (3, 2, 8, 16) and cache["resid_final"].shape == (3, 8, 16)
    assert torch.allclose(cache["attn1"].sum(-1), torch.ones(3, 2, 8))
    # the heads' writes plus the residual stream entering the layer give the next one
    attn_only = make()
    attn_only(tokens, cache=(c := {}))
    assert torch.allclose(c["resid0"] + c["head_out0"].sum(1), c["resid1"], atol=1e-6)


def test_causal():
    model = make(d_mlp=32)
    tokens = torch.randint(11, (2, 8))
    changed = tokens.clone()
    changed[:, 5] = (changed[:, 5] + 1) % 11
    a, b = model(tokens), model(changed)
    assert torch.allclose(a[:, :5], b[:, :5], atol=1e-6)
    assert not torch.allclose(a[:, 5:], b[:, 5:])
    cache = {}
    model(tokens, cache=cache)
    assert (cache["attn0"].triu(1) == 0).all()


def test_last_position_only_is_exact_for_one_layer():
    model = make(n_layers=1, d_mlp=32, layernorm=True)
    tokens = torch.randint(11, (4, 7))
    full = model(tokens)[:, -1]
    cache = {}
    last = model(tokens, last_position_only=True, cache=cache)
    assert last.shape == (4, 11) and torch.allclose(full, last, atol=1e-5)
    assert cache["attn0"].shape == (4, 2, 1, 7)
    with pytest.raises(ValueError, match="n_layers=2"):
        make()(tokens, last_position_only=True)


def test_ablation_and_patching():
    model = make()
    tokens = torch.randint(11, (4, 8))
    clean = {}
    base = model(tokens, cache=clean)
    zero = {}
    model(tokens, cache=zero, ablate={(1, 0): "zero"})
    assert (zero["z1"][:, 0] == 0).all() and torch.equal(zero["z1"][:, 1], clean["z1"][:, 1])
    mean = {}
    model(tokens, cache=mean, ablate={(0, 1): "mean"})
    assert torch.allclose(mean["z0"][:, 1], clean["z0"][:, 1].mean(0).expand(4, -1, -1))
    # patching a head with its own clean values changes nothing
    patched = model(tokens, patch={(0, 0): clean["z0"][:, 0], (1, 1): clean["z1"][:, 1]})
    assert torch.allclose(patched, base, atol=1e-6)
    other = torch.randint(11, (4, 8))
    assert not torch.allclose(model(other, patch={(1, 0): clean["z1"][:, 0]}), model(other))


def test_seeded_and_no_global_state():
    pairs = zip(make().parameters(), make().parameters(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    model = make()
    tokens = torch.randint(11, (2, 8))
    model(tokens, cache={}, ablate={(0, 0): "zero"})
    assert torch.equal(model(tokens), make()(tokens))


@pytest.mark.parametrize("kwargs, match", [
    ({"vocab": 1}, "vocab must be >= 2"),
    ({"d_model": 15}, "divisible by n_heads"),
    ({"n_layers": 0}, "n_layers must be >= 1"),
    ({"d_mlp": 0}, "d_mlp must be >= 1"),
    ({"act": "gelu"}, "act must be one of"),
    ({"layernorm": 1}, "layernorm must be True or False"),
])
def test_bad_construction(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make(**kwargs)


def test_bad_forward_inputs():
    model = make()
    with pytest.raises(ValueError, match="ids in \\[0, 11\\)"):
        model(torch.full((1, 4), 11))
    with pytest.raises(ValueError, match="n_ctx=8"):
        model(torch.zeros(1, 9, dtype=torch.long))
    with pytest.raises(ValueError, match="shape \\(batch, positions\\)"):
        model(torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="integer token ids"):
        model(torch.zeros(1, 4))
    with pytest.raises(TypeError, match="tokens must be a torch.Tensor"):
        model([[1, 2]])
    tokens = torch.zeros(2, 4, dtype=torch.long)
    with pytest.raises(ValueError, match="ablate keys must be \\(layer, head\\)"):
        model(tokens, ablate={(2, 0): "zero"})
    with pytest.raises(ValueError, match="ablate\\[\\(0, 0\\)\\] must be one of"):
        model(tokens, ablate={(0, 0): "random"})
    with pytest.raises(ValueError, match="patch\\[\\(1, 1\\)\\] must be a tensor of shape"):
        model(tokens, patch={(1, 1): torch.zeros(2, 3, 8)})
    with pytest.raises(TypeError, match="cache must be a dict"):
        model(tokens, cache=[])
