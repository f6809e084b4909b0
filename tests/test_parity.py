import numpy as np
import pytest
import torch

from emergence_lib.models import BatchedMLP, OneHiddenMLP, seeded_mlps
from emergence_lib.progress.parity import (
    fourier_coefficients,
    fourier_gap,
    random_subsets,
    secret_weight_ratio,
    weight_change_inf,
)
from emergence_lib.recipes.parity import (
    fit_exponent,
    hinge_loss,
    hinge_sgd_update,
    parity_config,
    plateau_and_jump,
    solve_steps,
    train_parity_seeds,
)
from emergence_lib.tasks import n_subsets, parity_labels, parity_secret, sparse_parity
from emergence_lib.tasks.parity import random_signs
from emergence_lib.train import TrainConfig, train


def test_secret_is_seeded_and_labels_are_parities():
    s = parity_secret(10, 3, seed=1)
    assert torch.equal(s, parity_secret(10, 3, seed=1)) and len(set(s.tolist())) == 3
    assert not all(torch.equal(s, parity_secret(10, 3, seed=i)) for i in range(2, 6))
    x = torch.tensor([[1.0, -1.0, -1.0, 1.0]])
    assert parity_labels(x, torch.tensor([0, 1])).item() == -1.0
    assert parity_labels(x, torch.tensor([1, 2])).item() == 1.0
    assert n_subsets(50, 3) == 19_600


def test_sampler_pads_and_labels_each_member():
    task = sparse_parity([5, 8], k=2, seeds=(0, 1))
    x, y = task(16, torch.Generator().manual_seed(0))
    assert x.shape == (4, 16, 8) and y.shape == (4, 16)
    assert (x[:2, :, 5:] == 0).all() and set(x[:2, :, :5].unique().tolist()) == {-1.0, 1.0}
    for i, secret in enumerate(task.secrets):
        assert torch.equal(y[i], parity_labels(x[i], secret))
    # Online: the next call gives fresh samples; same seed, same samples.
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(task(4, g1)[0], task(4, g2)[0])
    assert not torch.equal(task(4, g1)[0], task(4, torch.Generator().manual_seed(4))[0])


@pytest.mark.parametrize("call, match", [
    (lambda: parity_secret(5, 6), "k must be <= 5, got 6"),
    (lambda: parity_secret(5, 0), "k must be >= 1, got 0"),
    (lambda: parity_secret(0, 1), "n must be >= 1, got 0"),
    (lambda: sparse_parity(3, 4), "n must be >= 4, got 3"),
    (lambda: sparse_parity([10, 2], 3), "n\\[1\\] must be >= 3, got 2"),
    (lambda: sparse_parity(10, 2.5), "k must be an integer"),
    (lambda: sparse_parity(10, 2)(None, torch.Generator()), "online task"),
    (lambda: parity_labels(torch.ones(2, 3), torch.tensor([0, 3])), "in \\[0, 3\\)"),
    (lambda: n_subsets(3, 5), "k must be <= 3"),
])
def test_task_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_batched_model_matches_its_members():
    mlps = seeded_mlps([0, 1, 2], [6, 4, 6], width=8)
    batched = BatchedMLP.from_modules(mlps)
    x = torch.randn(3, 5, 6)
    x[1, :, 4:] = 0  # member 1 has 4 real inputs
    out = batched(x)
    assert out.shape == (3, 5, 1)
    for i, m in enumerate(mlps):
        torch.testing.assert_close(out[i], m(x[i, :, : m.n_inputs]))
        torch.testing.assert_close(batched.member(i)(x[i, :, : m.n_inputs]), out[i])
    # The same seed gives the same init, batched or alone.
    torch.testing.assert_close(seeded_mlps([2], 6, 8)[0].hidden.weight, batched.w1[2])


def test_batched_model_bad_input():
    with pytest.raises(ValueError, match="x must have shape \\(2, batch, 5\\)"):
        BatchedMLP(2, 5, 4)(torch.zeros(3, 1, 5))
    with pytest.raises(ValueError, match="share width"):
        BatchedMLP.from_modules([OneHiddenMLP(3, 4), OneHiddenMLP(3, 5)])
    with pytest.raises(TypeError, match="OneHiddenMLP"):
        BatchedMLP.from_modules([torch.nn.Linear(2, 2)])
    with pytest.raises(ValueError, match="i must be <= 1"):
        BatchedMLP(2, 5, 4).member(2)
    with pytest.raises(ValueError, match="width must be >= 1"):
        OneHiddenMLP(3, 0)


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_batched_seeds_equal_separate_runs(momentum):
    """The library capability: S seeds trained as one model = S separate runs, to float error."""
    task = sparse_parity([12, 9], k=2, seeds=(0, 1))
    seeds = [0, 1, 0, 1]
    steps = 60
    config = TrainConfig(steps=steps, lr=0.05, batch_size=16, optimizer="sgd",
                         momentum=momentum, seed=7)
    batched = BatchedMLP.from_modules(seeded_mlps(seeds, list(task.ns), width=32))
    train(batched, hinge_loss, task, config, log_steps=[steps], progress=False)
    for i, seed in enumerate(seeds):
        alone = seeded_mlps([seed], task.ns[i], width=32)[0]
        train(alone, hinge_loss, task.member_sampler(i), config, log_steps=[steps],
              progress=False)
        member = batched.member(i)
        for got, want in zip(member.parameters(), alone.parameters(), strict=True):
            torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    assert (batched.w1[2:, :, 9:] == 0).all()  # members 2, 3 have n=9: padding never learns


def test_hinge_sgd_update_equals_autograd_and_separate_runs():
    """The fused step (hand-written gradient, in-place SGD) = autograd + torch.optim.SGD, per
    member, padding included."""
    task = sparse_parity([12, 9], k=2, seeds=(0, 1))
    seeds, steps = [0, 1, 0, 1], 60
    config = TrainConfig(steps=steps, lr=0.05, batch_size=16, optimizer="sgd", seed=7)
    fused = BatchedMLP.from_modules(seeded_mlps(seeds, list(task.ns), width=32))
    plain = BatchedMLP.from_modules(seeded_mlps(seeds, list(task.ns), width=32))
    got = train(fused, hinge_loss, task, config, log_steps=[0, steps], progress=False,
                update=hinge_sgd_update)
    want = train(plain, hinge_loss, task, config, log_steps=[0, steps], progress=False)
    for a, b in zip(fused.parameters(), plain.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.history["loss"], want.history["loss"], rtol=1e-5)
    assert (fused.w1[2:, :, 9:] == 0).all()
    alone = seeded_mlps([1], 9, width=32)[0]
    train(alone, hinge_loss, task.member_sampler(3), config, log_steps=[steps], progress=False)
    for a, b in zip(fused.member(3).parameters(), alone.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_fused_run_interrupted_resumes_to_the_same_weights(tmp_path):
    task, config = sparse_parity(10, 2, seeds=(0, 1)), parity_config(40, 0.1, 16)

    def fit(evaluate=None, checkpoint=None):
        model = BatchedMLP.from_modules(seeded_mlps([0, 1], 10, width=16))
        return train(model, hinge_loss, task, config, evaluate=evaluate, log_steps=10,
                     checkpoint=checkpoint, progress=False, update=hinge_sgd_update)

    full, path, calls = fit(), tmp_path / "ckpt.pt", {"n": 0}

    def interrupting(model):
        calls["n"] += 1
        if calls["n"] == 3:  # the log at step 20
            raise KeyboardInterrupt
        return {}

    with pytest.raises(KeyboardInterrupt):
        fit(interrupting, path)
    resumed = fit(checkpoint=path)
    assert resumed.resumed_from == 20
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k


def test_hinge_sgd_update_bad_input():
    model, task = BatchedMLP(2, 5, 4), sparse_parity(5, 2, seeds=(0, 1))
    x, y = task(3, torch.Generator().manual_seed(0))
    with pytest.raises(TypeError, match="BatchedMLP with n_outputs=1"):
        hinge_sgd_update(BatchedMLP(2, 5, 4, n_outputs=2), (x, y), 0.1)
    with pytest.raises(TypeError, match="BatchedMLP"):
        hinge_sgd_update(OneHiddenMLP(5, 4), (x[0], y[0]), 0.1)
    with pytest.raises(ValueError, match="y must have shape \\(2, 3\\)"):
        hinge_sgd_update(model, (x, y[:, :2]), 0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        hinge_sgd_update(model, (x, y), -1.0)
    adam = TrainConfig(steps=2, batch_size=3, optimizer="adam")
    with pytest.raises(ValueError, match="optimizer='sgd'.*got optimizer='adam'"):
        train(model, hinge_loss, task, adam, update=hinge_sgd_update, progress=False)
    with pytest.raises(TypeError, match="update must be callable"):
        train(model, hinge_loss, task, parity_config(2, 0.1, 3), update=1, progress=False)


def test_random_signs_are_fair_and_seeded():
    x = random_signs((3, 400, 70), torch.Generator().manual_seed(0))
    assert x.shape == (3, 400, 70) and x.dtype == torch.float32
    assert set(x.unique().tolist()) == {-1.0, 1.0}
    assert abs(float(x.mean())) < 0.01                        # 84,000 flips: sd 0.0035
    assert x.mean((0, 1)).abs().max() < 0.1                   # no stuck bit position
    assert torch.equal(x, random_signs((3, 400, 70), torch.Generator().manual_seed(0)))


def test_parity_is_learned_with_a_plateau():
    run = train_parity_seeds(12, 2, seeds=(0, 1), width=64, steps=400, lr=0.2, log_every=10,
                             measure_progress=True, progress=False)
    assert (run.accuracy[:, 0] < 0.7).all() and (run.accuracy[:, -1] >= 0.99).all()
    assert np.isfinite(run.solve_steps()).all()
    assert (run.progress["winf_secret"][:, -1] > run.progress["winf_secret"][:, 0]).all()
    assert (run.progress["secret_ratio"][:, -1] > 1.5).all()
    assert (run.progress["fourier_gap"][:, -1] > 0.1).all()


def test_progress_measures():
    w0 = torch.zeros(4, 5)
    w = w0.clone()
    w[:, 1] = 2.0
    w[0, 3] = -0.5
    secret = torch.tensor([1, 2])
    assert weight_change_inf(w, w0, secret) == {"secret": 2.0, "other": 0.5}
    w = torch.ones(4, 5)
    w[:, 1:3] = 3.0
    assert secret_weight_ratio(w, secret) == pytest.approx(3.0)
    x = torch.tensor([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0], [-1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    f = x[:, 0] * x[:, 1]  # f = chi_{0,1} exactly
    coef = fourier_coefficients(f, x, torch.tensor([[0, 1], [1, 2]]))
    assert coef.tolist() == [1.0, 0.0]
    assert fourier_gap(f, x, torch.tensor([0, 1]), torch.tensor([[1, 2], [0, 2], [0, 1]])) == 1.0
    subsets = random_subsets(10, 3, 5, seed=0)
    assert subsets.shape == (5, 3) and torch.equal(subsets, random_subsets(10, 3, 5, seed=0))
    with pytest.raises(ValueError, match="secret must hold 1 to 4 coordinates"):
        secret_weight_ratio(torch.ones(3, 5), torch.arange(5))
    with pytest.raises(ValueError, match="w0 must have the shape"):
        weight_change_inf(torch.ones(3, 5), torch.ones(3, 4), secret)
    with pytest.raises(ValueError, match="other than the secret"):
        fourier_gap(f, x, torch.tensor([0, 1]), torch.tensor([[0, 1]]))
    with pytest.raises(ValueError, match="same length"):
        fourier_coefficients(f[:3], x, torch.tensor([[0, 1]]))


def test_recipe_helpers():
    steps = np.arange(0, 1000, 10)
    acc = np.where(steps < 500, 0.5, np.where(steps < 560, 0.75, 1.0))[None]
    assert solve_steps(steps, acc).tolist() == [560.0]
    plateau, jump = plateau_and_jump(steps, acc)
    assert 490 <= plateau[0] <= 500 and 0 < jump[0] <= 70
    assert np.isnan(solve_steps(steps, np.full((1, 100), 0.5)))[0]
    slope, _ = fit_exponent([10, 20, 40], [100, 400, 1600])
    assert slope == pytest.approx(2.0)
    with pytest.raises(ValueError, match="positive"):
        fit_exponent([10, 20], [0, 5])
    with pytest.raises(ValueError, match="one column per step"):
        solve_steps(steps, np.zeros((1, 3)))
    assert parity_config(10, 0.1, 32).optimizer == "sgd"


def test_ch05_checkers():
    from emergence_lib.exercises.ch05 import (
        chance_and_subsets_reference,
        check_chance_and_subsets,
        check_secret_mass,
        predicted_steps,
        secret_mass_reference,
    )

    assert check_chance_and_subsets(chance_and_subsets_reference).passed
    wrong = check_chance_and_subsets(lambda n, k: (0.5, n**k))
    assert not wrong.passed and "math.comb" in wrong.message
    assert check_secret_mass(secret_mass_reference).passed

    def stub(w, secret):
        raise NotImplementedError

    result = check_secret_mass(stub)
    assert not result.passed and not result.attempted
    assert predicted_steps(np.array([10, 20]), np.array([100, 400]), 40) == pytest.approx(1600)


def test_plateau_indices_pull_away_and_leads():
    from emergence_lib.recipes.parity import measure_leads, plateau_indices, pull_away_steps

    steps = np.arange(0, 1000, 10.0)
    early, at_onset = plateau_indices(steps, np.array([400.0, 405.0, np.nan]))
    assert early.tolist() == [10, 11, 25] and at_onset.tolist() == [40, 40, 99]
    other = np.full((1, len(steps)), 0.1)
    secret = np.where(steps < 300, 0.05, 0.5)[None]           # 0.5x, then 5x the others
    assert pull_away_steps(steps, secret, other, smooth=5)[0] == pytest.approx(293.3, abs=0.1)
    assert np.isnan(pull_away_steps(steps, other, other))[0]

    class Run:  # the fields measure_leads reads
        accuracy = np.where(steps < 500, 0.5, 1.0)[None]
        progress = {"winf_secret": secret, "winf_other": other}

    Run.steps = steps
    leads = measure_leads(Run, smooth=5)
    assert leads["winf_pull_away"][0] == pytest.approx(500 - 295, abs=10)
    assert leads["winf_secret"][0] == pytest.approx(500 - 295, abs=10)
    assert np.isnan(leads["winf_other"][0])                   # a flat curve: no onset


def test_predict_steps_and_median_interval():
    from emergence_lib.recipes.parity import median_interval, predict_steps

    rng = np.random.default_rng(0)
    ns = [10, 20, 40]
    solve = [100 * (n / 10) ** 2 * rng.uniform(0.9, 1.1, 16) for n in ns]
    point, low, high = predict_steps(ns, solve, 80, n_boot=200)
    assert low < point < high and point == pytest.approx(100 * 8**2, rel=0.15)
    assert predict_steps(ns, solve, 80, n_boot=200) == (point, low, high)   # seeded
    median, lo, hi = median_interval([1.0, 2, 3, 4, np.inf])
    assert median == 3 and lo <= 3 <= hi and hi == np.inf          # an unsolved seed is counted
    with pytest.raises(ValueError, match="one array of solve steps per n"):
        predict_steps(ns, solve[:2], 80)
    with pytest.raises(ValueError, match="not nan"):
        median_interval([1.0, np.nan])
    with pytest.raises(ValueError, match="finite"):
        fit_exponent([10, 20], [5, np.inf])


def test_fourier_panel_matches_fourier_gap_and_run_logs_hinge_loss():
    from emergence_lib.progress.parity import fourier_panel, panel_gap

    gen = torch.Generator().manual_seed(0)
    x = random_signs((200, 9), gen)
    out = torch.randn(200, generator=gen) + x[:, 1] * x[:, 4] * x[:, 7]
    secret, others = torch.tensor([1, 4, 7]), random_subsets(9, 3, 20, seed=1)
    assert panel_gap(out, fourier_panel(x, secret, others)) == pytest.approx(
        fourier_gap(out, x, secret, others))
    with pytest.raises(ValueError, match="outputs and panel must have the same length"):
        panel_gap(out[:5], fourier_panel(x, secret, others))
    run = train_parity_seeds(8, 2, seeds=(0,), width=16, steps=20, lr=0.2, log_every=10,
                             progress=False)
    assert run.test_loss.shape == run.accuracy.shape == (1, 3)
    assert 0.5 < run.test_loss[0, 0] < 2.0                  # about 1 at a small random init


def test_training_step_and_seconds_per_step():
    from emergence_lib.bench import seconds_per_step
    from emergence_lib.recipes.parity import training_step

    for how in ("loop", "batched", "fused"):
        assert seconds_per_step(training_step(how, 2, 10, 3, 8, 4, 0.1), steps=2, warmup=1) > 0
    with pytest.raises(ValueError, match="how must be one of"):
        training_step("vectorised", 2, 10, 3, 8, 4, 0.1)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        seconds_per_step(lambda: None, steps=0)
