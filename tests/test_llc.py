"""The SGLD estimator of the local learning coefficient, on models whose LLC is known."""

import pytest
import torch
import torch.nn as nn

from emergence_lib.progress.llc import estimate_llc


def _fitted_regression(dim: int, n: int = 2000, seed: int = 0):
    """A least-squares fit of y = X w + b + noise: a regular model with dim + 1 parameters."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=g)
    y = x @ torch.randn(dim, generator=g) + 0.5 + torch.randn(n, generator=g)
    design = torch.cat([x, torch.ones(n, 1)], 1)
    solution = torch.linalg.lstsq(design, y[:, None]).solution[:, 0]
    model = nn.Linear(dim, 1)
    with torch.no_grad():
        model.weight.copy_(solution[:dim][None])
        model.bias.copy_(solution[dim:])
    return model, (x, y)


def gaussian_nll(model, batch):
    x, y = batch
    return 0.5 * (model(x)[:, 0] - y).pow(2).mean()


@pytest.mark.parametrize("dim", [3, 9])
def test_llc_of_a_regular_model_is_half_its_parameter_count(dim):
    model, data = _fitted_regression(dim)
    before = [q.clone() for q in model.parameters()]
    estimate = estimate_llc(model, gaussian_nll, data, lr=1e-3, localization=0.0, steps=1000,
                            burnin=200, chains=4, seed=0)
    assert estimate.llc == pytest.approx((dim + 1) / 2, rel=0.15)
    assert estimate.loss_trace.shape == (4, 1000)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_llc_is_seeded():
    model, data = _fitted_regression(2, n=200)
    a = estimate_llc(model, gaussian_nll, data, steps=20, burnin=5, chains=1, seed=3)
    b = estimate_llc(model, gaussian_nll, data, steps=20, burnin=5, chains=1, seed=3)
    assert a.llc == b.llc


def test_llc_bad_inputs():
    model, data = _fitted_regression(2, n=50)
    with pytest.raises(ValueError, match="lr"):
        estimate_llc(model, gaussian_nll, data, lr=0.0)
    with pytest.raises(ValueError, match="burnin"):
        estimate_llc(model, gaussian_nll, data, steps=10, burnin=10)
    with pytest.raises(TypeError, match="model"):
        estimate_llc("model", gaussian_nll, data)
    with pytest.raises(TypeError, match="data"):
        estimate_llc(model, gaussian_nll, [])
    with pytest.raises(FloatingPointError, match="diverged"):
        estimate_llc(model, gaussian_nll, data, lr=10.0, steps=50, burnin=1)
