"""The generic number and verdict checkers, and bench.measure_step."""

import numpy as np
import pytest
import torch

from emergence_lib.bench import StepCost, measure_step
from emergence_lib.exercises.core import check_number, check_verdict


def test_check_number_not_attempted_passes_and_fails(capsys: pytest.CaptureFixture) -> None:
    stub = check_number(..., 3.0, name="threshold")
    assert not stub.passed and not stub.attempted and "not attempted" in stub.message
    assert check_number(None, 3.0, name="threshold").attempted is False
    ok = check_number(3.2, 3.0, name="threshold", rtol=0.1, unit="digits")
    assert ok.passed and "within 10%" in ok.message
    far = check_number(4, 3.0, name="threshold", rtol=0.1, explain="It moves by one digit.")
    assert not far.passed and far.attempted
    assert "too high" in far.message and "It moves by one digit." in far.message
    low = check_number(1.0, 3.0, name="t", atol=0.5)
    assert not low.passed and "too low" in low.message and "±0.5" in low.message
    assert "✅" in capsys.readouterr().out


def test_check_number_rejects_what_is_not_a_number() -> None:
    bad = check_number("three", 3.0, name="t", atol=1)
    assert not bad.passed and bad.attempted and "expected a number" in bad.message
    assert not check_number(float("nan"), 3.0, name="t", atol=1).passed
    assert check_number(np.float32(3.0), 3.0, name="t", verbose=False).passed


def test_check_verdict_booleans_and_labels() -> None:
    assert not check_verdict(..., True, name="v").attempted
    assert check_verdict(True, True, name="v").passed
    assert check_verdict(np.bool_(False), False, name="v").passed
    wrong = check_verdict(False, True, name="v", explain="The interval excludes -1.")
    assert not wrong.passed and "The interval excludes -1." in wrong.message
    # 1 == True in Python, but it is not a verdict
    assert "not a verdict" in check_verdict(1, True, name="v").message
    assert "not a verdict" in check_verdict("yes", True, name="v").message
    labels = ("metric", "model")
    assert check_verdict("metric", "metric", name="v", allowed=labels).passed
    assert not check_verdict("model", "metric", name="v", allowed=labels).passed
    assert "not a verdict" in check_verdict("mirage", "metric", name="v", allowed=labels).message


def test_measure_step_reports_time_and_memory() -> None:
    net = torch.nn.Linear(64, 64)
    x = torch.randn(128, 64)

    def step() -> None:
        net.zero_grad()
        net(x).sum().backward()

    cost = measure_step(step, repeats=3, warmup=1)
    assert isinstance(cost, StepCost)
    assert cost.seconds > 0 and cost.per_second == pytest.approx(1 / cost.seconds)
    assert cost.torch_allocated_bytes >= 128 * 64 * 4  # at least the output activations
    assert cost.python_peak_bytes >= 0
    assert "steps/s" in cost.summary()
    with pytest.raises(ValueError, match="repeats"):
        measure_step(step, repeats=0)


def test_interval_above() -> None:
    from emergence_lib.exercises.core import interval_above

    assert interval_above((1.2, 3.0), 1.0) is True
    assert interval_above((0.9, 3.0), 1.0) is False
    with pytest.raises(ValueError, match="ratio_interval must be"):
        interval_above((3.0, 1.2), 1.0, name="ratio_interval")
