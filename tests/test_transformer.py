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


# --- head gates (off by default: nothing changes) ---

KEYS = ['W_E.weight', 'W_pos.weight', 'blocks.0.ln_attn.weight', 'blocks.0.ln_attn.bias',
        'blocks.0.attn.W_Q', 'blocks.0.attn.W_K', 'blocks.0.attn.W_V', 'blocks.0.attn.W_O',
        'blocks.0.ln_mlp.weight', 'blocks.0.ln_mlp.bias', 'blocks.0.mlp.fc_in.weight',
        'blocks.0.mlp.fc_in.bias', 'blocks.0.mlp.fc_out.weight', 'blocks.0.mlp.fc_out.bias',
        'blocks.1.ln_attn.weight', 'blocks.1.ln_attn.bias', 'blocks.1.attn.W_Q',
        'blocks.1.attn.W_K', 'blocks.1.attn.W_V', 'blocks.1.attn.W_O', 'blocks.1.ln_mlp.weight',
        'blocks.1.ln_mlp.bias', 'blocks.1.mlp.fc_in.weight', 'blocks.1.mlp.fc_in.bias',
        'blocks.1.mlp.fc_out.weight', 'blocks.1.mlp.fc_out.bias', 'ln_final.weight',
        'ln_final.bias', 'W_U.weight']


def test_gates_off_keeps_keys_init_stream_and_outputs():
    """Values recorded from the model before head_gates existed (same seed, same settings)."""
    for model in (make(d_mlp=32, layernorm=True),
                  make(d_mlp=32, layernorm=True, head_gates=False)):
        assert list(model.state_dict()) == KEYS
        assert model.W_E.weight[0, :4].tolist() == [
            0.019398262724280357, -0.004728703759610653, -0.03740638867020607,
            0.0065530529245734215]
        assert model.W_U.weight[-1, -3:].tolist() == [
            -0.03825840726494789, -0.01409993227571249, 0.011228066869080067]
        logits = model(torch.arange(8).reshape(1, 8))[0, -1, :4]
        expected = torch.tensor([0.13937672972679138, 0.21160948276519775,
                                 0.06903724372386932, 0.035284992307424545])
        assert torch.allclose(logits, expected, rtol=1e-5, atol=1e-7)
        cache = {}
        model(torch.arange(8).reshape(1, 8), cache=cache)
        assert not any(k.startswith("gate") for k in cache)


def test_head_gates_scale_each_head_by_sigmoid_of_its_logit():
    gated = make(head_gates=True)
    assert gated.blocks[0].attn.W_gate.shape == (2, 16)
    # gates are drawn after every other weight: the rest equals the ungated model's
    ungated = make().state_dict()
    assert all(torch.equal(v, ungated[k]) for k, v in gated.state_dict().items()
               if "W_gate" not in k)
    tokens = torch.randint(11, (3, 8))
    cache = {}
    gated(tokens, cache=cache)
    assert cache["gate0"].shape == (3, 2, 8) and cache["gate1"].shape == (3, 2, 8)
    # the gate logit is the attention input . W_gate[h] (no layernorm here: input = resid)
    expected = torch.einsum("btd,hd->bht", cache["resid1"], gated.blocks[1].attn.W_gate)
    assert torch.allclose(cache["gate1"], expected, atol=1e-6)
    # W_gate = 0 gives sigmoid(0) = 1/2 on every head: the ungated model with W_O halved
    plain = make()
    state = {k: v.clone() for k, v in gated.state_dict().items() if "W_gate" not in k}
    for block in range(2):
        state[f"blocks.{block}.attn.W_O"] *= 0.5
    plain.load_state_dict(state)
    with torch.no_grad():
        for block in gated.blocks:
            block.attn.W_gate.zero_()
    assert torch.allclose(gated(tokens), plain(tokens), atol=1e-6)
    one_layer = make(n_layers=1, head_gates=True)
    one_layer(tokens, last_position_only=True, cache=(c := {}))
    assert c["gate0"].shape == (3, 2, 1)
    with pytest.raises(TypeError, match="head_gates must be True or False"):
        make(head_gates="yes")


def test_cache_holds_scores_before_the_softmax():
    model = make()
    tokens = torch.randint(11, (2, 8))
    model(tokens, cache=(cache := {}))
    assert cache["scores1"].shape == (2, 2, 8, 8)
    assert torch.isinf(cache["scores0"].triu(1)[..., 0, 1:]).all()
    assert torch.allclose(cache["scores1"].softmax(-1), cache["attn1"])


@pytest.mark.parametrize("kwargs", [{}, {"d_mlp": 32, "layernorm": True}, {"head_gates": True}])
def test_fused_training_path_equals_the_cached_path(kwargs):
    """Without a cache the attention runs the fused kernel: same logits and gradients to float
    rounding as the explicit path that fills the cache, with ablations applied the same way."""
    model = make(**kwargs)
    tokens = torch.randint(11, (5, 8))
    fused = model(tokens)
    explicit = model(tokens, cache={})
    assert torch.allclose(fused, explicit, atol=1e-5)
    grads = []
    for cache in (None, {}):
        model.zero_grad()
        model(tokens, cache=cache).square().mean().backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for a, b in zip(*grads, strict=True):
        assert torch.allclose(a, b, atol=1e-6, rtol=1e-4)
    ablated = model(tokens, ablate={(1, 0): "zero"})
    assert torch.allclose(ablated, model(tokens, cache={}, ablate={(1, 0): "zero"}), atol=1e-5)
