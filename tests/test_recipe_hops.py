"""The chapter 9 part 2 recipe: one tiny train_point, the sweep's rows, G, the predictor
comparison, the precision steepness, G's lead and contrast, the cached trained model."""

import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from emergence_lib.recipes import hops as R

TINY = replace(R.FAST, steps=20, log_every=10, n_eval=64, bits=(2, 8), layers=(1,), heads=(1,),
               seeds=(0,))


def tiny_config(**changes) -> dict:
    return {**TINY.configs()[0], **changes}


def test_configs_cover_the_sweep_axes():
    configs = R.FAST.configs()
    assert len(configs) == len(R.FAST.layers) * len(R.FAST.heads) * len(R.FAST.seeds)
    assert {(c["layers"], c["heads"], c["seed"]) for c in configs} == {
        (L, H, s) for L in R.FAST.layers for H in R.FAST.heads for s in R.FAST.seeds}
    json.dumps(configs)


def test_one_tiny_train_point_is_plain_json_and_deterministic():
    result = R.train_point(tiny_config())
    json.dumps(result)
    assert (result["layers"], result["heads"], result["seed"]) == (1, 1, 0)
    assert result["steps_logged"] == [0, 10, 20]
    assert len(result["points"]) == TINY.hops
    for k, point in enumerate(result["points"], start=1):
        assert point["hops"] == k and 0 <= point["accuracy"] <= 1
        assert len(point["accuracy_history"]) == len(point["g_ratio_history"]) == 3
        assert len(point["g_last_history"]) == 3 and point["g_last"] > 0
        assert set(point["accuracy_bits"]) == {"2", "8"}
        assert point["margin"] == pytest.approx(1 - math.log2(k))
    assert set(result["log2_C_bits"]) == {"2", "8", "32"}
    assert result["log2_C_bits"]["8"] < result["log2_C"] < result["log2_C_bits"]["32"]
    assert result["chance"] == pytest.approx(0.2) and result["cpu_seconds"] > 0
    again = R.train_point(tiny_config())
    for key in ("points", "log2_C", "log2_P"):
        assert again[key] == result[key]


def test_the_mlp_control_and_the_factored_embedding():
    plain = R.hops_model(TINY, layers=1, heads=1, seed=0)
    assert plain.blocks[0].mlp is None
    task = TINY.task()
    pair = plain.W_E.weight[:task.n_pairs].detach().reshape(task.n_nodes, task.n_nodes, -1)
    # e(a -> b) = u_a + w_b: e(a -> b) - e(a -> c) does not depend on a
    assert torch.allclose(pair[0, 1] - pair[0, 2], pair[5, 1] - pair[5, 2], atol=1e-6)
    control = R.hops_model(replace(TINY, d_mlp=16), layers=1, heads=1, seed=0)
    assert control.blocks[0].mlp is not None
    result = R.train_point(tiny_config(d_mlp=16))
    assert len(result["points"]) == TINY.hops


def test_rows_and_run_sweep():
    rows = R.run_sweep(TINY, backend="serial", progress=False)
    assert len(rows) == TINY.hops
    assert [r["hops"] for r in rows] == [1, 2, 3]
    assert all("points" not in r and r["layers"] == 1 for r in rows)
    with pytest.raises(TypeError, match="setup must be a HopsSetup"):
        R.run_sweep({"steps": 3})


@pytest.mark.parametrize("changes, words", [
    ({"layers": 0}, "layers"), ({"heads": 3}, "heads"), ({"colour": 1}, "unknown keys"),
])
def test_bad_configs(changes, words):
    with pytest.raises((ValueError, TypeError), match=words):
        R.train_point(tiny_config(**changes))
    with pytest.raises(ValueError, match="missing"):
        R.train_point({"layers": 1})


@pytest.mark.parametrize("changes, error, words", [
    ({"hops": 4}, ValueError, "hops must be < n_nodes / 2"),
    ({"steps": 0}, ValueError, "steps must be >= 1"),
    ({"bits": (1, 8)}, ValueError, "bits"), ({"layers": []}, TypeError, "layers"),
    ({"lr": -1.0}, ValueError, "lr"), ({"d_mlp": 0}, ValueError, "d_mlp"),
])
def test_bad_setups(changes, error, words):
    with pytest.raises(error, match=words):
        replace(R.FAST, **changes)


def test_g_ratio_is_one_for_uniform_attention():
    model = R.hops_model(TINY, layers=2, heads=2, seed=0)
    with torch.no_grad():
        for block in model.blocks:
            block.attn.W_Q.zero_()             # every score 0: uniform attention
    tokens, _ = R.eval_set(TINY, 0)
    for focus in ("chain", "last"):
        assert R.readout_gate(model, TINY.task(), tokens, focus) == pytest.approx(
            [1.0] * TINY.hops)
    with pytest.raises(ValueError, match="focus"):
        R.readout_gate(model, TINY.task(), tokens, "first")


def fake_rows(accuracy, g=None, bits_accuracy=None, heads=(1, 2)) -> list[dict]:
    """Rows of a made-up sweep over layers x heads x hops x 2 seeds."""
    rng = np.random.default_rng(0)
    rows = []
    for L in (1, 2, 3):
        for H in heads:
            for k in (1, 2, 3):
                for s in (0, 1):
                    acc = accuracy(L, H, k) + rng.normal(0, 0.01)
                    log2_C = 18.0 + 1.5 * L + H
                    rows.append({
                        "layers": L, "heads": H, "hops": k, "seed": s, "accuracy": acc,
                        "log2_C": log2_C, "log2_P": 14.0 + 0.4 * L, "chance": 0.2,
                        "margin": R.margin(L, k), "margin_doubling": R.margin_doubling(L, k),
                        "log2_C_bits": {"8": log2_C - 1, "32": log2_C + 1},
                        "accuracy_bits": {"8": acc if bits_accuracy is None
                                          else bits_accuracy(L, H, k)},
                        "g_ratio": (g or (lambda L, H, k, s: 1.0))(L, H, k, s),
                        "g_last": 1.0, "g_last_history": [1.0] * 20,
                        "steps_logged": list(range(0, 200, 10)),
                        "accuracy_history": [0.2] * 20, "g_ratio_history": [1.0] * 20})
    return rows


def step_in_margin(L, H, k):
    """Solved where layers - log2 k >= 0.9 (the doubling margin cannot separate these)."""
    return 1.0 if R.margin(L, k) >= 0.9 else 0.2


def test_compare_predictors_finds_a_step_in_the_margin():
    out = R.compare_predictors(fake_rows(step_in_margin, heads=(1,)), n_boot=5, n_draws=2)
    table = out["predictors"]
    assert out["best"] == "margin" and set(table) == set(R.PREDICTORS)
    assert table["margin"]["loo_r2"] > 0.9 > table["layers"]["loo_r2"]
    assert 0.4 <= table["margin"]["threshold"] <= 1.0
    assert out["verdict"].startswith("The structural margin")
    assert f"{table['margin']['loo_r2']:.2f}" in out["verdict"]
    assert out["n_rows"] == 18 and out["n_configurations"] == 9
    assert out["predictors"]["margin"]["dozen_fits"] == 2


def test_compare_predictors_says_when_nothing_beats_the_mean():
    noise = np.random.default_rng(1)
    rows = fake_rows(lambda L, H, k: 0.2 + 0.05 * noise.random(), heads=(1,))
    out = R.compare_predictors(rows, n_boot=0, n_draws=1)
    best = out["predictors"][out["best"]]
    if best["loo_r2"] <= 0:
        assert out["verdict"].startswith("No predictor beats the mean")
    else:
        assert out["verdict"].startswith(best["label"][0].upper() + best["label"][1:])


def test_precision_steepness_both_ways():
    same = R.precision_steepness(fake_rows(step_in_margin), 8, predictor="margin", n_boot=20)
    assert same["ratio"] == pytest.approx(1.0)
    assert "not distinguishably" in same["sentence"]

    def blurred(L, H, k):                    # a gentler transition at 8 bits
        return 0.2 + 0.8 / (1 + math.exp(-1.5 * (R.margin(L, k) - 0.9)))

    flatter = R.precision_steepness(fake_rows(step_in_margin, bits_accuracy=blurred), 8,
                                    predictor="margin", n_boot=20)
    assert flatter["ratio"] < 1
    assert "less steep" in flatter["sentence"] or "not distinguishably" in flatter["sentence"]
    with pytest.raises(ValueError, match="bits=4 was not evaluated"):
        R.precision_steepness(fake_rows(step_in_margin), 4)
    with pytest.raises(ValueError, match="predictor"):
        R.precision_steepness(fake_rows(step_in_margin), 8, predictor="width")


def test_g_contrast_both_ways():
    solved_high = R.g_contrast(fake_rows(step_in_margin, g=lambda L, H, k, s: (
        4.0 if R.margin(L, k) >= 0.4 else 1.0) + 0.1 * s))
    assert solved_high["differs"] and "is larger than" in solved_high["sentence"]
    noisy = R.g_contrast(fake_rows(step_in_margin, g=lambda L, H, k, s: 1.0 + 3.0 * s))
    assert not noisy["differs"] and "is not larger than" in noisy["sentence"]
    none = R.g_contrast(fake_rows(lambda L, H, k: 0.2))
    assert "cannot be compared" in none["sentence"]
    last = R.g_contrast(fake_rows(step_in_margin), key="g_last")
    assert last["seed_spread"] == 0 and not last["differs"]
    with pytest.raises(ValueError, match="key"):
        R.g_contrast(fake_rows(step_in_margin), key="gate")


def test_g_lead_counts_steps_g_moves_first():
    row = fake_rows(step_in_margin)[0]
    steps = np.array(row["steps_logged"])
    row["g_ratio_history"] = np.where(steps >= 50, 5.0, 1.0).tolist()
    row["accuracy_history"] = np.where(steps >= 100, 1.0, 0.2).tolist()
    assert R.g_lead(row) == pytest.approx(50.0, abs=10.0)
    row["g_ratio_history"] = [1.0] * len(steps)
    assert R.g_lead(row) is None
    leads = R.g_leads([row])
    assert leads and leads[0]["lead"] is None


def test_bad_results():
    with pytest.raises(TypeError, match="non-empty list"):
        R.compare_predictors([])
    with pytest.raises(ValueError, match="lacks"):
        R.compare_predictors([{"layers": 1}])


def test_trained_model_is_cached(tmp_path):
    first = R.trained_model(TINY, layers=1, heads=1, hops=2, seed=0, cache_dir=tmp_path)
    assert list((tmp_path / R.MODELS).glob("ch09_hops_*.pt"))
    second = R.trained_model(TINY, layers=1, heads=1, hops=2, seed=0, cache_dir=tmp_path)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert not second.training
    with pytest.raises(ValueError, match="hops must be <= 3"):
        R.trained_model(TINY, hops=4)


def test_precision_curve():
    rows = fake_rows(step_in_margin)
    for r in rows:
        r["accuracy_bits"] = {"2": 0.2, "4": r["accuracy"] - 0.2, "8": r["accuracy"]}
    curve = R.precision_curve(rows)
    assert curve["bits"] == [2, 4, 8] and curve["fewest_bits"] == 8
    assert curve["solved_share"] == [0.0, 0.0, 1.0]
    assert "all stay solved with weights rounded to 8 bits or more" in curve["sentence"]
    for r in rows:
        r["accuracy_bits"]["8"] = 0.5
    assert R.precision_curve(rows)["fewest_bits"] is None
    assert R.precision_curve(fake_rows(lambda L, H, k: 0.2))["n_solved"] == 0


def test_run_sweep_keeps_the_models_trained_model_loads(tmp_path, monkeypatch):
    rows = R.run_sweep(TINY, cache_dir=tmp_path, progress=False)
    plain = R.run_sweep(TINY, progress=False)            # the same numbers without a cache
    for a, b in zip(rows, plain, strict=True):
        assert {**a, "cpu_seconds": 0} == {**b, "cpu_seconds": 0}
    path = R.checkpoint_path(TINY, 1, 1, 0, tmp_path / R.MODELS)
    assert path.exists()
    calls = []
    real = R.hops_loss

    def counting(task):
        loss = real(task)
        return lambda model, batch: calls.append(1) or loss(model, batch)

    monkeypatch.setattr(R, "hops_loss", counting)
    model = R.trained_model(TINY, layers=1, heads=1, hops=1, seed=0, cache_dir=tmp_path)
    assert calls == []                                   # loaded, not trained again
    tokens, answers = R.eval_set(TINY, 0)
    accuracy = R.accuracy_per_hop(model, TINY.task(), tokens, answers)
    assert accuracy == pytest.approx([r["accuracy"] for r in rows], abs=1e-6)
    with pytest.raises(TypeError, match="checkpoint_dir"):
        R.train_point(tiny_config(checkpoint_dir=3))


def test_compare_predictors_calls_a_near_tie_even():
    # accuracy set by the layers alone; with one head log2 P and log2 C are affine in the layers,
    # and the logistic does not care about an affine change of its predictor: an exact tie
    out = R.compare_predictors(fake_rows(lambda L, H, k: 1.0 if L >= 2 else 0.2, heads=(1,)),
                               n_boot=0, n_draws=1)
    loo = out["predictors"]
    assert loo["layers"]["loo_r2"] == pytest.approx(loo["log2_P"]["loo_r2"], abs=1e-3)
    assert "about equally well" in out["verdict"]
