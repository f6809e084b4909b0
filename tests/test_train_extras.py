"""train()'s opt-in extras: gradient clipping, reduced precision from a step on, early stopping
on an evaluated metric; all off by default, leaving every earlier run and checkpoint as it was."""

import dataclasses

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from emergence_lib.train import TrainConfig, _config_dict, train
from emergence_lib.utils import seeded

OLD_FIELDS = {"steps", "lr", "batch_size", "optimizer", "weight_decay", "betas", "momentum",
              "schedule", "warmup_frac", "seed"}


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(256, 8, generator=g)
    y = x @ torch.randn(8, 1, generator=g) + 0.1 * torch.randn(256, 1, generator=g)
    return x, y


def model(seed=0):
    with seeded(seed):
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))


def mse(m, batch):
    x, y = batch
    return F.mse_loss(m(x), y)


def run(data, evaluate=None, checkpoint=None, **kwargs):
    config = TrainConfig(**{"steps": 40, "lr": 1e-2, "batch_size": 32, "seed": 0, **kwargs})
    return train(model(), mse, data, config, evaluate=evaluate, log_steps=5, progress=False,
                 checkpoint=checkpoint)


def weights(result):
    return torch.cat([p.detach().flatten() for p in result.model.parameters()])


def test_defaults_add_nothing_to_a_checkpoint(data, tmp_path):
    assert set(_config_dict(TrainConfig(steps=5))) == OLD_FIELDS
    path = tmp_path / "c.pt"
    train(model(), mse, data, TrainConfig(steps=5, batch_size=8), log_steps=5, progress=False,
          checkpoint=path)
    saved = torch.load(path, weights_only=True)
    assert set(saved["config"]) == OLD_FIELDS and "scaler" not in saved
    on = TrainConfig(steps=5, clip_grad_norm=1.0, autocast_after=3, patience=2, monitor="v")
    assert set(_config_dict(on)) == OLD_FIELDS | {"clip_grad_norm", "autocast_after",
                                                  "patience", "monitor"}


def test_defaults_and_a_clip_that_never_bites_are_bit_identical(data):
    plain = run(data)
    explicit = run(data, clip_grad_norm=None, autocast_after=None, patience=None, monitor=None)
    huge = run(data, clip_grad_norm=1e9)           # clip factor 1.0 exactly: the same arithmetic
    assert torch.equal(weights(plain), weights(explicit))
    assert torch.equal(weights(plain), weights(huge))
    assert plain.history.to_dict() == huge.history.to_dict()
    assert plain.stop_reason == "steps" and plain.stopped_at == 40 and plain.best_step is None


def test_clipping_bounds_each_update(data):
    before = torch.cat([p.detach().flatten() for p in model().parameters()])
    kwargs = {"steps": 1, "lr": 1.0, "optimizer": "sgd", "batch_size": 64}
    clipped = run(data, clip_grad_norm=1e-3, **kwargs)
    free = run(data, **kwargs)
    assert float((weights(clipped) - before).norm()) == pytest.approx(1e-3, rel=1e-4)
    assert float((weights(free) - before).norm()) > 1e-2


def test_autocast_from_a_step_on(data):
    dtypes = []

    def loss(m, batch):
        out = m(batch[0])
        dtypes.append(out.dtype)
        return F.mse_loss(out.float(), batch[1])

    config = TrainConfig(steps=10, lr=1e-2, batch_size=32, autocast_after=6)
    train(model(), loss, data, config, log_steps=[], progress=False)
    assert dtypes == [torch.float32] * 6 + [torch.bfloat16] * 4
    fp32, mixed = run(data), run(data, autocast_after=20)
    steps = fp32.history.steps
    cut = steps.index(20)
    assert fp32.history["loss"][:cut + 1].tolist() == mixed.history["loss"][:cut + 1].tolist()
    assert not torch.equal(weights(fp32), weights(mixed))


def test_patience_stops_and_says_where_and_why(data):
    flat = run(data, evaluate=lambda m: {"v": 1.0}, patience=3, monitor="v")
    assert flat.stop_reason == "patience" and flat.stopped_at == 15
    assert flat.history.steps == [0, 5, 10, 15] and flat.best_step == 0
    assert flat.best_value == 1.0
    falling = iter(range(100, 0, -1))
    full = run(data, evaluate=lambda m: {"v": float(next(falling))}, patience=1, monitor="v")
    assert full.stop_reason == "steps" and full.stopped_at == 40 and full.best_step == 40
    # a lower value resets the count: best at 10, then three logs without improvement
    values = iter([5.0, 4.0, 3.0, 3.0, 3.5, 4.0, 1.0, 0.0, 0.0])
    reset = run(data, evaluate=lambda m: {"v": next(values)}, patience=3, monitor="v")
    assert reset.stopped_at == 25 and reset.best_step == 10


def test_a_monitor_that_is_never_a_number_stops_without_a_best(data):
    nan = run(data, evaluate=lambda m: {"v": float("nan")}, patience=2, monitor="v")
    assert nan.stop_reason == "patience" and nan.stopped_at == 5 and nan.best_step is None


def test_early_stopped_checkpoint_returns_at_once(data, tmp_path):
    path = tmp_path / "p.pt"
    first = run(data, evaluate=lambda m: {"v": 1.0}, patience=2, monitor="v", checkpoint=path)
    again = run(data, evaluate=lambda m: {"v": 0.0}, patience=2, monitor="v", checkpoint=path)
    assert again.resumed_from == 10 == first.stopped_at and again.stop_reason == "patience"
    assert torch.equal(weights(first), weights(again))


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": 3}, "patience needs monitor"),
    ({"patience": 0, "monitor": "v"}, "patience must be >= 1"),
    ({"monitor": "v"}, "only used for early stopping"),
    ({"clip_grad_norm": 0.0}, "clip_grad_norm must be > 0"),
    ({"clip_grad_norm": -1.0}, "clip_grad_norm must be > 0"),
    ({"autocast_after": -1}, "autocast_after must be >= 0"),
])
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TrainConfig(steps=5, **kwargs)


def test_bad_combinations_are_named(data):
    with pytest.raises(ValueError, match="pass evaluate="):
        run(data, patience=2, monitor="v")
    with pytest.raises(ValueError, match="monitor='v' is not among"):
        run(data, evaluate=lambda m: {"w": 1.0}, patience=2, monitor="v")
    config = TrainConfig(steps=2, optimizer="sgd", clip_grad_norm=1.0)
    with pytest.raises(ValueError, match="cannot clip gradients or autocast"):
        train(model(), mse, data, config, update=lambda m, b, lr: mse(m, b), progress=False)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="float16 + GradScaler needs CUDA")
def test_float16_with_a_scaler_on_cuda(data):
    x, y = (t.cuda() for t in data)
    config = TrainConfig(steps=20, lr=1e-2, batch_size=32, autocast_after=5, clip_grad_norm=1.0)
    result = train(model().cuda(), mse, (x, y), config, log_steps=5, progress=False)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert dataclasses.asdict(config)["autocast_after"] == 5
