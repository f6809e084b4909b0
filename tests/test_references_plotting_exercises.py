import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest

from emergence_lib.exercises.ch01 import (
    check_crossing_size,
    check_weakest_link,
    crossing_size_reference,
    weakest_link_reference,
)
from emergence_lib.fit import fit_logistic
from emergence_lib.plotting import frame_slider, plot_curves, plot_family, plot_logistic_fit
from emergence_lib.references import CHINCHILLA, WEI_EMERGENCE, chinchilla_loss


def test_chinchilla_loss_matches_published_fit():
    # Chinchilla itself: 70B parameters, 1.4T tokens -> about 1.94 nats
    assert chinchilla_loss(70e9, 1.4e12)[0] == pytest.approx(1.94, abs=0.02)
    assert CHINCHILLA["cite"] == "hoffmann2022chinchilla"
    assert all(row["params"] > 1e9 for row in WEI_EMERGENCE)
    with pytest.raises(ValueError, match="n_params must be > 0"):
        chinchilla_loss(0, 1e9)


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
