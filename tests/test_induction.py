import math

import pytest
import torch

from emergence_lib.models import Transformer
from emergence_lib.progress.attention import (
    ablated_loss,
    ablation_losses,
    in_context_learning_score,
    induction_measures,
    masked_loss,
    patching_restoration,
    per_position_loss,
    prefix_matching_score,
    previous_token_score,
    restored_fraction,
)
from emergence_lib.recipes import induction as recipe
from emergence_lib.tasks import periodic_sampler, periodic_sequences, repeated_sequences
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
    out = induction_measures(model, tokens, mask, early=2, late=9)
    assert {"copy_loss", "icl_score", "prev_token_score", "induction_score",
            "prefix_L1H0", "prev_token_L0H1"} <= set(out)
    assert abs(out["copy_loss"] - math.log(10)) < 0.05  # untrained: uniform guess
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
