"""Instances trained as one model equal separate runs: the batched squared-embedding model, its
hand-written gradients, the per-instance AdamW, and whole histories of chapter 3's runs."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from emergence_lib import instances
from emergence_lib.instances import InstanceAdamW, train_instances
from emergence_lib.models.batched_modular import BatchedSquaredMLP
from emergence_lib.models.modular_mlp import SquaredEmbeddingMLP
from emergence_lib.recipes.grokking import FAST, FULL, train_grokking
from emergence_lib.tasks.modular import modular_addition
from emergence_lib.utils import seeded

SETTINGS = [(0.1, 0.4, 0), (0.3, 0.5, 1), (0.5, 0.6, 2)]   # weight decay, train frac, seed


def small_models(n=3, p=7, width=8):
    models = []
    for seed in range(n):
        with seeded(seed):
            models.append(SquaredEmbeddingMLP(p, width))
    return models


def test_stack_and_member_round_trip():
    models = small_models()
    batched = BatchedSquaredMLP.from_modules(models)
    tokens = torch.randint(0, 7, (3, 10, 3))
    logits = batched(tokens)
    assert logits.shape == (3, 10, 7)
    for i, m in enumerate(models):
        torch.testing.assert_close(logits[i], m(tokens[i]))
        back = batched.member(i)
        for q, r in zip(back.parameters(), m.parameters(), strict=True):
            assert torch.equal(q, r)


def test_fused_backward_equals_autograd():
    models = small_models()
    batched = BatchedSquaredMLP.from_modules(models)
    data = [modular_addition(7, f, s) for _, f, s in SETTINGS]
    n = max(len(d.y_train) for d in data)
    a = torch.zeros(3, n, dtype=torch.long)
    b, y, w = torch.zeros_like(a), torch.zeros_like(a), torch.zeros(3, n)
    for i, d in enumerate(data):
        k = len(d.y_train)
        a[i, :k], b[i, :k], y[i, :k], w[i, :k] = d.x_train[:, 0], d.x_train[:, 1], d.y_train, 1 / k
    loss = batched.fused_backward(a, b, y, w)
    fused = [q.grad.clone() for q in batched.parameters()]
    for i, (m, d) in enumerate(zip(models, data, strict=True)):
        own = F.cross_entropy(m(d.x_train), d.y_train)
        own.backward()
        torch.testing.assert_close(loss[i], own.detach(), rtol=1e-5, atol=1e-6)
        for g, q in zip(fused, m.parameters(), strict=True):
            torch.testing.assert_close(g[i], q.grad, rtol=1e-4, atol=1e-6)
    # a chunk of one instance writes only its own gradients
    batched.fused_backward(a[1:2], b[1:2], y[1:2], w[1:2], start=1)
    for g, q in zip(fused, batched.parameters(), strict=True):
        torch.testing.assert_close(q.grad, g, rtol=1e-5, atol=1e-7)


def test_instance_adamw_equals_torch_adamw_per_instance():
    torch.manual_seed(0)
    decays = [0.0, 0.3, 1.0]
    stacked = torch.randn(3, 4, 5, requires_grad=True)
    alone = [stacked[i].detach().clone().requires_grad_() for i in range(3)]
    ours = InstanceAdamW([stacked], decays, lr=5e-3, betas=(0.9, 0.98))
    theirs = [torch.optim.AdamW([q], lr=5e-3, betas=(0.9, 0.98), weight_decay=wd)
              for q, wd in zip(alone, decays, strict=True)]
    for _ in range(20):
        grad = torch.randn(3, 4, 5)
        stacked.grad = grad.clone()
        ours.step()
        for i, (q, opt) in enumerate(zip(alone, theirs, strict=True)):
            q.grad = grad[i].clone()
            opt.step()
    for i, q in enumerate(alone):
        assert torch.equal(stacked[i].detach(), q.detach())   # the same arithmetic, bit for bit


def test_histories_equal_separate_runs():
    runs = train_instances(FAST, weight_decays=[s[0] for s in SETTINGS],
                           train_fracs=[s[1] for s in SETTINGS], seeds=[s[2] for s in SETTINGS],
                           steps=200, log_every=25, progress=False)
    for run, (wd, frac, seed) in zip(runs, SETTINGS, strict=True):
        alone = train_grokking(FAST, seed, weight_decay=wd, train_frac=frac, steps=200,
                               log_every=25, snapshots=False, progress=False)
        assert (run.setup.weight_decay, run.setup.train_frac) == (wd, frac)
        assert torch.equal(run.data.train_idx, alone.data.train_idx)
        ours, theirs = run.result.history, alone.result.history
        assert ours.names == theirs.names and ours.steps == theirs.steps
        for name in theirs.names:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-4, atol=1e-5,
                                       err_msg=name)
        for q, r in zip(run.result.model.parameters(), alone.result.model.parameters(),
                        strict=True):
            torch.testing.assert_close(q.detach(), r.detach(), rtol=1e-4, atol=1e-4)


def test_grokking_grid_keys_and_chunks_agree():
    grid = instances.grokking_grid((0.1, 0.5), (0.5,), steps=30, progress=False)
    assert list(grid) == [(0.1, 0.5), (0.5, 0.5)]
    assert list(grid[(0.1, 0.5)].steps) == [0, 25, 30]
    whole = instances.grokking_grid((0.1, 0.5), (0.5,), steps=30, chunk=None, progress=False)
    for key, run in grid.items():
        np.testing.assert_allclose(run["test_loss"], whole[key]["test_loss"], rtol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    ({"weight_decays": []}, "weight_decays must be a non-empty sequence"),
    ({"weight_decays": [0.1, -1.0]}, r"weight_decays\[1\] must be >= 0.0"),
    ({"weight_decays": [0.1, 0.3], "train_fracs": [0.5]}, "train_fracs must have one entry"),
    ({"weight_decays": [0.1], "train_fracs": [1.5]}, r"train_fracs\[0\] must be < 1.0"),
    ({"weight_decays": [0.1, 0.3], "seeds": [0, -2]}, r"seeds\[1\] must be >= 0"),
    ({"weight_decays": [0.1], "steps": 0}, "steps must be >= 1"),
    ({"weight_decays": [0.1], "log_every": 0}, "log_every must be >= 1"),
    ({"weight_decays": [0.1], "chunk": 0}, "chunk must be >= 1"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train_instances(FAST, progress=False, **kwargs)


def test_bad_setup_model_and_inputs():
    with pytest.raises(ValueError, match="squared_mlp"):
        train_instances(FULL, weight_decays=[0.1])
    with pytest.raises(TypeError, match="must be an integer"):
        train_instances(FAST, weight_decays=[0.1], seeds=0.5)
    batched = BatchedSquaredMLP(2, 7, 8)
    with pytest.raises(ValueError, match=r"shape \(2, batch, 2\)"):
        batched(torch.zeros(3, 4, 3, dtype=torch.long))
    with pytest.raises(ValueError, match=r"ids in \[0, 7\)"):
        batched(torch.full((2, 4, 3), 7))
    with pytest.raises(ValueError, match="share p and width"):
        BatchedSquaredMLP.from_modules([SquaredEmbeddingMLP(7, 8), SquaredEmbeddingMLP(7, 9)])
    with pytest.raises(TypeError, match="SquaredEmbeddingMLP"):
        BatchedSquaredMLP.from_modules([])
    with pytest.raises(ValueError, match="out must be a SquaredEmbeddingMLP with p=7"):
        batched.member(0, out=SquaredEmbeddingMLP(11, 8))
    with pytest.raises(ValueError, match="leading instance dimension"):
        InstanceAdamW([torch.zeros(3, 2)], [0.1, 0.2], lr=1e-3)


def test_snapshots_and_until():
    kept = train_instances(FAST, weight_decays=[0.3], steps=40, log_every=20, snapshots=True,
                           progress=False)[0]
    alone = train_grokking(FAST, 0, steps=40, log_every=20, snapshots=True, progress=False)
    assert sorted(kept.result.snapshots) == sorted(alone.result.snapshots) == [0, 20, 40]
    for name, value in alone.result.snapshots[40].items():
        torch.testing.assert_close(kept.result.snapshots[40][name], value, rtol=1e-4, atol=1e-4)
    # until: an instance stops at its first logged step at or past the level, the others go on
    runs = train_instances(FAST, weight_decays=[0.3, 0.3], seeds=[0, 1], steps=60, log_every=20,
                           until=0.0, progress=False)
    assert all(r.result.history.steps == [0] and r.result.stopped_at == 0 for r in runs)
    runs = train_instances(FAST, weight_decays=[0.3], steps=60, log_every=20, until=1.0,
                           progress=False)
    assert runs[0].result.history.steps == [0, 20, 40, 60] and runs[0].result.stopped_at == 60
    with pytest.raises(ValueError, match="until must be <= 1.0"):
        train_instances(FAST, weight_decays=[0.3], until=2.0, progress=False)
