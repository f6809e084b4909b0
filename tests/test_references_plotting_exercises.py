import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from emergence_lib.exercises.ch00 import (
    check_coverage,
    check_transition_width,
    coverage_reference,
    transition_width_reference,
)
from emergence_lib.exercises.ch01 import (
    check_crossing_size,
    check_weakest_link,
    crossing_size_reference,
    weakest_link_reference,
)
from emergence_lib.fit import fit_logistic
from emergence_lib.plotting import frame_slider, plot_curves, plot_family, plot_logistic_fit
from emergence_lib.references import (
    CHINCHILLA,
    GPT3_13B_UPPER_BOUND,
    GPT3_ARITHMETIC,
    GPT3_ARITHMETIC_13B,
    GPT3_FLOPS,
    WEI_EMERGENCE,
    chinchilla_loss,
    compute_optimal_flops,
    compute_optimal_params,
)


def test_chinchilla_loss_matches_published_fit():
    # Chinchilla itself: 70B parameters, 1.4T tokens -> about 1.94 nats
    assert chinchilla_loss(70e9, 1.4e12)[0] == pytest.approx(1.94, abs=0.02)
    assert CHINCHILLA["cite"] == "hoffmann2022chinchilla"
    assert all(row["params"] > 1e9 for row in WEI_EMERGENCE)
    with pytest.raises(ValueError, match="n_params must be > 0"):
        chinchilla_loss(0, 1e9)


def test_chinchilla_loss_falls_from_6b_to_13b():
    n = np.array([6.7e9, 13e9])
    loss_6b, loss_13b = chinchilla_loss(n, 20 * n)
    assert loss_13b < loss_6b and loss_6b - loss_13b == pytest.approx(0.09, abs=0.01)


def test_compute_optimal_flops_and_gpt3_points():
    assert compute_optimal_flops(1e9)[0] == pytest.approx(6 * 1e9 * 20e9)
    assert compute_optimal_params(compute_optimal_flops([1e9, 7e10])) == pytest.approx([1e9, 7e10])
    with pytest.raises(ValueError, match="flops must be > 0"):
        compute_optimal_params(-1.0)
    assert GPT3_FLOPS == {13e9: 2.3e22, 175e9: 3.1e23}          # Wei et al., Table 1
    assert set(GPT3_ARITHMETIC_13B) == set(GPT3_ARITHMETIC)
    assert GPT3_ARITHMETIC_13B["2-digit addition"] == 0.5
    assert all(v == GPT3_13B_UPPER_BOUND for k, v in GPT3_ARITHMETIC_13B.items()
               if k != "2-digit addition")


def test_chapter0_checkers(capsys):
    assert transition_width_reference(4.0) == pytest.approx(3.0)
    assert check_transition_width(transition_width_reference)
    result = check_transition_width(lambda steepness, low=0.1, high=0.9: float(
        np.log(high / (1 - high)) - np.log(low / (1 - low))) / steepness)
    assert not result and "take exp" in result.message
    assert check_coverage(coverage_reference)
    result = check_coverage(lambda intervals, truth: float(np.sum(
        (np.asarray(intervals)[:, 0] <= truth) & (truth <= np.asarray(intervals)[:, 1]))))
    assert not result and "share" in result.message

    def stub(intervals, truth):
        raise NotImplementedError

    assert not check_coverage(stub).attempted
    assert "not attempted" in capsys.readouterr().out


def test_plots_run():
    x = np.geomspace(10, 1e4, 8)
    y = 1 / (1 + (1e3 / x) ** 2)
    plot_curves(np.arange(8), {"a": y})
    plot_family(x, {"acc": y})
    plot_logistic_fit(fit_logistic(x, y, n_boot=5), x, y)
    html = frame_slider(lambda ax, i: ax.plot([0, i]), 3)
    assert "<script" in html and "animation" in html.lower()
    with pytest.raises(ValueError, match="has 2 values but x has 8"):
        plot_curves(np.arange(8), {"a": [1, 2]})


def test_checkers_accept_the_reference_and_explain_mistakes(capsys):
    assert check_weakest_link(weakest_link_reference)
    result = check_weakest_link(lambda skill_probs: np.mean(skill_probs, axis=-1))
    assert not result and result.attempted and "averaged" in result.message

    def stub(skill_probs):
        raise NotImplementedError

    result = check_weakest_link(stub)
    assert not result and not result.attempted and "not attempted" in result.message
    assert check_crossing_size(crossing_size_reference)
    result = check_crossing_size(lambda sizes, accuracy, level: float(
        np.interp(level, accuracy, sizes)))
    assert not result and "log(size)" in result.message
    assert "❌" in capsys.readouterr().out
