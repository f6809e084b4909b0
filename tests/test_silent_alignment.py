"""Chapter 8's library: the empirical NTK against finite differences, kernel alignment, Saxe's
closed form against a numerical ODE solution, the whitened tasks, and bad inputs."""

import math

import numpy as np
import pytest
import torch

from emergence_lib.models.linear_nets import DeepLinear, TwoLayerReLU
from emergence_lib.progress.ntk import (
    empirical_ntk,
    kernel_alignment,
    kernel_scale,
    mode_strengths,
    param_jacobian,
)
from emergence_lib.recipes import silent_alignment as recipe
from emergence_lib.tasks.whitened import (
    digits_two_class,
    linear_teacher,
    partial_whitening,
    whitened_inputs,
)
from emergence_lib.utils import seeded


def finite_difference_jacobian(model, x, eps=1e-6):
    """d f(x_i) / d theta by central differences, in float64: (P, n_params)."""
    model = model.double()
    cols = []
    for p in model.parameters():
        flat = p.data.view(-1)
        for k in range(flat.numel()):
            old = flat[k].item()
            flat[k] = old + eps
            up = model(x).reshape(-1).detach().clone()
            flat[k] = old - eps
            down = model(x).reshape(-1).detach().clone()
            flat[k] = old
            cols.append((up - down) / (2 * eps))
    return torch.stack(cols, dim=1)


@pytest.mark.parametrize("make", [
    lambda: DeepLinear(4, 3, 3, 1, sigma=0.7),
    lambda: TwoLayerReLU(4, 5, sigma=1.0),
])
def test_ntk_matches_finite_differences(make):
    with seeded(0):
        model = make()
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    J = param_jacobian(model, x)
    fd = finite_difference_jacobian(model, x.double())
    assert torch.allclose(J.double(), fd, atol=1e-5)
    K = empirical_ntk(model.float(), x)
    assert K.shape == (6, 6) and torch.allclose(K, K.T, atol=1e-5)
    assert torch.allclose(K.double(), fd @ fd.T, rtol=1e-4, atol=1e-5)
    cross = empirical_ntk(model.float(), x[:2], x)
    assert cross.shape == (2, 6) and torch.allclose(cross, K[:2], atol=1e-5)


def test_alignment_is_one_for_y_y_transpose_and_scale_free():
    y = torch.randn(7, generator=torch.Generator().manual_seed(2))
    assert kernel_alignment(torch.outer(y, y), y) == pytest.approx(1.0, abs=1e-6)
    assert kernel_alignment(5 * torch.outer(y, y), 3 * y) == pytest.approx(1.0, abs=1e-6)
    assert kernel_alignment(torch.eye(16), torch.ones(16)) == pytest.approx(0.25, abs=1e-6)
    assert kernel_scale(torch.eye(16)) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="K must have shape"):
        kernel_alignment(torch.eye(3), y)
    with pytest.raises(ValueError, match="zero kernel or zero targets"):
        kernel_alignment(torch.zeros(7, 7), y)
    with pytest.raises(TypeError, match="K must be a torch.Tensor"):
        kernel_alignment(np.eye(7), y)


def test_saxe_closed_form_solves_its_ode():
    s, u0, tau = 2.0, 1e-3, 1.0
    t = np.linspace(0, 5, 50_001)
    u = np.empty_like(t)
    u[0] = u0
    dt = t[1] - t[0]
    for i in range(len(t) - 1):                       # 4th-order Runge-Kutta
        f = lambda v: 2 * v * (s - v) / tau           # noqa: E731
        k1 = f(u[i])
        k2 = f(u[i] + dt / 2 * k1)
        k3 = f(u[i] + dt / 2 * k2)
        k4 = f(u[i] + dt * k3)
        u[i + 1] = u[i] + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    assert np.allclose(recipe.saxe_mode(t, s, u0, tau), u, rtol=1e-6, atol=1e-9)
    half = recipe.saxe_learning_time(s, u0, tau)
    assert recipe.saxe_mode(half, s, u0, tau) == pytest.approx(s / 2)
    assert half == pytest.approx(math.log((s - u0) / u0) / (2 * s))
    with pytest.raises(ValueError, match="u0 must be > 0.0"):
        recipe.saxe_mode(1.0, s, 0.0)
    with pytest.raises(ValueError, match="u0 must be < 2.0"):
        recipe.saxe_learning_time(s, 3.0)
    with pytest.raises(ValueError, match="s must be > 0.0"):
        recipe.saxe_learning_time(-1.0, 1e-3)


def test_a_trained_linear_network_follows_the_closed_form():
    run = recipe.stage_run(fast=True, seed=0)
    theory = np.array([recipe.saxe_learning_time(s, run.u0) for s in run.s])
    assert np.all(np.abs(run.half_times / theory - 1) < 0.15)
    assert np.all(np.diff(run.half_times) > 0)       # strongest mode first
    assert run.u[-1] == pytest.approx(run.s, rel=0.05)


def test_whitened_inputs_and_teacher():
    x = whitened_inputs(40, 5, seed=3)
    assert torch.allclose(x.T @ x / 40, torch.eye(5), atol=1e-5)
    t = linear_teacher([3.0, 1.0], 4, 6, seed=0)
    assert t.W.shape == (6, 4)
    assert torch.allclose(torch.linalg.svdvals(t.W)[:2], torch.tensor([3.0, 1.0]).double())
    assert torch.allclose(mode_strengths(t.W, t.U, t.V), t.s)
    with pytest.raises(ValueError, match="n_samples must be >= dim"):
        whitened_inputs(3, 5)
    with pytest.raises(ValueError, match="at most min"):
        linear_teacher([1.0, 1.0, 1.0], 2, 5)
    with pytest.raises(ValueError, match="need M"):
        mode_strengths(torch.zeros(3, 4), torch.zeros(4, 1), torch.zeros(4, 1))


def test_partial_whitening_maps_eigenvalues():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3)) * np.array([3.0, 1.0, 0.5])
    for gamma in (0.0, 0.5, 1.0):
        Z = partial_whitening(X, gamma)
        lam = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False, bias=True)))
        got = np.sort(np.linalg.eigvalsh(np.cov(Z, rowvar=False, bias=True)))
        assert np.allclose(got, lam ** gamma, rtol=1e-6)
    with pytest.raises(ValueError, match="gamma must be <= 1.0"):
        partial_whitening(X, 1.5)
    with pytest.raises(ValueError, match="X must be two-dimensional"):
        partial_whitening(X[0], 0.0)


def test_digits_task():
    task = digits_two_class((0, 1), gamma=0.0, n_train=100, seed=0)
    assert task.x_train.shape[0] == 100 and set(task.y_train.tolist()) == {-1.0, 1.0}
    cov = torch.cov(task.x_train.T, correction=0)
    assert torch.allclose(cov, torch.eye(cov.shape[0]), atol=1e-3)
    with pytest.raises(ValueError, match="two different digits"):
        digits_two_class((3, 3))
    with pytest.raises(ValueError, match=r"classes\[1\] must be <= 9"):
        digits_two_class((3, 12))


def test_models_and_training_reject_bad_inputs():
    with pytest.raises(ValueError, match="sigma must be > 0.0"):
        DeepLinear(3, 4, 2, sigma=0.0)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        DeepLinear(3, 4, 0)
    with pytest.raises(ValueError, match=r"x must be a tensor of shape \(batch, 3\)"):
        DeepLinear(3, 4, 2)(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="lr must be > 0.0"):
        recipe.gd_train(DeepLinear(3, 4, 2), torch.zeros(2, 3), torch.zeros(2), lr=0.0,
                        t_max=1.0, record=np.array([0.0]))
    with pytest.raises(ValueError, match="ridge must be >= 0.0"):
        recipe.kernel_regression(torch.eye(2), torch.eye(2), torch.ones(2), ridge=-1.0)
    with pytest.raises(ValueError, match="at least 3 finite positive points"):
        recipe.power_law_fit([1.0, 2.0], [1.0, 2.0])


def test_kernel_regression_interpolates():
    K = torch.tensor([[2.0, 0.5], [0.5, 1.0]])
    y = torch.tensor([1.0, -1.0])
    assert torch.allclose(recipe.kernel_regression(K, K, y, ridge=0.0), y, atol=1e-5)
