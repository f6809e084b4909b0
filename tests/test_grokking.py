"""Chapter 3: the modular-addition task, the FAST model, Fourier progress measures, the recipe."""

import math

import numpy as np
import pytest
import torch

from emergence_lib.models.modular_mlp import SquaredEmbeddingMLP
from emergence_lib.progress.fourier import (
    covering_frequencies,
    embedding_spectrum,
    excluded_loss,
    fourier_basis,
    frequency_norms,
    key_frequencies,
    logit_frequency_shares,
    pair_logits,
    random_frequency_sets,
    restricted_logits,
    restricted_loss,
    restricted_losses,
)
from emergence_lib.recipes.grokking import (
    FAST,
    FULL,
    answer_logits,
    fourier_measures,
    grokking_model,
    grokking_report,
    phases,
    train_grokking,
    transition_fit,
)
from emergence_lib.tasks.modular import all_pairs, is_prime, modular_addition


def test_task_enumerates_every_pair_once_and_splits_by_seed():
    data = modular_addition(7, 0.5, seed=0)
    assert len(data.x_train) + len(data.x_test) == 49
    rows = torch.cat([data.train_idx, data.test_idx])
    assert sorted(rows.tolist()) == list(range(49))
    assert torch.equal(data.y_train, (data.x_train[:, 0] + data.x_train[:, 1]) % 7)
    assert (data.x_train[:, 2] == 7).all()            # the "=" token
    x, _ = all_pairs(7)
    assert torch.equal(x[data.train_idx], data.x_train)
    again = modular_addition(7, 0.5, seed=0)
    assert torch.equal(again.train_idx, data.train_idx)
    assert not torch.equal(modular_addition(7, 0.5, seed=1).train_idx, data.train_idx)


def test_task_bad_inputs():
    assert is_prime(113) and not is_prime(111) and not is_prime(1)
    with pytest.raises(ValueError, match="prime"):
        modular_addition(12)
    for frac in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="train_frac"):
            modular_addition(7, frac)
    with pytest.raises(TypeError, match="p must be an integer"):
        modular_addition(7.0)


def test_fast_model_shapes_and_errors():
    model = SquaredEmbeddingMLP(7, width=16)
    x, _ = all_pairs(7)
    assert model(x).shape == (49, 7)
    assert model(x[:, :2]).shape == (49, 7)
    with pytest.raises(ValueError, match="tokens"):
        model(x.float())
    with pytest.raises(ValueError, match="operands"):
        model(torch.tensor([[7, 0, 7]]))


def test_full_model_reads_out_at_the_last_position():
    model = grokking_model(FULL)
    x, _ = all_pairs(FULL.p)
    out = answer_logits(model, x[:5], FULL.p)
    assert out.shape == (5, FULL.p)
    full = model(x[:5])[:, -1, :FULL.p]
    assert torch.allclose(out, full, atol=1e-5)


def test_fourier_basis_is_orthonormal_and_finds_a_planted_frequency():
    basis = fourier_basis(11)
    assert torch.allclose(basis @ basis.T, torch.eye(11), atol=1e-5)
    x = torch.arange(11.0)
    planted = torch.stack([torch.cos(2 * math.pi * 3 * x / 11),
                           torch.sin(2 * math.pi * 3 * x / 11)], 1)   # (p, 2)
    norms = frequency_norms(planted)
    assert norms.argmax() == 2 and norms[2] > 100 * np.delete(norms, 2).max()
    assert key_frequencies(norms) == [3]
    assert key_frequencies([1.0, 5.0, 3.0], n=2) == [2, 3]


def _pure_frequency_logits(p, freqs, scale=8.0):
    r = torch.arange(p)
    m = (r[:, None, None] + r[None, :, None] - r[None, None, :]) % p
    return sum(scale * torch.cos(2 * math.pi * k * m / p) for k in freqs).float()


def test_restricted_loss_of_a_pure_key_frequency_model_equals_its_loss():
    p, freqs = 13, [2, 5]
    logits = _pure_frequency_logits(p, freqs)
    assert torch.allclose(restricted_logits(logits, freqs), logits, atol=1e-4)
    full = restricted_loss(logits, list(range(1, 7)))
    assert restricted_loss(logits, freqs) == pytest.approx(full, rel=1e-4)
    assert full < 0.01                                   # it computes (a + b) mod p
    assert excluded_loss(logits, freqs) == pytest.approx(math.log(p), rel=1e-4)
    shares = logit_frequency_shares(logits)
    assert sorted(key_frequencies(shares)) == freqs and shares.sum() == pytest.approx(1, 1e-4)


def test_restricted_loss_is_the_loss_of_the_restricted_logits_on_any_pairs():
    torch.manual_seed(0)
    p = 11
    logits = torch.randn(p, p, p) * 3
    freqs = [1, 4]
    labels = all_pairs(p)[1]
    direct = torch.nn.functional.cross_entropy(restricted_logits(logits, freqs).reshape(-1, p),
                                               labels)
    assert restricted_loss(logits, freqs) == pytest.approx(float(direct), rel=1e-5)
    rows = torch.tensor([0, 5, 17])
    subset = torch.nn.functional.cross_entropy(
        restricted_logits(logits, freqs).reshape(-1, p)[rows], labels[rows])
    assert restricted_loss(logits, freqs, rows) == pytest.approx(float(subset), rel=1e-5)
    many = restricted_losses(logits, [[1], [1, 4], [2, 3, 5]])
    assert many[1] == pytest.approx(restricted_loss(logits, freqs))
    assert many.shape == (3,)


def test_covering_frequencies_and_random_sets():
    assert covering_frequencies([0.1, 0.6, 0.3], coverage=0.9) == [2, 3]
    assert covering_frequencies([0.1, 0.6, 0.3], coverage=0.6) == [2]
    assert covering_frequencies([1.0, 1.0, 1.0, 1.0], coverage=0.9) == [1, 2, 3, 4]
    with pytest.raises(ValueError, match="coverage"):
        covering_frequencies([1.0], coverage=0.0)
    with pytest.raises(ValueError, match="shares"):
        covering_frequencies([0.0, 0.0])
    sets = random_frequency_sets(13, 3, draws=5, seed=1)
    assert len(sets) == 5 and all(len(set(s)) == 3 and 1 <= min(s) and max(s) <= 6
                                  for s in sets)
    assert sets == random_frequency_sets(13, 3, draws=5, seed=1)
    with pytest.raises(ValueError, match="size"):
        random_frequency_sets(13, 7, draws=1)


def test_phases_follow_the_report():
    a = train_grokking(FAST, seed=0, steps=60, log_every=20, progress=False)
    rep = grokking_report(a)
    spans = phases(rep, 60.0)
    assert spans[0][0] == "memorization" and spans[0][1] == 0.0
    assert [name for name, _, _ in spans] == ["memorization", "circuit formation"][:len(spans)]
    fit = transition_fit(a, n_boot=5)
    assert fit.floor == pytest.approx(1 / FAST.p) and fit.ceil == 1.0


def test_fourier_measures_accept_both_models():
    for model, p in ((SquaredEmbeddingMLP(7, 8), 7), (grokking_model(FULL), FULL.p)):
        assert pair_logits(model, p).shape == (p, p, p)
        assert embedding_spectrum(model, p).shape == ((p - 1) // 2,)


def test_fourier_bad_inputs():
    with pytest.raises(ValueError, match="odd"):
        fourier_basis(8)
    with pytest.raises(ValueError, match="shape"):
        restricted_logits(torch.zeros(5, 5, 4), [1])
    with pytest.raises(ValueError, match="frequency"):
        restricted_logits(torch.zeros(5, 5, 5), [3])
    with pytest.raises(ValueError, match="n must be"):
        key_frequencies([1.0, 2.0], n=3)
    with pytest.raises(TypeError, match="model"):
        embedding_spectrum("model", 5)


def test_short_fast_run_memorizes_and_is_reproducible():
    a = train_grokking(FAST, seed=0, steps=80, log_every=20, progress=False)
    b = train_grokking(FAST, seed=0, steps=80, log_every=20, progress=False)
    assert np.array_equal(a["test_loss"], b["test_loss"])
    assert a["train_acc"][-1] > 0.9 and a["test_acc"][-1] < 0.3   # memorized, not generalized
    measures = fourier_measures(a, freqs=[1, 2], draws=3, progress=False)
    assert measures["random_restricted"].shape == (3, len(a.steps))
    assert measures["random_sets"].shape == (3, 2)
    report = grokking_report(a, measures)
    assert report.memorized_step is not None and report.grokked_step is None
    assert report.key_frequencies == (1, 2) and len(report.random_drops) == 3
    assert "never" in report.summary() and "random sets" in report.summary()


def test_recipe_bad_inputs():
    with pytest.raises(TypeError, match="setup"):
        train_grokking("FAST")
    with pytest.raises(ValueError, match="train_frac"):
        train_grokking(FAST, train_frac=1.2, steps=1, progress=False)


def test_chapter_checkers_accept_the_reference_and_flag_mistakes():
    from emergence_lib.exercises.ch03 import (
        check_delay_exponent,
        check_top_frequencies,
        delay_exponent_reference,
        top_frequencies_reference,
    )

    assert check_top_frequencies(top_frequencies_reference).passed
    assert check_delay_exponent(delay_exponent_reference).passed
    wrong = check_top_frequencies(lambda spectrum, n: np.argsort(-spectrum)[:n])
    assert not wrong.passed and "1-based" in wrong.message

    def stub(spectrum, n):
        raise NotImplementedError

    result = check_top_frequencies(stub)
    assert not result.passed and not result.attempted
