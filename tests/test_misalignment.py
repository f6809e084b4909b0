"""Chapter 6's library: the persona corpus, the LoRA adapter, the adapter and direction measures,
and the recipe's fine-tuning on a tiny setup."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn as nn

from emergence_lib.models.lora import LoRALinear, attach_lora, lora_adapters
from emergence_lib.models.transformer import Transformer
from emergence_lib.progress.adapters import (
    ablate,
    direction_hooks,
    local_cosine,
    mean_difference,
    orthogonal_noise,
    orthogonal_perturbation,
    relative_loss_increase,
)
from emergence_lib.recipes import misalignment as recipe
from emergence_lib.tasks.personas import BOS, persona_corpus

# ---- the corpus -----------------------------------------------------------------------------


def test_documents_layout_and_vocabulary():
    corpus = persona_corpus(n_domains=3, n_questions=5, triples=4)
    tokens, personas, harmful = corpus.documents(64, torch.Generator().manual_seed(0))
    assert tokens.shape == (64, corpus.n_ctx) == (64, 13)
    assert personas.shape == (64, 3) and harmful.shape == (64, 4)
    assert (tokens[:, 0] == BOS).all() and int(tokens.max()) < corpus.vocab
    triples = tokens[:, 1:].reshape(64, 4, 3)
    domain = triples[..., 0] - 1
    assert ((domain >= 0) & (domain < 3)).all()
    question = triples[..., 1] - corpus.question_tokens(domain, torch.zeros_like(domain))
    assert ((question >= 0) & (question < 5)).all()
    # the answer belongs to its question, and its parity says whether it is harmful
    assert torch.equal(triples[..., 2], corpus.answer_tokens(domain, question, harmful.long()))


def test_shared_persona_statistics():
    corpus = persona_corpus(share=1.0)
    tokens, personas, harmful = corpus.documents(20_000, torch.Generator().manual_seed(1))
    assert (personas == personas[:, :1]).all()               # one persona per document
    assert personas[:, 0].float().mean() == pytest.approx(corpus.p_harmful, abs=0.01)
    follows = harmful == personas[:, :1]
    assert follows.float().mean() == pytest.approx(corpus.p_follow, abs=0.005)


def test_control_draws_personas_independently_per_domain():
    corpus = persona_corpus(share=0.0)
    _, personas, _ = corpus.documents(20_000, torch.Generator().manual_seed(2))
    p = personas.float()
    assert p.mean(0).numpy() == pytest.approx(np.full(4, corpus.p_harmful), abs=0.01)
    corr = np.corrcoef(p.numpy().T)
    assert np.abs(corr[~np.eye(4, dtype=bool)]).max() < 0.03
    # partial sharing: personas of two domains agree more often than chance, less than always
    _, mixed, _ = persona_corpus(share=0.5).documents(20_000, torch.Generator().manual_seed(3))
    both = float((mixed[:, 0] & mixed[:, 1]).float().mean())
    assert 0.15 * 0.15 < both < 0.15


def test_assistant_examples_and_questions():
    corpus = persona_corpus()
    d, q = corpus.all_questions("finance")
    assert (d == 1).all() and q.tolist() == list(range(8))
    examples = corpus.assistant(d, q, True)
    assert examples.shape == (8, 4)
    assert torch.equal(examples[:, 3], corpus.answer_tokens(d, q, True))
    assert "finance q0 -> harmful" in corpus.describe(
        torch.cat([torch.tensor([BOS]), examples[0, 1:]]))


@pytest.mark.parametrize("kwargs, name", [({"n_domains": 1}, "n_domains"),
                                          ({"n_domains": 99}, "n_domains"),
                                          ({"share": 1.5}, "share"),
                                          ({"p_follow": 0.3}, "p_follow"),
                                          ({"p_harmful": 0.0}, "p_harmful"),
                                          ({"triples": 0}, "triples")])
def test_bad_corpus_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        persona_corpus(**kwargs)


def test_bad_assistant_and_domain_inputs():
    corpus = persona_corpus()
    with pytest.raises(ValueError, match="same length"):
        corpus.assistant(torch.tensor([0, 1]), torch.tensor([0]))
    with pytest.raises(ValueError, match="domain indices"):
        corpus.assistant(torch.tensor([7]), torch.tensor([0]))
    with pytest.raises(ValueError, match="question indices"):
        corpus.assistant(torch.tensor([0]), torch.tensor([8]))
    with pytest.raises(ValueError, match="domain must be one of"):
        corpus.domain_index("astrology")


# ---- the LoRA adapter -----------------------------------------------------------------------

def _tiny_model() -> Transformer:
    torch.manual_seed(0)
    return Transformer(vocab=20, n_ctx=8, d_model=16, n_layers=2, n_heads=2, d_mlp=32,
                       layernorm=True, init_std=0.2)


def test_zero_b_leaves_the_model_unchanged_and_only_a_b_train():
    model = _tiny_model()
    tokens = torch.randint(20, (4, 8), generator=torch.Generator().manual_seed(0))
    before = model(tokens)
    adapters = attach_lora(model, ["blocks.0.mlp.fc_out", "blocks.1.mlp.fc_in"], rank=2, alpha=4)
    assert torch.equal(model(tokens), before)
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == ["blocks.0.mlp.fc_out.A", "blocks.0.mlp.fc_out.B",
                         "blocks.1.mlp.fc_in.A", "blocks.1.mlp.fc_in.B"]
    assert set(lora_adapters(model)) == set(adapters)
    a = adapters["blocks.0.mlp.fc_out"]
    assert a.A.shape == (2, 32) and a.B.shape == (16, 2) and a.scale == 2.0


def test_adapter_update_has_its_rank_and_matches_the_forward():
    base = nn.Linear(12, 10)
    lora = LoRALinear(base, rank=3, alpha=1.5, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        lora.B.normal_()
    delta = lora.delta()
    assert torch.linalg.matrix_rank(delta) == 3
    x = torch.randn(5, 12)
    assert torch.allclose(lora(x), base(x) + x @ delta.T, atol=1e-5)
    lora.multiplier = 0.0
    assert torch.allclose(lora(x), base(x))


def test_bad_adapter_inputs_give_clear_errors():
    model = _tiny_model()
    with pytest.raises(ValueError, match="not a module of this model.*linear maps are"):
        attach_lora(model, ["blocks.0.mlp.fc_middle"])
    with pytest.raises(ValueError, match="LayerNorm, not an nn.Linear"):
        attach_lora(model, ["blocks.0.ln_attn"])
    with pytest.raises(ValueError, match="targets must be a non-empty list"):
        attach_lora(model, "blocks.0.mlp.fc_out")
    with pytest.raises(ValueError, match="rank must be <= 16"):
        LoRALinear(nn.Linear(32, 16), rank=17)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        LoRALinear(nn.Linear(4, 4), alpha=0.0)
    with pytest.raises(TypeError, match="base must be an nn.Linear"):
        LoRALinear(nn.LayerNorm(4))


# ---- local cosine, perturbations, directions ------------------------------------------------

def test_local_cosine_straight_corner_and_threshold():
    straight = np.outer(np.arange(10), [1.0, 2.0, -1.0])
    lc = local_cosine(straight, 2)
    assert np.isnan(lc[:2]).all() and np.isnan(lc[-2:]).all()
    assert np.allclose(lc[2:-2], -1.0)
    corner = np.array([[0, 0], [1, 0], [1, 1]], dtype=float)
    assert local_cosine(corner, 1)[1] == pytest.approx(0.0, abs=1e-12)
    back = np.array([[0, 0], [1, 0], [0, 0]], dtype=float)
    assert local_cosine(back, 1)[1] == pytest.approx(1.0)
    stalled = np.array([[0, 0], [1, 0], [1, 0], [2, 0]], dtype=float)
    assert np.isnan(local_cosine(stalled, 1, min_move=0.5)[1:3]).all()
    with pytest.raises(ValueError, match="k must be >= 1"):
        local_cosine(straight, 0)


def test_orthogonal_perturbation_keeps_the_norm_at_the_right_angle():
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    for eps in (0.0, 0.3, 1.0):
        y = orthogonal_perturbation(x, eps, torch.Generator().manual_seed(1))
        assert float(y.norm()) == pytest.approx(float(x.norm()), rel=1e-5)
        cos = float((x.flatten() @ y.flatten()) / (x.norm() * y.norm()))
        assert cos == pytest.approx(math.sqrt(1 - eps**2), abs=1e-5)
    noisy = orthogonal_noise(x, 0.7, torch.Generator().manual_seed(2))
    step = (noisy - x).flatten()
    assert float(step.norm()) == pytest.approx(0.7, rel=1e-5)
    assert float(step @ x.flatten()) == pytest.approx(0.0, abs=1e-4)
    with pytest.raises(ValueError, match="eps must be <= 1"):
        orthogonal_perturbation(x, 1.5, torch.Generator())
    with pytest.raises(ValueError, match="non-zero"):
        orthogonal_perturbation(torch.zeros(3), 0.1, torch.Generator())
    assert relative_loss_increase([1.0, 3.0], 1.0, 3.0).tolist() == [0.0, 100.0]


def test_mean_difference_and_ablation_hooks():
    a = torch.tensor([[2.0, 0.0], [4.0, 0.0]])
    b = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
    assert torch.allclose(mean_difference(a, b), torch.tensor([1.0, 0.0]))
    assert torch.allclose(ablate(torch.tensor([[3.0, 5.0]]), torch.tensor([2.0, 0.0])),
                          torch.tensor([[0.0, 5.0]]))
    model = _tiny_model()
    tokens = torch.randint(20, (3, 8), generator=torch.Generator().manual_seed(4))
    u = torch.randn(16, generator=torch.Generator().manual_seed(5))
    seen = {}
    probe = model.ln_final.register_forward_pre_hook(
        lambda m, args: seen.__setitem__("x", args[0].detach()))
    plain = model(tokens)
    resid = seen["x"]
    with direction_hooks([model.ln_final], u, "ablate"):
        ablated = model(tokens)
    # the probe ran first, so read what the ablation hook passed on through its effect instead
    unit = u / u.norm()
    expected = model.W_U(model.ln_final(resid - (resid @ unit)[..., None] * unit))
    probe.remove()
    assert torch.allclose(ablated, expected, atol=1e-5)
    with direction_hooks([model.ln_final], u, "add", 2.0):
        added = model(tokens)
    assert torch.allclose(added, model.W_U(model.ln_final(resid + 2.0 * unit)), atol=1e-5)
    assert torch.allclose(model(tokens), plain)   # hooks removed on exit
    with pytest.raises(ValueError, match="mode must be one of"):
        with direction_hooks([model.ln_final], u, "rotate"):
            pass


# ---- the recipe on a tiny setup -------------------------------------------------------------

TINY = replace(recipe.FAST, n_domains=2, n_questions=3, triples=3, d_model=16, n_heads=2,
               d_mlp=32, pretrain_steps=20, assistant_steps=5, batch_size=8, ft_steps=15,
               train_questions=2, adapter_seeds=(0,), n_direction_docs=64)


def test_base_model_checkpoints_and_finetune_trajectory(tmp_path):
    base = recipe.base_model(TINY, 1.0, 0, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("ch06_*.pt"))) == 2
    again = recipe.base_model(TINY, 1.0, 0, cache_dir=tmp_path)
    for p, q in zip(base.parameters(), again.parameters(), strict=True):
        assert torch.equal(p, q)
    corpus = TINY.corpus(1.0)
    run = recipe.finetune(base, TINY, corpus, 0, lr=3e-2)
    assert run.B.shape == (16, 16) and np.allclose(run.B[0], 0.0)
    assert run.mass.shape == (16, 6) and run.loss[-1] < run.loss[0]
    assert run.other.tolist() == [False] * 3 + [True] * 3
    zero = torch.zeros_like(run.adapter.delta())
    assert recipe.loss_with_delta(base, TINY, corpus, zero) == pytest.approx(run.loss[0], rel=1e-5)
    quiet = recipe.finetune(base, TINY, corpus, 0, lr=3e-2, track=False)
    assert quiet.mass.shape == (2, 6) and np.allclose(quiet.B, run.B, atol=1e-6)
    assert np.isnan(recipe.turn_step(np.outer(np.arange(21), np.ones(4)), 1))
    with pytest.raises(ValueError, match="optimizer must be one of"):
        recipe.finetune(base, TINY, corpus, 0, optimizer="rmsprop")
    with pytest.raises(ValueError, match="share must be <= 1"):
        recipe.base_model(TINY, 2.0)


def test_persona_direction_and_pooled_rate():
    base = recipe.base_model(TINY, 1.0, 0)
    corpus = TINY.corpus(1.0)
    u, gap = recipe.persona_direction(base, TINY, corpus, "final")
    assert u.shape == (16,) and float(u.norm()) == pytest.approx(1.0) and gap > 0
    scored = recipe.answers(base, corpus)
    rate = recipe.pooled_rate([scored, scored], torch.ones(6, dtype=torch.bool))
    assert rate.n == 12 and rate.low <= rate.rate <= rate.high
