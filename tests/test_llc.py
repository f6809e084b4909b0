"""The SGLD estimator of the local learning coefficient, on models whose LLC is known."""

import pytest
import torch
import torch.nn as nn

from emergence_lib.progress.llc import calibrate_llc, devinterp_llc, estimate_llc


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


def test_default_nbeta_is_m_over_log_m_of_the_sgld_batch():
    import math

    model, data = _fitted_regression(2, n=400)
    full = estimate_llc(model, gaussian_nll, data, steps=4, burnin=1, chains=1)
    batched = estimate_llc(model, gaussian_nll, data, steps=4, burnin=1, chains=1,
                           batch_size=100)
    assert full.nbeta == pytest.approx(400 / math.log(400))
    assert batched.nbeta == pytest.approx(100 / math.log(100))
    assert batched.chain_llcs.shape == (1,) and batched.chain_llcs[0] == pytest.approx(
        batched.llc)


def test_trace_check_flags_a_chain_that_has_not_levelled_off():
    model, data = _fitted_regression(3)
    settled = estimate_llc(model, gaussian_nll, data, lr=1e-3, localization=0.0, steps=600,
                           burnin=200, chains=2, seed=0)
    assert settled.trace_check().passed
    assert not settled.trace_check(max_loss=settled.init_loss).passed   # above the allowed loss
    crawling = estimate_llc(model, gaussian_nll, data, lr=1e-7, localization=0.0, steps=60,
                            burnin=0, chains=2, seed=0)
    assert not crawling.trace_check().passed
    calibration = calibrate_llc(model, gaussian_nll, data, [1e-7, 1e-3, 10.0], localization=0.0,
                                steps=600, burnin=200, chains=2, seed=0)
    assert calibration.lr == 1e-3                     # 1e-7 crawls, 10 diverges
    assert "chosen: lr 1e-03" in calibration.summary()
    with pytest.raises(ValueError, match="lrs"):
        calibrate_llc(model, gaussian_nll, data, [])


def test_course_estimator_agrees_with_devinterp():
    """Side by side with devinterp's own SGLD estimator, same settings (needs devinterp)."""
    pytest.importorskip("devinterp")
    model, data = _fitted_regression(5, n=2000)
    settings = dict(lr=1e-3, localization=10.0, steps=500, burnin=200, chains=4,
                    batch_size=2000, seed=0)   # full batch: no batch noise in the loss draws
    ours = estimate_llc(model, gaussian_nll, data, **settings)
    theirs = devinterp_llc(model, gaussian_nll, data, **settings)
    assert ours.llc == pytest.approx(theirs.llc, rel=0.2)          # measured: 3.14 vs 2.84
    assert ours.llc == pytest.approx(3.0, rel=0.25)                # d/2 = 6/2


def test_devinterp_llc_explains_a_missing_install():
    try:
        import devinterp  # noqa: F401
    except ImportError:
        model, data = _fitted_regression(2, n=50)
        with pytest.raises(ImportError, match="devinterp==1.3.2"):
            devinterp_llc(model, gaussian_nll, data, lr=1e-3, localization=1.0)
    else:
        pytest.skip("devinterp is installed")


def test_llc_over_training_reuses_a_full_calibration_exactly():
    from emergence_lib.recipes import grokking as recipe

    run = recipe.train_grokking(recipe.FAST, 0, steps=100, log_every=50, progress=False)
    full = recipe.calibrate_run_llc(run, 100, seed=3)
    fresh = recipe.llc_over_training(run, steps=[100], seed=3, progress=False)
    reused = recipe.llc_over_training(run, steps=[100], seed=3, progress=False,
                                      calibrated={100: full})
    for name in ("llc", "llc_std", "lr", "trace_ok"):
        assert torch.equal(torch.as_tensor(fresh[name]), torch.as_tensor(reused[name])), name


def test_devinterp_loader_gives_the_batches_of_a_plain_shuffled_loader():
    """devinterp_llc's loader reads whole batches at once; they are a plain loader's batches."""
    from torch.utils.data import DataLoader, TensorDataset

    from emergence_lib.progress.llc import _as_batch, _BatchIndexed

    data = (torch.randn(50, 3), torch.randint(0, 5, (50,)))
    plain = DataLoader(TensorDataset(*data), batch_size=16, shuffle=True,
                       generator=torch.Generator().manual_seed(4))
    fast = DataLoader(_BatchIndexed(*data), batch_size=16, shuffle=True,
                      generator=torch.Generator().manual_seed(4), collate_fn=_as_batch)
    for _ in range(2):   # two epochs: the generator advances the same way
        for (xa, ya), (xb, yb) in zip(plain, fast, strict=True):
            assert torch.equal(xa, xb) and torch.equal(ya, yb)
