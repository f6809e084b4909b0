"""The committed FULL results of chapter 3 are reachable as package data and still match the code:
re-running the first FULL steps reproduces the histories stored in the artefact."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from emergence_lib.recipes import grokking as recipe

CHECK_STEPS = 200   # re-run this many FULL steps (two logged rows after step 0)


@pytest.fixture(scope="module")
def full():
    results = recipe.load_full_results()
    assert results is not None, (f"emergence_lib/results/{recipe.FULL_RESULTS_FILE} is missing: "
                                 f"run `make full-results CHAPTERS=03` and commit it")
    return results


def test_the_artefact_says_where_and_how_it_was_made(full):
    for key in ("commit", "machine", "matmul_ceiling_gflops", "date", "seed", "setup",
                "history", "fourier", "report", "fit", "verdict", "llc", "steps_done",
                "complete"):
        assert key in full, key
    assert full["mode"] == "FULL" and full["setup"]["name"] == "FULL"
    assert full["setup"]["p"] == recipe.FULL.p and full["setup"]["steps"] == recipe.FULL.steps
    steps = full["history"]["step"]
    assert steps[0] == 0 and steps == sorted(steps)
    assert full["complete"] == (full["steps_done"] == recipe.FULL.steps == steps[-1])
    assert all(len(v) == len(steps) for v in full["history"].values())


def test_the_artefact_is_found_from_any_working_directory(tmp_path):
    code = ("from emergence_lib.recipes.grokking import load_full_results; "
            "print(load_full_results()['setup']['name'])")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "FULL"


def test_the_first_full_steps_match_the_artefact(full):
    """Same seed, same code: the logged rows up to CHECK_STEPS agree with the stored ones (up to
    float rounding from another CPU). Runs with the artefact's thread count: the memorizing
    phase amplifies a different reduction order (2 threads vs 1) to 0.1% in the test loss by
    step 100."""
    previous = torch.get_num_threads()
    torch.set_num_threads(int(full["machine"]["torch_threads"]))
    try:
        run = recipe.train_grokking(recipe.FULL, full["seed"], steps=CHECK_STEPS,
                                    log_every=recipe.FULL.log_every, snapshots=False,
                                    progress=False)
    finally:
        torch.set_num_threads(previous)
    stored = full["history"]
    for i, step in enumerate(run.steps):
        j = stored["step"].index(int(step))
        for name in ("train_loss", "test_loss", "train_acc", "test_acc", "weight_norm"):
            assert run[name][i] == pytest.approx(stored[name][j], rel=1e-3, abs=1e-4), (
                f"{name} at step {step}: code gives {run[name][i]}, the artefact "
                f"{stored[name][j]}; re-run `make full-results CHAPTERS=03`")


def test_the_stored_verdict_is_the_one_its_numbers_give(full):
    """The artefact's sentence is recomputed from its own numbers by today's criterion."""
    from emergence_lib.checks.ch03 import grokking_verdict

    rep, fit = full["report"], full["fit"]
    n_key = len(full["fourier"]["key_frequencies"])
    steps = np.asarray(full["fourier"]["step"], dtype=float)
    assert steps.tolist() == [float(s) for s in full["history"]["step"]]
    v = grokking_verdict(
        memorized_step=rep["memorized_step"], grokked_step=rep["grokked_step"],
        test_acc_at_memorization=rep["test_acc_at_memorization"],
        restricted_below_start_step=rep["restricted_below_start_step"],
        test_jump_onset=rep["test_jump_onset"], restricted_lead=rep["leads"]["restricted loss"],
        n_key=n_key, n_frequencies=(recipe.FULL.p - 1) // 2, key_drop=rep["key_drop"],
        random_drops=[rep["random_drop_median"]], logistic_r2=fit["r2"],
        linear_r2=fit["linear_r2"])
    assert v.sentence == full["verdict"]["sentence"]
    assert json.dumps(full)   # plain JSON throughout
