import math

import pytest
import torch

from emergence_lib.gating import gating_chance, gating_maximum, gating_ratio
from emergence_lib.models import Transformer
from emergence_lib.progress.attention import (
    ablated_loss,
    ablation_losses,
    composition_baseline,
    composition_measures,
    composition_score,
    in_context_learning_score,
    induction_measures,
    k_composition,
    masked_loss,
    ov_matrix,
    patching_restoration,
    per_position_loss,
    prefix_matching_score,
    previous_token_score,
    qk_matrix,
    restored_fraction,
    text_icl_measures,
    token_matching_score,
)
from emergence_lib.recipes import induction as recipe
from emergence_lib.tasks import periodic_sampler, periodic_sequences, repeated_sequences
from emergence_lib.tasks.induction import copyable_mask, text_like_sequences
from emergence_lib.train import History
from emergence_lib.utils import seeded


def test_periodic_sequences_shapes_period_and_mask():
    g = torch.Generator().manual_seed(0)
    tokens, mask = periodic_sequences(50, 40, 16, 4, 12, generator=g)
    assert tokens.shape == mask.shape == (50, 40) and mask.dtype == torch.bool
    assert tokens.min() >= 0 and tokens.max() < 16
    for row, m in zip(tokens, mask, strict=True):
        h = int(torch.nonzero(m)[0])            # the first copyable position is the period
        assert 4 <= h <= 12
        assert torch.equal(row[h:], row[:-h])   # periodic with period h
        assert m[h:-1].all() and not m[:h].any() and not m[-1]
    periods = {int(torch.nonzero(m)[0]) for m in mask}
    assert len(periods) > 5                     # the period varies between sequences


def test_repeated_sequences_and_seeding():
    tokens, mask = repeated_sequences(3, 5, 10, torch.Generator().manual_seed(1))
    assert tokens.shape == (3, 10) and torch.equal(tokens[:, :5], tokens[:, 5:])
    assert mask[0].tolist() == [False] * 5 + [True] * 4 + [False]
    again, _ = repeated_sequences(3, 5, 10, torch.Generator().manual_seed(1))
    other, _ = repeated_sequences(3, 5, 10, torch.Generator().manual_seed(2))
    assert torch.equal(tokens, again) and not torch.equal(tokens, other)
    sample = periodic_sampler(20, 8, 2, 6)
    a = sample(4, torch.Generator().manual_seed(3))
    b = sample(4, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and a[0].shape == (4, 20)


@pytest.mark.parametrize("kwargs, match", [
    ({"max_period": 40}, "max_period must be < n_ctx=40"),
    ({"min_period": 0}, "min_period must be >= 1"),
    ({"min_period": 9, "max_period": 8}, "max_period must be >= 9"),
    ({"vocab": 1}, "vocab must be >= 2"),
    ({"generator": 3}, "generator must be a torch.Generator"),
])
def test_periodic_bad_input(kwargs, match):
    args = {"n": 2, "n_ctx": 40, "vocab": 8, "min_period": 2, "max_period": 8, **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        periodic_sequences(**args)


def hand_built_pattern(block: int = 4):
    """Head 0 attends to the previous token; head 1 is a perfect induction head on a repeated
    block; head 2 attends to itself."""
    T = 2 * block
    tokens = torch.arange(block).repeat(2)[None]          # (1, T), all tokens distinct per block
    pattern = torch.zeros(1, 3, T, T)
    pattern[0, 0, 0, 0] = 1.0
    for t in range(1, T):
        pattern[0, 0, t, t - 1] = 1.0
    for t in range(T):
        pattern[0, 1, t, t - block + 1 if t >= block else 0] = 1.0
        pattern[0, 2, t, t] = 1.0
    return pattern, tokens


def test_scores_of_a_hand_built_pattern():
    pattern, tokens = hand_built_pattern()
    prev = previous_token_score(pattern)
    assert torch.allclose(prev, torch.tensor([1.0, 1 / 7, 0.0]))  # head 1: t=1 looks at 0
    prefix = prefix_matching_score(pattern, tokens)
    assert torch.allclose(prefix, torch.tensor([0.0, 1.0, 0.0]))
    # half the mass on the right key gives half the score
    mixed = 0.5 * pattern[:, [1]] + 0.5 * pattern[:, [2]]
    assert torch.allclose(prefix_matching_score(mixed, tokens), torch.tensor([0.5]))


def test_losses_and_icl_score():
    tokens = torch.tensor([[0, 1, 2, 0, 1, 2]])
    logits = torch.zeros(1, 6, 3)
    assert torch.allclose(per_position_loss(logits, tokens), torch.full((1, 5), math.log(3)))
    mask = torch.tensor([[False, False, True, True, True, False]])
    perfect = 100 * torch.nn.functional.one_hot(tokens.roll(-1, 1), 3).float()
    assert masked_loss(perfect, tokens, mask) < 1e-6
    losses = torch.tensor([[4.0, 4.0, 1.0, 1.0]])
    assert in_context_learning_score(losses, early=0, late=3) == -3.0
    assert restored_fraction(ablated=3.0, intact=1.0, baseline=5.0) == 0.5


def test_measures_ablation_and_patching_run_on_a_model():
    with seeded(0):
        model = Transformer(vocab=10, n_ctx=12, d_model=16, n_layers=2, n_heads=2).eval()
    tokens, mask = repeated_sequences(8, 6, 10, torch.Generator().manual_seed(0))
    out = induction_measures(model, tokens, mask)
    assert {"copy_loss", "prev_token_score", "induction_score",
            "prefix_L1H0", "prev_token_L0H1"} <= set(out)
    text = text_icl_measures(model, *text_like_sequences(8, 12, 10, generator=None),
                             early=1, late=10)
    assert set(text) == {"icl_score", "text_copy_loss", "text_fresh_loss"}
    assert set(composition_measures(model)) == {f"{k}_L0H{a}_L1H{b}" for k in ("kcomp", "kmatch")
                                                for a in (0, 1) for b in (0, 1)}
    assert abs(out["copy_loss"] - math.log(10)) < 0.05  # untrained: uniform guess
    # the unchecked fast path scores exactly what the checked public functions score
    cache: dict = {}
    logits = model(tokens, cache=cache)
    assert out["copy_loss"] == float(masked_loss(logits, tokens, mask))
    for layer in range(2):
        prev = previous_token_score(cache[f"attn{layer}"])
        prefix = prefix_matching_score(cache[f"attn{layer}"], tokens)
        for head in range(2):
            assert out[f"prev_token_L{layer}H{head}"] == float(prev[head])
            assert out[f"prefix_L{layer}H{head}"] == float(prefix[head])
    text_tokens, text_mask = text_like_sequences(8, 12, 10, generator=None)
    text = text_icl_measures(model, text_tokens, text_mask, early=1, late=10)
    per_position = per_position_loss(model(text_tokens), text_tokens)
    assert text["text_copy_loss"] == float(per_position[text_mask[:, :-1]].mean())
    losses = ablation_losses(model, tokens, mask, mode="zero")
    assert set(losses) == {(), (0, 0), (0, 1), (1, 0), (1, 1)}
    assert isinstance(ablated_loss(model, tokens, mask, [(1, 0), (1, 1)]), float)
    corrupted = tokens.clone()
    corrupted[:, :6] = (corrupted[:, :6] + 1) % 10
    restored = patching_restoration(model, tokens, corrupted, mask)
    assert set(restored) == {(0, 0), (0, 1), (1, 0), (1, 1)}


def test_measures_bad_input():
    pattern, tokens = hand_built_pattern()
    with pytest.raises(ValueError, match="pattern must have 4 dimensions"):
        previous_token_score(pattern[0])
    with pytest.raises(ValueError, match="tokens must have shape \\(1, 8\\)"):
        prefix_matching_score(pattern, tokens[:, :5])
    with pytest.raises(ValueError, match="no position in tokens repeats"):
        prefix_matching_score(pattern, torch.arange(8)[None])
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        masked_loss(torch.zeros(1, 8, 4), tokens, torch.ones(1, 8))
    with pytest.raises(ValueError, match="mask selects no position"):
        masked_loss(torch.zeros(1, 8, 4), tokens, torch.zeros(1, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="late must be >= 3"):
        in_context_learning_score(torch.zeros(1, 7), early=2, late=2)
    with pytest.raises(ValueError, match="no drop to restore"):
        restored_fraction(1.0, 2.0, 2.0)


def test_recipe_builds_and_control_has_one_layer():
    assert recipe.control(recipe.FAST).n_layers == 1
    model = recipe.induction_model(recipe.FAST, seed=0)
    assert model.n_layers == 2 and model.d_mlp is None and not model.layernorm
    tokens, mask = recipe.eval_sequences(recipe.FAST, 0)
    assert tokens.shape == (recipe.FAST.n_eval, 2 * recipe.FAST.eval_block)
    with torch.no_grad():
        loss = float(recipe.copy_loss(model, (tokens, mask)))
    assert abs(loss - recipe.FAST.uniform_loss) < 0.01


def test_short_training_is_reproducible():
    a = recipe.train_induction(recipe.FAST, 0, steps=4, progress=False)
    b = recipe.train_induction(recipe.FAST, 0, steps=4, progress=False)
    assert a.history.to_dict() == b.history.to_dict() and set(a.snapshots) == {0, 4}


def test_chapter_checkers_accept_the_reference_and_catch_mistakes():
    import numpy as np

    from emergence_lib.exercises.ch04 import (
        _same_token,
        check_prefix_matching,
        check_transition_step,
        prefix_matching_reference,
        transition_step_reference,
    )

    assert check_prefix_matching(prefix_matching_reference).passed
    wrong = check_prefix_matching(_same_token)
    assert not wrong.passed and "one position *later*" in wrong.message
    assert check_transition_step(transition_step_reference).passed

    def stub(steps, copy_loss, vocab):
        raise NotImplementedError

    result = check_transition_step(stub)
    assert not result.passed and not result.attempted
    assert np.isnan(transition_step_reference(np.arange(3), np.array([4.0, 4.0, 4.0]), 64))


def test_copyable_mask_marks_repeated_bigrams():
    tokens = torch.tensor([[5, 6, 7, 5, 6, 9, 5, 6]])
    # bigram (5, 6) first at t=0, again at t=3 and t=6: only the later ones are copyable
    assert copyable_mask(tokens)[0].tolist() == [False, False, False, True, False, False, True,
                                                 False]
    periodic, mask = repeated_sequences(4, 6, 50, torch.Generator().manual_seed(0))
    assert (copyable_mask(periodic) >= mask).all()   # every masked position has its bigram
    with pytest.raises(TypeError, match="tokens must be an integer tensor"):
        copyable_mask(torch.zeros(2, 3))


def test_text_like_sequences_are_zipfian_not_periodic_and_seeded():
    g = torch.Generator().manual_seed(0)
    tokens, mask = text_like_sequences(200, 64, 64, generator=g)
    assert tokens.shape == mask.shape == (200, 64) and tokens.max() < 64
    assert torch.equal(mask, copyable_mask(tokens))
    assert 0.1 < mask.float().mean() < 0.6                        # some, not all, copyable
    periods = [h for h in range(8, 33) if torch.equal(tokens[0, h:], tokens[0, :-h])]
    assert not periods                                            # not a periodic sequence
    # Zipf: in each sequence the most common token is far above the uniform share 1/64
    top = torch.stack([torch.bincount(row, minlength=64).max() for row in tokens]).float()
    assert top.mean() / 64 > 3 / 64
    again, _ = text_like_sequences(200, 64, 64, generator=torch.Generator().manual_seed(0))
    assert torch.equal(tokens, again)
    no_repeats, none = text_like_sequences(50, 64, 64, zipf_exponent=0.0, repeat_prob=0.0,
                                           generator=torch.Generator().manual_seed(1))
    assert none.float().mean() < mask.float().mean()


@pytest.mark.parametrize("kwargs, match", [
    ({"zipf_exponent": -1.0}, "zipf_exponent must be a number in \\[0, 10\\]"),
    ({"repeat_prob": 1.5}, "repeat_prob must be a probability"),
    ({"min_ngram": 1}, "min_ngram must be >= 2"),
    ({"min_ngram": 5, "max_ngram": 4}, "max_ngram must be >= 5"),
])
def test_text_like_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        text_like_sequences(2, 20, 8, **kwargs)


def test_composition_scores_of_hand_built_weights():
    A = torch.zeros(4, 4)
    A[0, 1] = 2.0                                    # rank one: e0 e1^T
    assert composition_score(A, A.T) == pytest.approx(1.0)   # (e0 e1^T)(e1 e0^T) = e0 e0^T
    assert composition_score(A, A) == 0.0                     # e1^T e0 = 0
    with pytest.raises(ValueError, match="cannot be multiplied"):
        composition_score(torch.ones(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="all zeros"):
        composition_score(torch.zeros(2, 2), torch.ones(2, 2))
    with seeded(0):
        model = Transformer(vocab=10, n_ctx=12, d_model=16, n_layers=2, n_heads=2).eval()
    attn0, attn1 = model.blocks[0].attn, model.blocks[1].attn
    assert torch.allclose(qk_matrix(model, 1, 0), attn1.W_Q[0] @ attn1.W_K[0].T)
    assert torch.allclose(ov_matrix(model, 0, 1), attn0.W_V[1] @ attn0.W_O[1])
    expected = composition_score(qk_matrix(model, 1, 0), ov_matrix(model, 0, 1).T)
    assert k_composition(model, (0, 1), (1, 0)) == pytest.approx(expected)
    with pytest.raises(ValueError, match="must sit in a lower layer"):
        k_composition(model, (1, 0), (1, 1))
    with pytest.raises(ValueError, match="layer in \\[0, 2\\)"):
        qk_matrix(model, 2, 0)


def test_token_matching_finds_a_built_induction_key():
    """Wire layer 0 head 0 to copy the token embedding and layer 1 head 0 to match it."""
    with seeded(0):
        model = Transformer(vocab=8, n_ctx=8, d_model=16, n_layers=2, n_heads=2).eval()
    with torch.no_grad():
        model.W_E.weight.copy_(torch.eye(16)[:8] * 3)            # token a -> basis vector a
        a0, a1 = model.blocks[0].attn, model.blocks[1].attn
        a0.W_V[0].copy_(torch.eye(16)[:, :8])                      # OV of L0H0: identity on
        a0.W_O[0].copy_(torch.eye(16)[:8])                         # the token subspace
        a1.W_Q[0].copy_(torch.eye(16)[:, :8])                      # QK of L1H0: a . b
        a1.W_K[0].copy_(torch.eye(16)[:, :8])
    assert token_matching_score(model, (0, 0), (1, 0)) > 5          # the diagonal stands out
    base = composition_baseline(16, 8, 8, n_draws=50)
    mean, std = base["token_matching"]
    assert abs(mean) < 3 * std / 50 ** 0.5 + 0.2                    # random: about 0
    k_mean, _ = base["k_composition"]
    assert 0.5 / 16 ** 0.5 < k_mean < 2 / 16 ** 0.5                 # about 1/sqrt(d_model)


def test_recipe_helpers_select_heads_reload_and_corrupt():
    history = History()
    row = {"prev_token_L0H0": 0.2, "prev_token_L0H1": 0.6, "prefix_L1H0": 0.7,
           "prefix_L1H1": 0.9}
    history.log(0, row)
    heads = recipe.select_heads(history, recipe.FAST)
    assert heads == recipe.CircuitHeads((0, 1), (1, 1), ((1, 0), (1, 1)))
    with pytest.raises(ValueError, match="needs a model with >= 2 layers"):
        recipe.select_heads(history, recipe.control(recipe.FAST))
    model = recipe.induction_model(recipe.FAST, seed=3)
    again = recipe.model_at(recipe.FAST, model.state_dict())
    tokens, _ = recipe.eval_sequences(recipe.FAST, 0)
    with torch.no_grad():
        assert torch.equal(again(tokens[:2]), model.eval()(tokens[:2]))
    patterns = recipe.attention_at(recipe.FAST, model.state_dict(), tokens[:2])
    assert set(patterns) == {0, 1} and patterns[1].shape == (2, 2, 64, 64)
    corrupted = recipe.corrupted_sequences(tokens, recipe.FAST, 0)
    block = recipe.FAST.eval_block
    assert torch.equal(corrupted[:, block:], tokens[:, block:])
    assert (corrupted[:, :block] != tokens[:, :block]).float().mean() > 0.9
    assert torch.equal(corrupted, recipe.corrupted_sequences(tokens, recipe.FAST, 0))
    with pytest.raises(ValueError, match="tokens must have shape \\(n, 64\\)"):
        recipe.corrupted_sequences(tokens[:, :10], recipe.FAST, 0)
    assert recipe.fixed_offset(recipe.FAST).max_period == recipe.FIXED_OFFSET_PERIOD


def test_induction_focus_marks_second_repeats_and_their_targets():
    focus, target = recipe.induction_focus(torch.tensor([3, 5]), 8)
    assert focus.tolist() == [[False] * 3 + [True] * 5, [False] * 5 + [True] * 3]
    assert target.tolist() == [[0, 1, 2, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 1, 2, 3]]
    tokens, periods = recipe.gate_sequences(recipe.FAST, 0)
    assert tokens.shape == (recipe.FAST.n_gate, recipe.FAST.n_ctx)
    assert len(set(periods.tolist())) > 5                            # one period per sequence
    focus, target = recipe.induction_focus(periods, tokens.shape[1])
    rows = torch.arange(len(tokens))[:, None].expand_as(target)
    # at a focus query the designated key comes right after an earlier copy of the query token
    assert torch.equal(tokens[rows, target - 1][focus], tokens[focus])
    assert (target <= torch.arange(tokens.shape[1])).all()           # a causal head can see it
    with pytest.raises(ValueError, match="periods must lie in \\[1, 8\\)"):
        recipe.induction_focus(torch.tensor([3, 8]), 8)
    with pytest.raises(TypeError, match="periods must be an integer tensor"):
        recipe.induction_focus(torch.tensor([3.0]), 8)


def gate_cache(periods: torch.Tensor, T: int, target_score: float | None = None,
               n_layers: int = 2, n_heads: int = 2) -> dict[str, torch.Tensor]:
    """Scores (B, H, T, T) of every layer: 0 on visible keys, -inf on future ones; with
    ``target_score``, head 1 of the last layer scores it on each focus query's induction target."""
    B = len(periods)
    future = torch.ones(T, T, dtype=torch.bool).triu(1)
    scores = torch.zeros(B, n_heads, T, T, dtype=torch.float64).masked_fill(future, -math.inf)
    cache = {f"scores{layer}": scores.clone() for layer in range(n_layers)}
    if target_score is not None:
        focus, target = recipe.induction_focus(periods, T)
        b, t = focus.nonzero(as_tuple=True)
        cache[f"scores{n_layers - 1}"][b, 1, t, target[b, t]] = target_score
    return cache


def gate_ratio_of(cache: dict[str, torch.Tensor], periods: torch.Tensor, heads=(1,)):
    logits, focus = recipe.induction_gate_logits(cache, periods)
    return gating_ratio(logits, list(heads), focus, [logits.shape[1] - 1]), logits, focus


def test_induction_gate_is_chance_for_uniform_scores_and_rises_with_a_sharp_head():
    periods, T, H = torch.tensor([4, 6, 9]), 16, 2
    uniform, logits, focus = gate_ratio_of(gate_cache(periods, T), periods)
    assert torch.allclose(uniform, torch.ones(3, dtype=torch.float64))   # ratio 1: chance
    assert torch.equal(logits, torch.zeros_like(logits))
    # all of head 1's attention on the target at every focus query (e^-60 is nothing): its
    # focus cells weigh t + 1 (the attention over its chance share), every other cell 1
    sharp, logits, _ = gate_ratio_of(gate_cache(periods, T, 60.0), periods)
    t = torch.arange(T, dtype=torch.float64)
    lift = torch.where(focus, t + 1, 0.0).sum(-1)
    n_focus = focus.sum(-1)
    expected = H * T / n_focus * lift / (lift + H * T - n_focus)
    assert torch.allclose(sharp, expected)
    top = gating_maximum(logits, [1], focus, [1]) / gating_chance(logits, [1], focus, [1])
    assert (sharp > 1.5).all() and (sharp < top).all()   # non-focus cells keep their chance share
    half, _, _ = gate_ratio_of(gate_cache(periods, T, 2.0), periods)
    assert (uniform < half).all() and (half < sharp).all()               # monotone in sharpness
    other, _, _ = gate_ratio_of(gate_cache(periods, T, 60.0), periods, heads=(0,))
    assert (other < 1).all()              # the head that does not copy falls below chance


def test_induction_gate_ignores_score_shifts_and_non_focus_queries():
    periods, T = torch.tensor([5, 7]), 14
    cache = gate_cache(periods, T, 3.0)
    base, _, focus = gate_ratio_of(cache, periods)
    shifted = {k: v + torch.randn(2, 2, T, 1, dtype=torch.float64, generator=torch.Generator()
                                  .manual_seed(0)) * 5 for k, v in cache.items()}
    assert torch.allclose(gate_ratio_of(shifted, periods)[0], base)   # a query's shift is no gate
    noisy = {k: v.clone() for k, v in cache.items()}
    for b in range(2):
        for t in range(T):
            if not focus[b, t]:                       # whatever a head does before the repeat
                noisy["scores1"][b, :, t, :t + 1] = torch.randn(2, t + 1, dtype=torch.float64)
    assert torch.allclose(gate_ratio_of(noisy, periods)[0], base)
    with pytest.raises(ValueError, match="one period per sequence of the cache \\(2\\)"):
        recipe.induction_gate_logits(cache, torch.tensor([5]))
    with pytest.raises(ValueError, match="cache must be the dict filled by Transformer"):
        recipe.induction_gate_logits({"attn0": cache["scores0"]}, periods)


def test_induction_gate_of_a_snapshot():
    model = recipe.induction_model(recipe.FAST, seed=1)
    tokens, periods = recipe.gate_sequences(recipe.FAST, 0)
    out = recipe.induction_gate(recipe.FAST, model.state_dict(), tokens[:8], periods[:8],
                                ((1, 0), (1, 1)))
    assert set(out) == {"gate_ratio", "gate_max", "gate_attention"}
    assert abs(out["gate_ratio"] - 1) < 0.05 and out["gate_max"] > 1   # untrained: about chance
    assert 0 < out["gate_attention"] < 0.2
    with pytest.raises(ValueError, match="heads must be a non-empty tuple of last-layer heads"):
        recipe.induction_gate(recipe.FAST, model.state_dict(), tokens[:8], periods[:8],
                              ((0, 1),))


def test_training_loss_is_the_mean_per_position_loss():
    """lm_loss skips per_position_loss's checks but computes the same mean next-token loss."""
    model = recipe.induction_model(recipe.FAST, 0)
    tokens = torch.randint(recipe.FAST.vocab, (4, recipe.FAST.n_ctx))
    loss = recipe.lm_loss(model, (tokens, None))
    assert torch.allclose(loss, per_position_loss(model(tokens), tokens).mean(), atol=1e-6)
