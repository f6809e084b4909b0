"""sweep.run: results in config order on every backend (bit-identical), cached on disk, resumed
after a kill, failures reported with config and traceback and retried alone, and unreadable
cache entries refused with a clear error."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import cloudpickle
import numpy as np
import pytest
import torch
import torch.nn as nn

from emergence_lib import sweep
from emergence_lib.train import CheckpointError, TrainConfig, train
from emergence_lib.utils import seeded

# the workers of loky and dask cannot import this test file: send its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

CALLS: list[dict] = []    # configs trained in this process (the serial backend)
FAIL: set[int] = set()    # seeds whose training raises


def tiny_training(config: dict) -> dict:
    """A seeded MLP regression: everything it returns depends on the config alone."""
    CALLS.append(config)
    if config["seed"] in FAIL:
        raise ValueError(f"seed {config['seed']} is set to fail")
    with seeded(config["seed"]):
        model = nn.Sequential(nn.Linear(4, config["width"]), nn.ReLU(),
                              nn.Linear(config["width"], 1))
    gen = torch.Generator().manual_seed(config["seed"])
    x = torch.randn(64, 4, generator=gen)
    y = x.sum(1, keepdim=True)
    result = train(model, lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), (x, y),
                   TrainConfig(steps=config["steps"], lr=1e-2, batch_size=16,
                               seed=config["seed"]),
                   log_steps=[0, config["steps"]], progress=False)
    return {"loss": result.history["loss"],           # a numpy array
            "final": np.float64(result.history.final("loss")),
            "weights": [p.detach().clone() for p in model.parameters()],
            "threads": torch.get_num_threads(), "config": config}


CONFIGS = [{"width": w, "seed": s, "steps": 30} for w in (8, 16) for s in (0, 1, 2)]


def same(a, b) -> bool:
    """Bit-identical results (arrays and tensors compared exactly)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, torch.Tensor):
        return torch.equal(a, b)
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


def without_threads(results):
    return [{k: v for k, v in r.items() if k != "threads"} for r in results]


@pytest.fixture(autouse=True)
def fresh_state():
    CALLS.clear()
    FAIL.clear()


def test_serial_results_in_order_cached_and_not_rerun(tmp_path):
    direct = [tiny_training(c) for c in CONFIGS]
    CALLS.clear()
    first = sweep.run(tiny_training, CONFIGS, backend="serial", cache_dir=tmp_path,
                      progress=False)
    assert len(CALLS) == len(CONFIGS) and same(first, direct)
    assert isinstance(first[0]["final"], np.float64) and isinstance(first[0]["loss"], np.ndarray)
    assert len(list(tmp_path.glob("*.pt"))) == len(CONFIGS)
    CALLS.clear()
    again = sweep.run(tiny_training, CONFIGS[::-1] + CONFIGS[:1], backend="serial",
                      cache_dir=tmp_path, progress=False)
    assert CALLS == [] and same(again, first[::-1] + first[:1])


def test_a_failing_config_is_reported_and_retried_alone(tmp_path):
    FAIL.add(1)
    with pytest.raises(sweep.SweepError) as info:
        sweep.run(tiny_training, CONFIGS, backend="serial", cache_dir=tmp_path, progress=False)
    err = info.value
    assert [f.index for f in err.failures] == [1, 4]   # seed 1 at both widths
    assert err.failures[0].config == CONFIGS[1]
    assert "ValueError: seed 1 is set to fail" in err.failures[0].traceback
    assert json.dumps(CONFIGS[4], sort_keys=True) in str(err)
    assert "retries only the failed" in str(err)
    assert err.results[1] is None and same(err.results[0], tiny_training(CONFIGS[0]))
    assert len(list(tmp_path.glob("*.pt"))) == 4
    FAIL.clear()
    CALLS.clear()
    results = sweep.run(tiny_training, CONFIGS, backend="serial", cache_dir=tmp_path,
                        progress=False)
    assert CALLS == [CONFIGS[1], CONFIGS[4]] and all(r is not None for r in results)


KILLED_SCRIPT = """
import os, pickle, signal, sys
from emergence_lib import sweep
sys.path.insert(0, {tests!r})
import test_sweep

log, marker = {log!r}, {marker!r}

def fn(config):
    with open(log, "a") as f:
        f.write(f"{{config['width']}},{{config['seed']}}\\n")
    if config == test_sweep.CONFIGS[3] and not os.path.exists(marker):
        open(marker, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)   # killed half-way, as by the OOM killer or kill -9
    return test_sweep.tiny_training(config)

results = sweep.run(fn, test_sweep.CONFIGS, backend="serial", cache_dir=sys.argv[1],
                    progress=False)
with open(sys.argv[2], "wb") as f:
    pickle.dump(test_sweep.without_threads(results), f)
"""


def test_killed_sweep_resumes_without_retraining_and_gives_identical_results(tmp_path):
    script = tmp_path / "sweep_script.py"
    log = tmp_path / "calls.txt"
    script.write_text(KILLED_SCRIPT.format(tests=os.path.dirname(__file__), log=str(log),
                                           marker=str(tmp_path / "killed")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}

    def launch(cache, out):
        return subprocess.run([sys.executable, str(script), str(cache), str(out)],
                              capture_output=True, text=True, env=env, timeout=300)

    killed = launch(tmp_path / "cache", tmp_path / "a.pkl")
    assert killed.returncode == -9, killed.stderr
    assert log.read_text().split() == ["8,0", "8,1", "8,2", "16,0"]
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 3
    resumed = launch(tmp_path / "cache", tmp_path / "a.pkl")
    assert resumed.returncode == 0, resumed.stderr
    # only the unfinished configs were trained again
    assert log.read_text().split()[4:] == ["16,0", "16,1", "16,2"]
    log.write_text("")
    fresh = launch(tmp_path / "fresh_cache", tmp_path / "b.pkl")
    assert fresh.returncode == 0, fresh.stderr
    # our own files, written just now by this test
    assert same(pickle.loads((tmp_path / "a.pkl").read_bytes()),
                pickle.loads((tmp_path / "b.pkl").read_bytes()))


def test_loky_gives_bit_identical_results_with_one_thread_per_worker(tmp_path):
    serial = sweep.run(tiny_training, CONFIGS, backend="serial", threads=1, progress=False)
    loky = sweep.run(tiny_training, CONFIGS, backend="loky", n_jobs=2, progress=False,
                     cache_dir=tmp_path)
    assert [r["threads"] for r in loky] == [1] * len(CONFIGS)
    assert same(loky, serial) and CALLS == CONFIGS    # CALLS: only the serial run's
    FAIL.add(2)    # the failure travels back from the worker with its traceback
    with pytest.raises(sweep.SweepError, match="seed 2 is set to fail"):
        sweep.run(tiny_training, CONFIGS + [{"width": 4, "seed": 2, "steps": 5}],
                  backend="loky", n_jobs=2, progress=False, cache_dir=tmp_path)


def test_dask_local_cluster_gives_bit_identical_results(tmp_path):
    distributed = pytest.importorskip(
        "distributed", reason="dask's distributed is not installed: pip install "
                              "'emergence-lib[cluster]' to run the cluster test")
    serial = sweep.run(tiny_training, CONFIGS, backend="serial", threads=1, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        results = sweep.run(tiny_training, CONFIGS, backend="dask",
                            address=cluster.scheduler_address, cache_dir=tmp_path,
                            progress=False)
    assert same(results, serial) and [r["threads"] for r in results] == [1] * len(CONFIGS)
    CALLS.clear()
    again = sweep.run(tiny_training, CONFIGS, backend="serial", cache_dir=tmp_path,
                      progress=False)
    assert CALLS == [] and same(again, serial)   # the dask run's cache is the same cache


def test_unreadable_cache_entries_are_refused_clearly(tmp_path):
    sweep.run(tiny_training, CONFIGS[:2], backend="serial", cache_dir=tmp_path, progress=False)
    first, second = (tmp_path / f"{sweep.config_key(tiny_training, c)}.pt" for c in CONFIGS[:2])
    good = first.read_bytes()

    def refused(match):
        with pytest.raises(CheckpointError, match=match) as info:
            sweep.run(tiny_training, CONFIGS[:2], backend="serial", cache_dir=tmp_path,
                      progress=False)
        message = str(info.value)
        assert str(first) in message and "rm '" in message and "another cache_dir" in message
        assert "weights_only=False" not in message and "set to False" not in message
        assert CALLS == []     # refused before anything was trained

    CALLS.clear()
    first.write_bytes(good[: len(good) // 3])
    refused("truncated or corrupt")
    first.write_bytes(os.urandom(2000))
    refused("not a PyTorch file this library wrote")
    first.write_bytes(second.read_bytes())          # the entry of another config
    refused("holds the result of .* on config .*\"seed\":1.*, not of")
    torch.save({"weights": torch.ones(2)}, first)   # some other PyTorch file
    refused("not a sweep result")
    first.write_bytes(good)
    assert len(sweep.run(tiny_training, CONFIGS[:2], backend="serial", cache_dir=tmp_path,
                         progress=False)) == 2 and CALLS == []


def unstorable(config):
    return nn.Linear(2, 2)


def test_a_result_that_cannot_be_stored_safely_is_a_failure(tmp_path):
    with pytest.raises(sweep.SweepError, match="cannot be stored and loaded safely"):
        sweep.run(unstorable, [{"a": 1}], backend="serial", cache_dir=tmp_path, progress=False)
    assert not list(tmp_path.glob("*.pt"))


def test_backend_from_the_environment(monkeypatch):
    monkeypatch.setenv(sweep.BACKEND_ENV, "serial")
    assert same(sweep.run(tiny_training, CONFIGS[:1], progress=False),
                [tiny_training(CONFIGS[0])])
    monkeypatch.setenv(sweep.BACKEND_ENV, "mpi")
    with pytest.raises(ValueError, match="EMERGENCE_SWEEP_BACKEND must be one of"):
        sweep.run(tiny_training, CONFIGS[:1], progress=False)
    monkeypatch.delenv(sweep.BACKEND_ENV)
    monkeypatch.delenv(sweep.SCHEDULER_ENV, raising=False)
    sweep.run(tiny_training, CONFIGS[:1], progress=False)   # default: serial, in this process
    assert CALLS[-1] == CONFIGS[0]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(fn=42), TypeError, "fn must be callable"),
    (dict(configs={"width": 8}), TypeError, "configs must be a list of dicts"),
    (dict(configs=[{"width": 8}, [8]]), TypeError, r"configs\[1\] must be a dict"),
    (dict(configs=[{"width": {8}}]), TypeError, r"configs\[0\] must hold JSON values"),
    (dict(configs=[{"lr": float("nan")}]), TypeError, "finite floats"),
    (dict(backend="threads"), ValueError, "backend must be one of"),
    (dict(backend="loky", n_jobs=0), ValueError, "n_jobs must be >= 1"),
    (dict(threads=0), ValueError, "threads must be >= 1"),
    (dict(backend="loky", address="tcp://127.0.0.1:8786"), ValueError, "needs backend='dask'"),
])
def test_bad_inputs(kwargs, error, match):
    args = {"fn": tiny_training, "configs": CONFIGS[:1], "backend": "serial", **kwargs}
    with pytest.raises(error, match=match):
        sweep.run(progress=False, **args)


def test_dask_without_a_scheduler_says_how_to_get_one(monkeypatch):
    pytest.importorskip("distributed", reason="dask's distributed is not installed")
    monkeypatch.delenv(sweep.SCHEDULER_ENV, raising=False)
    with pytest.raises(ValueError, match="needs a Dask scheduler: pass address="):
        sweep.run(tiny_training, CONFIGS[:1], backend="dask", progress=False)


def test_cache_dir_that_is_a_file(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        sweep.run(tiny_training, CONFIGS[:1], backend="serial", cache_dir=tmp_path / "f",
                  progress=False)


def test_keys_depend_on_config_and_function_only():
    a = sweep.config_key(tiny_training, {"width": 8, "seed": 0})
    assert a == sweep.config_key(tiny_training, {"seed": 0, "width": 8})   # key order
    assert a != sweep.config_key(tiny_training, {"width": 8, "seed": 1})
    assert a != sweep.config_key(unstorable, {"width": 8, "seed": 0})
    assert len(a) == 20 and textwrap.dedent(a) == a


def test_an_edit_to_the_swept_functions_module_makes_a_new_cache_key(tmp_path, monkeypatch):
    """A result cached by old code is never served after the code that made it changed."""
    import importlib

    from emergence_lib import sweep as sweep_module

    module = tmp_path / "swept_module_for_key_test.py"
    module.write_text("def fn(config):\n    return config['x']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    imported = importlib.import_module("swept_module_for_key_test")
    before = sweep_module.config_key(imported.fn, {"x": 1})
    assert before == sweep_module.config_key(imported.fn, {"x": 1})
    module.write_text("def fn(config):\n    return config['x'] + 1\n")
    sweep_module._source_digest.cache_clear()
    assert sweep_module.config_key(imported.fn, {"x": 1}) != before
