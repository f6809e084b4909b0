"""Chapter 5's n-scaling sweep through sweep.run: the same numbers as training each point
directly, bit-identical on a 2-worker Dask LocalCluster, results in config order, and a rerun in
the same cache folder trains nothing."""

import numpy as np
import pytest
import torch

from emergence_lib.recipes import parity as recipe

# A tiny sweep: two n at k = 2 and one at k = 3 (costs differ, so the costliest goes first).
CONFIGS = [recipe.sweep_config(n, k, (0, 1), steps=steps, log_every=10, width=16, lr=0.2,
                               batch_size=16, test_size=200)
           for k, n, steps in [(2, 8, 40), (2, 12, 60), (3, 10, 80)]]


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread in this process too, as in each worker: equal thread counts give
    bit-identical floats."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def assert_same_runs(got: list, want: list) -> None:
    """Bit-identical ParityRuns: logged steps, accuracy, hinge loss and every weight."""
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert (a.k, a.seeds, a.task.ns) == (b.k, b.seeds, b.task.ns)
        assert np.array_equal(a.steps, b.steps) and np.array_equal(a.accuracy, b.accuracy)
        assert np.array_equal(a.test_loss, b.test_loss)
        for (name, x), (_, y) in zip(a.result.model.state_dict().items(),
                                     b.result.model.state_dict().items(), strict=True):
            assert torch.equal(x, y), name


def direct(config: dict) -> recipe.ParityRun:
    """The point trained as the chapter did before the sweep: train_parity_seeds, no sweep."""
    return recipe.train_parity_seeds(config["n"], config["k"], config["seeds"],
                                     width=config["width"], steps=config["steps"],
                                     lr=config["lr"], batch_size=config["batch_size"],
                                     log_every=config["log_every"],
                                     test_size=config["test_size"], progress=False)


def test_serial_sweep_equals_direct_training_in_config_order_and_a_rerun_trains_nothing(
        tmp_path, monkeypatch):
    runs = recipe.run_sweep_points(CONFIGS, cache_dir=tmp_path, backend="serial",
                                   progress=False)
    assert [(r.k, r.task.ns[0]) for r in runs] == [(2, 8), (2, 12), (3, 10)]
    assert_same_runs(runs, [direct(c) for c in CONFIGS])
    assert len(list((tmp_path / "parity").glob("*.pt"))) == len(CONFIGS)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached point was trained again")

    monkeypatch.setattr(recipe, "train_parity_seeds", no_training)
    again = recipe.run_sweep_points(CONFIGS[::-1], cache_dir=tmp_path, backend="serial",
                                    progress=False)
    assert_same_runs(again, runs[::-1])


def test_dask_local_cluster_gives_bit_identical_results(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="dask's distributed is not installed: pip install "
                              "'emergence-lib[cluster]' to run the cluster test")
    serial = recipe.run_sweep_points(CONFIGS, backend="serial", progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with distributed.Client(cluster.scheduler_address) as client:
            cluster_runs = recipe.run_sweep_points(CONFIGS, cache_dir=tmp_path, backend="dask",
                                                   progress=False)
            assert len(client.scheduler_info()["workers"]) == 2
    assert_same_runs(cluster_runs, serial)
    # the cluster's cache is the same cache: a serial rerun loads it
    assert_same_runs(recipe.run_sweep_points(CONFIGS, cache_dir=tmp_path, backend="serial",
                                             progress=False), serial)


def test_sweep_runs_keys_and_the_global_rng_is_left_alone(monkeypatch, tmp_path):
    small = {"sweep_seeds": (0,), "sweep": {(2, 8): (20, 10), (3, 10): (30, 10)},
             "frontier": (12, 3, (5,), 20, 10), "main": recipe.FAST_MAIN}
    monkeypatch.setattr(recipe, "FAST", small)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    runs = recipe.sweep_runs(fast=True, progress=False, cache_dir=tmp_path, backend="serial")
    front = recipe.frontier_run(fast=True, progress=False, cache_dir=tmp_path,
                                backend="serial")
    assert torch.equal(torch.rand(3), expected)     # the sweep drew nothing from it
    assert list(runs) == [(2, 8), (3, 10)] and runs[(3, 10)].accuracy.shape == (1, 4)
    assert (front.task.ns, front.seeds, front.k) == ((12,), (5,), 3)
    assert len(list((tmp_path / "parity").glob("*.pt"))) == 3


@pytest.mark.parametrize("kwargs, match", [
    (dict(seeds=()), "seeds must hold at least one seed"),
    (dict(seeds=(0, -1)), r"seeds\[1\] must be >= 0"),
    (dict(n=0), "n must be >= 1"),
    (dict(steps=0), "steps must be >= 1"),
    (dict(log_every=0), "log_every must be >= 1"),
    (dict(lr=-0.1), "lr must be >= 0"),
    (dict(test_size=0), "test_size must be >= 1"),
])
def test_sweep_config_bad_input(kwargs, match):
    args = {"n": 8, "k": 2, "seeds": (0,), "steps": 10, "log_every": 5, **kwargs}
    with pytest.raises(ValueError, match=match):
        recipe.sweep_config(**args)
