import numpy as np
import pytest
import torch

from emergence_lib.recipes.addition import addition_model, evaluate_addition, sequence_loss
from emergence_lib.tasks import addition_problems
from emergence_lib.train import History, TrainConfig, log_spaced_steps, minibatches, train


@pytest.fixture(scope="module")
def data():
    return addition_problems(n_digits=2, n_train=2000, n_test=500, seed=0)


def run(data, steps=60, **kwargs):
    model = addition_model(16, seed=0, n_digits=2)
    config = TrainConfig(steps=steps, lr=3e-3, batch_size=64, schedule="onecycle", seed=0)
    return train(model, sequence_loss, (data.x_train, data.y_train), config,
                 evaluate=lambda m: evaluate_addition(m, data.x_test, data.y_test),
                 log_steps=10, progress=False, **kwargs)


def test_same_seed_same_history(data):
    a, b = run(data), run(data)
    assert a.history.to_dict() == b.history.to_dict()
    assert a.history.steps == list(range(0, 61, 10))
    assert a.history["loss"][-1] < a.history["loss"][0]


def test_interrupted_run_resumes_to_the_same_weights(data, tmp_path):
    full = run(data)
    path = tmp_path / "ckpt.pt"
    calls = {"n": 0}

    def interrupting(model):
        calls["n"] += 1
        if calls["n"] == 4:  # the log at step 30
            raise KeyboardInterrupt
        return evaluate_addition(model, data.x_test, data.y_test)

    model = addition_model(16, seed=0, n_digits=2)
    config = TrainConfig(steps=60, lr=3e-3, batch_size=64, schedule="onecycle", seed=0)
    with pytest.raises(KeyboardInterrupt):
        train(model, sequence_loss, (data.x_train, data.y_train), config, evaluate=interrupting,
              log_steps=10, checkpoint=path, progress=False)
    assert path.exists()
    resumed = run(data, checkpoint=path)
    assert resumed.resumed_from == 30
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    assert resumed.history.to_dict() == full.history.to_dict()
    # a finished checkpoint returns at once with the same result
    again = run(data, checkpoint=path)
    assert again.resumed_from == 60 and again.history.to_dict() == full.history.to_dict()


def test_checkpoint_with_other_config_is_refused(data, tmp_path):
    path = tmp_path / "c.pt"
    run(data, steps=20, checkpoint=path)
    with pytest.raises(ValueError, match="delete it or choose another path"):
        run(data, steps=30, checkpoint=path)


def test_snapshots_and_sampler(data):
    result = run(data, steps=20, snapshots=True)
    assert sorted(result.snapshots) == [0, 10, 20]
    assert not torch.equal(result.snapshots[0]["head.weight"], result.snapshots[20]["head.weight"])
    sample = minibatches(data.x_train, data.y_train)
    x, y = sample(8, torch.Generator().manual_seed(0))
    assert x.shape == (8, 4) and y.shape == (8, 3)
    assert sample(None, torch.Generator())[0] is data.x_train


def test_log_spaced_steps():
    steps = log_spaced_steps(1000, 20)
    assert steps[0] == 0 and steps[-1] == 1000 and steps == sorted(set(steps))


def test_history():
    h = History()
    h.log(0, {"a": 1.0})
    h.log(5, {"a": 2.0})
    assert np.array_equal(h["step"], [0, 5]) and h.final("a") == 2.0
    with pytest.raises(KeyError, match="no metric 'b'"):
        h["b"]
    with pytest.raises(ValueError, match="earlier rows have"):
        h.log(6, {"b": 1.0})


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps must be >= 1"),
    ({"steps": 10, "lr": -1.0}, "lr must be > 0"),
    ({"steps": 10, "optimizer": "lion"}, "optimizer must be one of"),
    ({"steps": 10, "betas": (0.9, 1.5)}, "betas\\[1\\] must be < 1"),
    ({"steps": 10, "batch_size": 0}, "batch_size must be >= 1"),
])
def test_config_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        TrainConfig(**kwargs)


def test_train_bad_input(data):
    model = addition_model(8, n_digits=2)
    with pytest.raises(TypeError, match="config must be a TrainConfig"):
        train(model, sequence_loss, (data.x_train, data.y_train), {"steps": 3})
    with pytest.raises(ValueError, match="same first dimension"):
        minibatches(data.x_train, data.y_test)
    with pytest.raises(FloatingPointError, match="try a smaller lr"):
        train(model, lambda m, b: torch.tensor(float("nan"), requires_grad=True),
              (data.x_train,), TrainConfig(steps=2), progress=False)


@pytest.mark.parametrize("optimizer", ["adamw", "adam", "sgd"])
def test_foreach_optimizer_is_bit_equal_to_the_plain_loop(data, optimizer):
    """train() uses foreach=True (faster on a CPU); a plain loop with PyTorch's default
    per-parameter optimizer on the same batches reaches bit-identical weights."""
    from emergence_lib.train import _make_optimizer

    config = TrainConfig(steps=30, lr=3e-3, batch_size=64, optimizer=optimizer,
                         weight_decay=0.01, seed=0)
    models = [addition_model(16, seed=0, n_digits=2) for _ in range(2)]
    optimizers = [_make_optimizer(models[0], config)]
    kind = {"adamw": torch.optim.AdamW, "adam": torch.optim.Adam, "sgd": torch.optim.SGD}
    extra = {} if optimizer == "sgd" else {"betas": config.betas}
    optimizers.append(kind[optimizer](models[1].parameters(), lr=config.lr, foreach=False,
                                      weight_decay=config.weight_decay, **extra))
    assert optimizers[0].param_groups[0]["foreach"] is True
    generator = torch.Generator().manual_seed(0)
    for _ in range(config.steps):
        idx = torch.randint(len(data.y_train), (64,), generator=generator)
        batch = (data.x_train[idx], data.y_train[idx])
        for model, opt in zip(models, optimizers, strict=True):
            opt.zero_grad()
            sequence_loss(model, batch).backward()
            opt.step()
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b)
