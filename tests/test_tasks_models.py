import pytest
import torch

from emergence_lib.models import DigitMLP
from emergence_lib.tasks import addition_problems, from_digits, to_digits


def test_addition_is_correct_and_split_is_disjoint():
    data = addition_problems(n_digits=3, n_train=500, n_test=200, seed=1)
    assert data.x_train.shape == (500, 6) and data.y_train.shape == (500, 4)
    a, b = from_digits(data.x_train[:, :3]), from_digits(data.x_train[:, 3:])
    assert (from_digits(data.y_train) == a + b).all()
    train = {tuple(r) for r in data.x_train.tolist()}
    test = {tuple(r) for r in data.x_test.tolist()}
    assert len(train) == 500 and len(test) == 200 and not train & test


def test_addition_is_seeded():
    a = addition_problems(2, 100, 50, seed=3)
    b = addition_problems(2, 100, 50, seed=3)
    c = addition_problems(2, 100, 50, seed=4)
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)


def test_digits_roundtrip():
    assert from_digits(to_digits([0, 7, 1234], 5)).tolist() == [0, 7, 1234]


@pytest.mark.parametrize("kwargs, match", [
    ({"n_digits": 0}, "n_digits must be >= 1, got 0"),
    ({"n_digits": 1.5}, "n_digits must be an integer"),
    ({"n_digits": 1, "n_train": 90, "n_test": 20}, "n_train \\+ n_test must be <= 100"),
    ({"n_train": -1}, "n_train must be >= 1"),
])
def test_addition_bad_input(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        addition_problems(**kwargs)


def test_mlp_shapes_and_bad_input():
    model = DigitMLP(n_inputs=8, n_outputs=5, width=16)
    assert model(torch.zeros(3, 8, dtype=torch.long)).shape == (3, 5, 10)
    with pytest.raises(ValueError, match="token ids in \\[0, 10\\)"):
        model(torch.full((2, 8), 10))
    with pytest.raises(ValueError, match="shape \\(batch, 8\\)"):
        model(torch.zeros(2, 7, dtype=torch.long))
    with pytest.raises(ValueError, match="width must be >= 1"):
        DigitMLP(width=0)
