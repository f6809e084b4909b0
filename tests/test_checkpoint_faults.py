"""A checkpoint path that holds a bad file: a clear error naming the file, what is wrong and what
to do, the model untouched, loading kept at weights_only=True, and never advice to turn it off."""

import os

import pytest
import torch

from emergence_lib.models import Transformer
from emergence_lib.recipes.addition import addition_model, sequence_loss
from emergence_lib.tasks import addition_problems
from emergence_lib.train import CheckpointError, TrainConfig, load_file, train

CONFIG = TrainConfig(steps=4, lr=1e-3, batch_size=16, seed=0)


class Payload:
    """Stands for arbitrary code in a pickle: a safe load must refuse to build it."""


@pytest.fixture(scope="module")
def data():
    return addition_problems(n_digits=2, n_train=200, n_test=50, seed=0)


def fit(data, path, width=8):
    model = addition_model(width, seed=0, n_digits=2)
    return train(model, sequence_loss, (data.x_train, data.y_train), CONFIG, log_steps=[4],
                 checkpoint=path, progress=False)


def refused(data, path, match, width=8):
    model = addition_model(width, seed=0, n_digits=2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError, match=match) as info:
        train(model, sequence_loss, (data.x_train, data.y_train), CONFIG, log_steps=[4],
              checkpoint=path, progress=False)
    message = str(info.value)
    assert str(path) in message and "rm '" in message and "another path" in message
    assert "weights_only=False" not in message and "set to False" not in message
    assert info.value.__cause__ is None and info.value.__context__ is None  # no torch advice
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    return message


def test_truncated_checkpoint(data, tmp_path):
    path = tmp_path / "run.pt"
    fit(data, path)
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    refused(data, path, "truncated or corrupt PyTorch file")


def test_random_bytes(data, tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(os.urandom(4096))
    refused(data, path, "not a PyTorch file this library wrote")


def test_empty_file(data, tmp_path):
    path = tmp_path / "run.pt"
    path.write_bytes(b"")
    refused(data, path, "the file is empty")


def test_checkpoint_of_another_model(data, tmp_path):
    path = tmp_path / "run.pt"
    fit(data, path, width=8)
    message = refused(data, path, "holds the weights of another model", width=16)
    assert "other shapes" in message
    # a model of another family entirely: its parameter names differ
    other = tmp_path / "other.pt"
    model = Transformer(vocab=10, n_ctx=4, d_model=8, n_layers=1, n_heads=1)
    tokens = torch.randint(10, (32, 4))
    train(model, lambda m, b: m(b[0]).logsumexp(-1).mean(), (tokens,), CONFIG,
          log_steps=[4], checkpoint=other, progress=False)
    assert "missing" in refused(data, other, "holds the weights of another model")


def test_a_plain_state_dict_is_not_a_train_checkpoint(data, tmp_path):
    path = tmp_path / "weights.pt"
    torch.save(addition_model(8, seed=0, n_digits=2).state_dict(), path)
    refused(data, path, "not a checkpoint of train\\(\\)")


def test_unsafe_pickle_is_refused_without_running_it(data, tmp_path):
    path = tmp_path / "run.pt"
    torch.save({"config": Payload()}, path)
    refused(data, path, "refuses to run")


def test_good_checkpoint_still_resumes(data, tmp_path):
    path = tmp_path / "run.pt"
    first = fit(data, path)
    again = fit(data, path)
    assert again.resumed_from == 4 and again.history.to_dict() == first.history.to_dict()
    assert load_file(path)["step"] == 4
    with pytest.raises(CheckpointError, match="is a folder"):
        load_file(tmp_path)
