"""Chapter 9, part 1's recipe: the shortcut baselines, the exact padding trim, one tiny sweep
point (JSON, seeded), the sweep through sweep.run, the fit's verdict both ways, bad inputs."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from emergence_lib.recipes import conditionals as rc

TINY = replace(rc.FAST, steps=4, log_every=2, n_train=256, n_val=32, n_test=64, n_gate=16,
               contexts=(72, 96), heads=(3,), seeds=(0,))


def test_recipe_numbers_are_the_recipe():
    r = rc.RECIPE
    assert (r.n_layers, r.n_heads, r.batch_size, r.lr, r.weight_decay) == (3, 3, 32, 3e-4, 1e-2)
    assert (r.clip_grad_norm, r.autocast_after, r.steps, r.patience, r.log_every) == (
        1.0, 400, 1000, 10, 200)
    assert (r.n_ctx, r.min_depth, r.max_depth, r.data_seed) == (128, 3, 5, 42)
    assert min(r.contexts) == 80 and max(r.contexts) == 160 and r.heads == (3, 4, 5, 6)
    assert rc.FULL.steps == 1000 and rc.FULL.contexts == r.contexts and rc.FULL.heads == r.heads
    assert not r.trim_padding and r.seeds == (0, 1, 2)   # RECIPE: to the letter
    assert all(r.d_model % h == 0 for h in r.heads)


def test_shortcut_baselines_are_what_the_design_gives():
    b = rc.shortcut_baselines(rc.FAST)
    assert set(b) == {"most frequent label", "fixed leaf", "random leaf of the program",
                      "outer condition alone", "chance"}
    # answering leaf uniform over d + 1 leaves, d in {3, 4, 5}: outer alone ~ mean 2 / (d + 1)
    assert b["outer condition alone"] == pytest.approx(np.mean([2 / 4, 2 / 5, 2 / 6]), abs=0.06)
    assert b["fixed leaf"] == pytest.approx(np.mean([1 / 4, 1 / 5, 1 / 6]), abs=0.05)
    assert b["random leaf of the program"] == pytest.approx(np.mean([1 / 4, 1 / 5, 1 / 6]),
                                                            abs=0.02)
    assert b["most frequent label"] < 0.16 and b["chance"] == 0.1
    assert rc.best_shortcut(b)[0] == "outer condition alone"


def test_trimming_the_padding_is_exact():
    data = rc.programs(TINY, 128)["train"].subset(slice(0, 16))
    model = rc.conditionals_model(TINY, 128, 3)
    batch = (data.tokens, data.query_pos, data.answers)
    full, trimmed = rc.readout_loss(model, batch), rc.readout_loss(model, batch, trim=True)
    assert float(full.detach()) == pytest.approx(float(trimmed.detach()), abs=1e-5)
    assert int(data.query_pos.max()) + 1 < 128


@pytest.fixture(scope="module")
def point():
    return rc.train_point(rc.point_config(TINY, 80, 3, 0))


def test_train_point_is_json_seeded_and_complete(point):
    json.dumps(point, allow_nan=False)
    again = rc.train_point(rc.point_config(TINY, 80, 3, 0))
    assert {k: v for k, v in point.items() if k != "cpu_s"} == {
        k: v for k, v in again.items() if k != "cpu_s"}
    assert point["steps_run"] == 4 and point["stop_reason"] == "steps"
    h = point["history"]
    assert h["step"] == [0, 2, 4]
    assert len(h["accuracy"]) == len(h["val_loss"]) == len(h["G_ratio"]) == 3
    assert 0 <= point["accuracy"] <= 1 and point["n_test"] == 64
    assert set(point["accuracy_by_depth"]) == {"3", "4", "5"}
    assert len(point["ablation_accuracy_cost"]) == 9 and len(point["gate_head"]) == 2
    assert point["log2_C_sweep"] > point["log2_C_i_mean"] > 0
    by_depth = point["log2_C_i_by_depth"]
    assert by_depth["3"] < by_depth["4"] < by_depth["5"] < by_depth["3"] + 0.1
    assert all(g > 0 for g in h["G_ratio"])
    assert set(point["agreement"]) == {"outer condition alone", "first leaf", "last leaf",
                                       "any leaf"}


def test_shortcut_agreement_recognises_each_shortcut():
    test = rc.programs(TINY)["test"]
    assert rc.shortcut_agreement(test.outer_guess, test)["outer condition alone"] == 1.0
    first = rc.shortcut_agreement(test.reading[:, 0], test)
    assert first["first leaf"] == 1.0 and first["any leaf"] == 1.0
    assert rc.shortcut_agreement(test.answers, test)["any leaf"] == 1.0
    assert rc.shortcut_agreement(torch.zeros_like(test.answers), test)["any leaf"] == 0.0


def test_context_and_heads_raise_C_sweep(point):
    wider = rc.train_point(rc.point_config(TINY, 96, 3, 0))
    assert wider["log2_C_sweep"] > point["log2_C_sweep"]
    assert wider["log2_P"] > point["log2_P"]               # only the position table grows


def test_run_sweep_goes_through_sweep_run_and_caches(tmp_path):
    first = rc.run_sweep(TINY, "serial", cache_dir=tmp_path, progress=False)
    assert [(r["context"], r["heads"]) for r in first] == [(72, 3), (96, 3)]
    assert len(list(tmp_path.glob("*.pt"))) == 2
    again = rc.run_sweep(TINY, "serial", cache_dir=tmp_path, progress=False)
    assert [r["cpu_s"] for r in again] == [r["cpu_s"] for r in first]
    table = rc.sweep_table(first)
    assert table["context"].tolist() == [72, 96] and table["G_ratio"].shape == (2,)
    with pytest.raises(TypeError, match="non-empty list of run_sweep"):
        rc.sweep_table({})


def _results(acc, log2_c, n=512):
    return [{"accuracy": a, "log2_C_sweep": c, "correct": int(round(a * n)), "n_test": n,
             "context": 80, "heads": 3} for a, c in zip(acc, log2_c, strict=True)]


BASELINES = {"most frequent label": 0.1, "fixed leaf": 0.2, "outer condition alone": 0.41,
             "chance": 0.1}


def test_fit_sweep_says_noise_when_nothing_learns():
    rng = np.random.default_rng(0)
    log2_c = np.linspace(28, 30, 12)
    out = rc.fit_sweep(_results(0.1 + 0.01 * rng.standard_normal(12), log2_c), BASELINES)
    assert not out["learned"] and out["n_learned"] == 0
    assert out["sentence"].startswith("No configuration learned above the best shortcut "
                                      "(outer condition alone, 41%)")
    # noise can still look like a threshold: the sentence says which the numbers show
    if out["loo_r2"] <= 0 or not out["threshold_inside_range"]:
        assert out["sentence"].endswith("a fit to noise.")
    else:
        assert out["sentence"].endswith("variation at the floor, not learning.")
    flat = rc.fit_sweep(_results([0.0625] * 4, [28.1, 28.4, 29.1, 29.4]), BASELINES)
    assert not flat["learned"] and flat["fixed"] == ("floor", "ceil")
    assert "the same accuracy" in flat["sentence"] and flat["sentence"].endswith("noise.")
    few = rc.fit_sweep(_results([0.08, 0.1, 0.07, 0.09], [28.1, 28.4, 29.1, 29.4]), BASELINES)
    assert few["loo_r2"] <= 0 and few["sentence"].endswith("a fit to noise.")
    assert "span 3.0 points, no more than the width of one accuracy's 95% interval" in (
        few["sentence"])
    apart = rc.fit_sweep(_results([0.02, 0.1, 0.2, 0.3], [28.1, 28.4, 29.1, 29.4]), BASELINES)
    assert apart["accuracy_spread"] > apart["interval_width"]
    assert "span 28.0 points, more than the width" in apart["sentence"]


def test_fit_sweep_finds_a_real_threshold():
    log2_c = np.linspace(26, 32, 16)
    acc = 0.1 + 0.9 / (1 + np.exp(-3 * (log2_c - 29)))
    out = rc.fit_sweep(_results(acc, log2_c), BASELINES)
    assert out["learned"] and out["n_learned"] >= 6 and out["fixed"] == ("floor", "ceil")
    assert out["loo_r2"] > 0.9 and out["threshold_inside_range"]
    assert out["threshold_log2_C"] == pytest.approx(29, abs=0.1)
    assert "configurations beat the best shortcut" in out["sentence"]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="heads must divide d_model=60"):
        rc.point_config(rc.FAST, 80, 7)
    with pytest.raises(ValueError, match="context must be >= 71"):
        rc.point_config(rc.FAST, 64, 3)
    with pytest.raises(TypeError, match="setup must be a ConditionalsRecipe"):
        rc.shortcut_baselines({"steps": 3})
    with pytest.raises(TypeError, match="config must be a dict from point_config"):
        rc.train_point({"context": 80})
    with pytest.raises(ValueError, match="unknown fields"):
        rc.train_point({**rc.point_config(TINY, 80, 3), "recipe": {"wings": 2}})
    with pytest.raises(TypeError, match="results must be the non-empty list"):
        rc.fit_sweep([], BASELINES)
    with pytest.raises(ValueError, match="must hold 'chance'"):
        rc.fit_sweep(_results([0.1] * 4, [1, 2, 3, 4]), {"fixed leaf": 0.2})


def test_gate_ratio_is_one_for_a_uniform_gate():
    data = rc.programs(TINY, 80)["gate"]
    model = rc.conditionals_model(TINY, 80, 3)
    for block in model.blocks:
        torch.nn.init.zeros_(block.attn.W_gate)
    assert rc.gate_ratio(model, data, (1, 2)) == pytest.approx(1.0)


def test_the_recipes_patience_cannot_fire():
    assert not rc.RECIPE.patience_can_fire and not rc.FAST.patience_can_fire
    assert replace(rc.RECIPE, log_every=50).patience_can_fire


def test_benchmark_step_measures_both_precisions():
    fp32 = rc.benchmark_step(TINY, 80, 3, steps=1)
    bf16 = rc.benchmark_step(TINY, 80, 3, reduced=True, steps=1)
    assert fp32 > 0 and bf16 > 0


def test_point_capacity_is_the_logged_log2_C_sweep():
    from emergence_lib.capacity import transformer_capacity
    from emergence_lib.recipes import conditionals as rc
    model = rc.conditionals_model(rc.RECIPE, 80, 6)
    want = transformer_capacity(model, n_ctx=80)["log2_C"]
    assert rc.point_capacity(rc.RECIPE, 80, 6) == want
    assert rc.point_capacity(rc.RECIPE, 160, 6) > want      # padding raises C (weakness 3)
