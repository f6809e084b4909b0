"""Chapter 7's library: the batched toy model equals separate models (forward, hand-written
gradient, training), the sparse features have the stated law, the measures give the known
values on known geometries, the closed forms match Monte Carlo, and bad inputs fail clearly."""

import numpy as np
import pytest
import torch

from emergence_lib.models.toy_superposition import (
    BatchedToyModel,
    ToyModel,
    instance_losses,
    seeded_toy_models,
)
from emergence_lib.progress.superposition import (
    dimensions_per_feature,
    feature_dimensionality,
    feature_norms,
    fraction_peaks,
    represented_count,
    superposition,
)
from emergence_lib.recipes import superposition as recipe
from emergence_lib.tasks.sparse_features import as_density, geometric_importance, sparse_features


def test_instance_round_trip_and_forward_match_separate_models():
    models = seeded_toy_models([3, 4, 5], 6, 2)
    batched = BatchedToyModel.from_modules(models)
    x = sparse_features(as_density([1.0, 0.3, 0.05], 3, 6), 16, torch.Generator().manual_seed(0))
    out = batched(x)
    for i, mod in enumerate(models):
        torch.testing.assert_close(out[i], mod(x[i]))
        back = batched.instance(i)
        assert torch.equal(back.W, mod.W) and torch.equal(back.b, mod.b)
    assert torch.equal(BatchedToyModel.seeded([3, 4, 5], 6, 2).W, batched.W)


def test_fused_backward_equals_autograd():
    model = BatchedToyModel.seeded([0, 1, 2, 3], 8, 3)
    with torch.no_grad():
        model.b.normal_(0, 0.1)
    imp = torch.rand(4, 8)
    x = sparse_features(as_density(torch.tensor([1.0, 0.5, 0.1, 0.01]), 4, 8), 64,
                        torch.Generator().manual_seed(1))
    losses = model.fused_backward(x, imp, with_loss=True)
    grad_w, grad_b = model.W.grad.clone(), model.b.grad.clone()
    model.zero_grad()
    expected = instance_losses(x, model(x), imp)
    expected.sum().backward()
    torch.testing.assert_close(losses, expected.detach())
    torch.testing.assert_close(grad_w, model.W.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(grad_b, model.b.grad, rtol=1e-5, atol=1e-7)


def test_a_batched_run_equals_separate_runs():
    """Instance i of a batched AdamW run ends where ToyModel i, trained alone with autograd and
    torch.optim.AdamW on the same batches, ends (float tolerance)."""
    seeds, n, m, steps = [10, 11, 12], 10, 3, 200
    density = as_density(torch.tensor([1.0, 0.2, 0.03]), 3, n)
    imp = geometric_importance(n, 0.8).expand(3, n).contiguous()
    gen = torch.Generator().manual_seed(0)
    batches = [sparse_features(density, 32, gen) for _ in range(steps)]
    batched = BatchedToyModel.seeded(seeds, n, m)
    opt = torch.optim.AdamW(batched.parameters(), lr=1e-2, weight_decay=0.01)
    for x in batches:
        batched.fused_backward(x, imp)
        opt.step()
    for i, mod in enumerate(seeded_toy_models(seeds, n, m)):
        opt_i = torch.optim.AdamW(mod.parameters(), lr=1e-2, weight_decay=0.01)
        for x in batches:
            loss = instance_losses(x[i], mod(x[i]), imp[i])
            opt_i.zero_grad()
            loss.backward()
            opt_i.step()
        torch.testing.assert_close(batched.W[i].detach(), mod.W.detach(), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(batched.b[i].detach(), mod.b.detach(), rtol=1e-4, atol=1e-5)


def test_sparse_features_have_the_stated_law():
    p = torch.tensor([1.0, 0.3, 0.02])
    x = sparse_features(as_density(p, 3, 50), 4_000, torch.Generator().manual_seed(0))
    assert x.shape == (3, 4_000, 50) and (x >= 0).all() and (x <= 1).all()
    active = (x > 0).float().mean((1, 2))
    torch.testing.assert_close(active, p, atol=0.01, rtol=0)
    on = x[1][x[1] > 0]
    assert abs(on.mean().item() - 0.5) < 0.01 and abs(on.var().item() - 1 / 12) < 0.005
    per_feature = as_density(torch.tensor([[1.0, 0.5], [0.1, 0.9]]), 2, 2)
    assert per_feature.shape == (2, 2)


def test_measures_on_known_geometries():
    angles = torch.arange(5) * 2 * np.pi / 5
    pentagon = torch.stack([torch.cos(angles), torch.sin(angles)]).float()
    torch.testing.assert_close(feature_dimensionality(pentagon), torch.full((5,), 0.4))
    torch.testing.assert_close(dimensions_per_feature(pentagon), torch.tensor(0.4))
    pair = torch.tensor([[1.0, -1.0, 0.0], [0.0, 0.0, 0.2]])       # a pair and a weak feature
    torch.testing.assert_close(feature_dimensionality(pair), torch.tensor([0.5, 0.5, 1.0]))
    torch.testing.assert_close(superposition(pair), torch.tensor([1.0, 1.0, 0.0]))
    assert int(represented_count(pair)) == 2
    batched = torch.stack([pair, torch.zeros(2, 3)])
    assert represented_count(batched).tolist() == [2, 0]
    assert feature_dimensionality(batched)[1].tolist() == [0.0, 0.0, 0.0]
    torch.testing.assert_close(feature_norms(batched)[0], torch.tensor([1.0, 1.0, 0.2]))
    identity = torch.eye(3, 5)
    torch.testing.assert_close(dimensions_per_feature(identity), torch.tensor(1.0))


def test_fraction_peaks_finds_a_cluster_and_not_an_even_spread():
    rng = np.random.default_rng(0)
    spread = rng.uniform(0.2, 0.9, 2_000)
    clustered = np.r_[spread, 0.5 + rng.uniform(-0.005, 0.005, 300)]
    (_, count, ratio), (_, _, flat) = fraction_peaks(clustered, [0.5, 0.4])
    assert count > 300 and ratio > 5 and 0.6 < flat < 1.6
    (_, _, even), = fraction_peaks(spread, [0.5])
    assert 0.6 < even < 1.6
    assert np.isnan(fraction_peaks([0.9], [0.2])[0][2])
    with pytest.raises(ValueError, match="window must be > 0.0"):
        fraction_peaks(spread, [0.5], window=0)


def test_closed_form_losses_match_monte_carlo():
    gen = torch.Generator().manual_seed(0)
    for r, p in [(0.5, 0.3), (2.0, 0.05), (1.0, 1.0)]:
        x = sparse_features(as_density(p, 1, 2), 400_000, gen)[0].double()
        imp = torch.tensor([1.0, r], dtype=torch.float64)
        candidates = [
            torch.stack([x[:, 0], torch.full_like(x[:, 1], p / 2)], 1),     # not learned
            torch.stack([torch.full_like(x[:, 0], p / 2), x[:, 1]], 1),     # dedicated
            torch.relu(torch.stack([x[:, 0] - x[:, 1], x[:, 1] - x[:, 0]], 1)),  # superposed
        ]
        mc = [float((imp * (x - out) ** 2).sum(1).mean()) for out in candidates]
        np.testing.assert_allclose(recipe.analytic_losses(r, p), mc, rtol=0.02, atol=1e-5)
    for r in (0.1, 0.5, 1.0, 3.0):
        p_star = recipe.superposition_boundary(r)[0]
        losses = recipe.analytic_losses(r, p_star)
        assert losses[2] == pytest.approx(min(losses[0], losses[1]))
        assert recipe.analytic_phase(r, p_star * 0.9) == 2 != recipe.analytic_phase(r, p_star * 1.1)


def test_trained_phase_and_dedicated_loss():
    W = torch.tensor([[[1.0, 0.0]], [[0.1, 0.9]], [[1.0, -1.0]], [[0.8, 0.7]]])
    assert recipe.trained_phase(W).tolist() == [0, 1, 2, 3]
    imp = geometric_importance(4, 0.5).numpy()
    assert recipe.dedicated_loss(imp, 1.0, 2) == pytest.approx((0.25 + 0.125) / 12)


def test_train_toy_is_seeded_and_reproducible():
    a = recipe.train_toy(4, 2, [1.0, 0.1], torch.ones(4), steps=20, batch=8, lr=1e-2, seed=3)
    b = recipe.train_toy(4, 2, [1.0, 0.1], torch.ones(4), steps=20, batch=8, lr=1e-2, seed=3)
    assert torch.equal(a.W, b.W) and np.array_equal(a.final_loss, b.final_loss)
    assert a.losses.shape == (1, 2) and a.steps.tolist() == [20]


@pytest.mark.parametrize("call, match", [
    (lambda: ToyModel(0, 2), "n_features must be >= 1, got 0"),
    (lambda: BatchedToyModel(2, 5, 2.5), "n_hidden must be an integer"),
    (lambda: BatchedToyModel(2, 5, 2)(torch.zeros(3, 4, 5)), r"x must have shape \(2, batch, 5\)"),
    (lambda: ToyModel(5, 2)(torch.zeros(4, 6)), r"x must have shape \(batch, 5\)"),
    (lambda: BatchedToyModel(2, 5, 2).instance(2), "i must be <= 1, got 2"),
    (lambda: BatchedToyModel.from_modules([ToyModel(5, 2), ToyModel(4, 2)]),
     "must share \\(n_features, n_hidden\\)"),
    (lambda: BatchedToyModel.from_modules([]), "non-empty sequence of ToyModel"),
    (lambda: as_density([0.5, 1.5], 2, 3), r"must lie in \(0, 1\], got 1.5"),
    (lambda: as_density([0.0, 0.5], 2, 3), r"must lie in \(0, 1\], got 0.0"),
    (lambda: as_density([0.5, 0.5, 0.5], 2, 3), r"density must be a number, \(2,\)"),
    (lambda: sparse_features(as_density(0.5, 2, 3), 0), "batch must be >= 1, got 0"),
    (lambda: geometric_importance(5, 1.5), r"decay must lie in \(0, 1\], got 1.5"),
    (lambda: instance_losses(torch.zeros(2, 4, 3), torch.zeros(2, 4, 3), torch.ones(3)),
     r"importance must have shape \(2, 3\)"),
    (lambda: feature_norms(torch.zeros(5)), r"W must have shape \(m, n\) or \(instances, m, n\)"),
    (lambda: feature_norms([[1.0]]), "W must be a torch.Tensor"),
    (lambda: feature_dimensionality(torch.tensor([[float("nan"), 1.0]])), "NaN or infinite"),
    (lambda: represented_count(torch.ones(2, 3), threshold=-1), "threshold must be >= 0.0"),
    (lambda: recipe.train_toy(4, 2, [1.0, 0.5], torch.ones(3), steps=1, batch=2, lr=1e-3),
     r"importance must be \(4,\) or \(2, 4\)"),
    (lambda: recipe.train_toy(4, 2, [1.0], torch.ones(4), steps=0, batch=2, lr=1e-3),
     "steps must be >= 1, got 0"),
    (lambda: recipe.train_toy(4, 2, [1.0], torch.ones(4), steps=1, batch=2, lr=0.0),
     "lr must be > 0.0, got 0.0"),
    (lambda: recipe.train_toy(4, 2, [1.0, 0.5], torch.ones(4), steps=1, batch=2, lr=1e-3,
                              seeds=[1]), r"seeds must have one entry per instance \(2\)"),
    (lambda: recipe.analytic_losses(-1.0, 0.5), "importance must be positive numbers"),
    (lambda: recipe.analytic_losses(1.0, 1.5), r"density must lie in \(0, 1\]"),
    (lambda: recipe.trained_phase(torch.zeros(3, 2, 2)), r"W must be an \(instances, 1, 2\)"),
    (lambda: recipe.dedicated_loss([1.0, 0.5], 0.0, 1), "density must be > 0.0"),
])
def test_bad_inputs_fail_with_clear_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
