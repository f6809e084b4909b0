"""Sweeps of many small trainings, on one core, all cores, or a Dask cluster, with the results
cached on disk so an interrupted sweep resumes where it stopped.

    results = sweep.run(train_one, [{"width": w, "seed": s} for w in widths for s in seeds],
                        backend="loky", cache_dir=".cache/sweep")

``fn(config) -> result`` runs one training, seeded by its config (a dict of JSON values). The
engine is joblib: ``"serial"`` (a plain loop in this process), ``"loky"`` (worker processes on
this machine) or ``"dask"`` (joblib's Dask backend: the same work on a ``distributed`` cluster,
``pip install emergence-lib[cluster]``). Without ``backend``, ``EMERGENCE_SWEEP_BACKEND`` chooses,
else ``"dask"`` when ``EMERGENCE_DASK_SCHEDULER`` holds a scheduler address, else ``"serial"``.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from ._validate import _show, check_choice, check_int
from .train import CheckpointError, load_file

BACKENDS = ("serial", "loky", "dask")
BACKEND_ENV = "EMERGENCE_SWEEP_BACKEND"
SCHEDULER_ENV = "EMERGENCE_DASK_SCHEDULER"
FORMAT = "emergence_lib.sweep/1"
_NPY = "__numpy_npy__"  # marks a numpy value stored as .npy bytes (loaded without pickle)


@dataclass
class Failure:
    """One config whose ``fn`` raised: its position, the config and the worker's traceback."""

    index: int
    config: dict
    traceback: str


class SweepError(RuntimeError):
    """Some configs failed; the others' results are in ``results`` (None where failed) and in
    the cache, so a rerun retries only ``failures``."""

    def __init__(self, message: str, results: list, failures: list[Failure]):
        super().__init__(message)
        self.results, self.failures = results, failures


# --- configs, keys and cache entries ---

def _canonical(index: int, config: object) -> str:
    """The config as canonical JSON (sorted keys): what its hash and its cache entry hold."""
    if not isinstance(config, Mapping) or not all(isinstance(k, str) for k in config):
        raise TypeError(f"configs[{index}] must be a dict with string keys, got {_show(config)}")
    try:
        return json.dumps(dict(config), sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise TypeError(f"configs[{index}] must hold JSON values only (numbers, strings, bools, "
                        f"None, lists, dicts; finite floats), got {_show(config)}: {err}") from None


def _fn_name(fn: Callable) -> str:
    """A stable name for ``fn``: module.qualname (with a partial's arguments)."""
    if isinstance(fn, functools.partial):
        return f"partial({_fn_name(fn.func)}, {fn.args!r}, {sorted(fn.keywords.items())!r})"
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


@functools.cache
def _source_digest(module_file: str | None) -> str:
    """SHA-256 of this library's sources and of the file defining the swept function: an edit
    to the code that produced a result makes its cache entry stale (a new key), never served."""
    digest = hashlib.sha256()
    files = sorted(Path(__file__).resolve().parent.rglob("*.py"))
    if module_file and Path(module_file).is_file():
        files.append(Path(module_file).resolve())
    for path in files:
        digest.update(str(path.name).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _module_file(fn: Callable) -> str | None:
    """The source file of the module that defines ``fn`` (of a partial's function), if any."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    module = sys.modules.get(getattr(fn, "__module__", "") or "")
    return getattr(module, "__file__", None)


def config_key(fn: Callable, config: Mapping) -> str:
    """The cache key of ``fn`` run on ``config`` with the current code: 20 hex digits of a
    SHA-256 of fn's name, the config and the sources of the library and of fn's module."""
    text = json.dumps({"fn": _fn_name(fn), "config": json.loads(_canonical(0, config)),
                       "code": _source_digest(_module_file(fn))},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _encode(value: Any) -> Any:
    """Numpy arrays and scalars -> .npy bytes, so that the entry loads with weights_only=True."""
    if isinstance(value, (np.ndarray, np.generic)):
        if np.asarray(value).dtype.hasobject:
            raise TypeError("a numpy array of Python objects cannot be stored safely")
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(value), allow_pickle=False)
        return {_NPY: buffer.getvalue(), "scalar": isinstance(value, np.generic)}
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_encode(v) for v in value)
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_NPY, "scalar"}:
            arr = np.load(io.BytesIO(value[_NPY]), allow_pickle=False)
            return arr[()] if value["scalar"] else arr
        return {k: _decode(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(_decode(v) for v in value)
    return value


def _pack(fn_name: str, config_json: str, result: Any) -> bytes:
    """The bytes of one cache entry, checked to load back safely; TypeError if they cannot."""
    entry = {"format": FORMAT, "fn": fn_name, "config": config_json, "result": _encode(result)}
    buffer = io.BytesIO()
    torch.save(entry, buffer)
    try:
        torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    except Exception:  # the result holds something a safe load refuses
        raise TypeError(f"fn returned a value that cannot be stored and loaded safely "
                        f"(weights_only=True): {_show(result)}; return tensors, numpy arrays, "
                        f"numbers, strings, lists, tuples or dicts of them") from None
    return buffer.getvalue()


def _unpack(path: Path, fn_name: str, config_json: str, entry: Any) -> Any:
    fix = f"delete it (rm '{path}') or pass another cache_dir"
    if not isinstance(entry, dict) or entry.get("format") != FORMAT or "result" not in entry:
        raise CheckpointError(f"sweep cache entry {path} is a PyTorch file but not a sweep "
                              f"result of this library: {fix}")
    if entry.get("config") != config_json or entry.get("fn") != fn_name:
        raise CheckpointError(f"sweep cache entry {path} holds the result of {entry.get('fn')} "
                              f"on config {entry.get('config')}, not of {fn_name} on "
                              f"{config_json} (a copied or renamed file?): {fix}")
    return _decode(entry["result"])


def _write(path: Path, blob: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(blob)
    tmp.replace(path)  # atomic: a kill mid-write never leaves a broken entry


# --- running ---

def _call(index: int, fn: Callable, config: dict, threads: int | None
          ) -> tuple[int, bool, Any]:
    """Run one config in a worker with ``threads`` torch threads: (index, ok, result or
    traceback text)."""
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return index, True, fn(config)
    except Exception:  # reported with its config; the other configs go on
        return index, False, traceback.format_exc()
    finally:
        torch.set_num_threads(before)


def _resolve_backend(backend: str | None) -> str:
    if backend is None:
        backend = os.environ.get(BACKEND_ENV) or (
            "dask" if os.environ.get(SCHEDULER_ENV) else "serial")
        return check_choice(BACKEND_ENV, backend, BACKENDS)
    return check_choice("backend", backend, BACKENDS)


def _dask_client(address: str | None):
    """(client, ours): a Client to ``address`` (or ``EMERGENCE_DASK_SCHEDULER``), else the
    default client already running in this process."""
    try:
        import distributed
    except ImportError:
        raise ImportError("backend='dask' needs the optional packages dask and distributed: "
                          "pip install 'emergence-lib[cluster]'") from None
    address = address or os.environ.get(SCHEDULER_ENV) or None
    if address:
        return distributed.Client(address, set_as_default=False), True
    try:
        return distributed.get_client(), False
    except ValueError:
        raise ValueError(f"backend='dask' needs a Dask scheduler: pass address='tcp://host:8786'"
                         f", set {SCHEDULER_ENV}, or start distributed.Client(...) in this "
                         f"process first") from None


def _parallel(backend: str, n_jobs: int | None, address: str | None, calls: list):
    """Results of ``calls`` (joblib delayed) in completion order."""
    import joblib

    if backend == "loky":
        jobs = joblib.Parallel(n_jobs=n_jobs or -1, backend="loky", batch_size=1,
                               return_as="generator_unordered")
        yield from jobs(calls)
        return
    client, ours = _dask_client(address)
    try:
        with joblib.parallel_config(backend="dask", client=client):
            jobs = joblib.Parallel(n_jobs=n_jobs or -1, batch_size=1,
                                   return_as="generator_unordered")
            yield from jobs(calls)
    finally:
        if ours:
            client.close()


def run(fn: Callable[[dict], Any], configs: Sequence[Mapping], backend: str | None = None,
        n_jobs: int | None = None, *, cache_dir: str | Path | None = None,
        threads: int | None = None, address: str | None = None,
        progress: bool = True) -> list:
    """``[fn(config) for config in configs]``, run by ``backend`` and returned in config order.

    fn: a picklable function of one config (a dict of JSON values) that seeds itself from it.
    n_jobs: workers for "loky" (default: every core) or "dask" (default: the whole cluster).
    cache_dir: keep each result in ``cache_dir/<key>.pt`` (key = hash of fn's name and the
    config); configs found there are not run again. threads: torch threads inside each run
    (default 1 for "loky" and "dask", unchanged for "serial"; equal counts give bit-identical
    results across backends). address: the Dask scheduler (default ``EMERGENCE_DASK_SCHEDULER``).
    Raises ``SweepError`` after the sweep if a config failed (the others are kept).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable config -> result, got {_show(fn)}")
    if isinstance(configs, (str, bytes, Mapping)) or not isinstance(configs, Sequence):
        raise TypeError(f"configs must be a list of dicts, got {_show(configs)}")
    backend = _resolve_backend(backend)
    if n_jobs is not None and n_jobs != -1:
        n_jobs = check_int("n_jobs", n_jobs, minimum=1)
    if threads is None:
        threads = None if backend == "serial" else 1
    else:
        threads = check_int("threads", threads, minimum=1)
    if address is not None and backend != "dask":
        raise ValueError(f"address is the Dask scheduler's; it needs backend='dask', "
                         f"got backend={backend!r}")
    name = _fn_name(fn)
    texts = [_canonical(i, c) for i, c in enumerate(configs)]
    keys = [config_key(fn, json.loads(t)) for t in texts]
    folder = None if cache_dir is None else Path(cache_dir)
    if folder is not None and folder.exists() and not folder.is_dir():
        raise ValueError(f"cache_dir {folder} is a file, not a folder: pass another cache_dir")

    results: list = [None] * len(texts)
    done: dict[str, Any] = {}
    for key, text in zip(keys, texts, strict=True):  # read (and check) every cached entry first
        path = folder / f"{key}.pt" if folder is not None else None
        if path is not None and key not in done and path.exists():
            entry = load_file(path, "sweep cache entry", other="cache_dir")
            done[key] = _unpack(path, name, text, entry)
    todo = {}
    for i, key in enumerate(keys):
        if key not in done and key not in todo:
            todo[key] = i
    failures: list[Failure] = []
    bar = tqdm(total=len(todo), desc=f"sweep ({backend})", disable=not progress, leave=False)

    def finish(index: int, ok: bool, value: Any) -> None:
        if ok:
            try:
                blob = _pack(name, texts[index], value)
            except TypeError as err:
                ok, value = False, f"{err}\n"
        if not ok:
            failures.append(Failure(index, json.loads(texts[index]), value))
        else:
            done[keys[index]] = _decode(torch.load(io.BytesIO(blob), weights_only=True)["result"])
            if folder is not None:
                _write(folder / f"{keys[index]}.pt", blob)
        bar.update(1)

    calls = [(i, fn, json.loads(texts[i]), threads) for i in todo.values()]
    try:
        if backend == "serial" or not calls:
            for call in calls:
                finish(*_call(*call))
        else:
            import joblib

            delayed = [joblib.delayed(_call)(*call) for call in calls]
            for outcome in _parallel(backend, n_jobs, address, delayed):
                finish(*outcome)
    finally:
        bar.close()
    for i, key in enumerate(keys):
        results[i] = done.get(key)
    if failures:
        failures.sort(key=lambda f: f.index)
        kept = f"kept in {folder}" if folder is not None else "not cached (no cache_dir)"
        shown = "\n".join(f"--- configs[{f.index}] = {json.dumps(f.config)}\n{f.traceback}"
                          for f in failures)
        raise SweepError(f"{len(failures)} of {len(set(keys))} configs failed; the other "
                         f"results are {kept}, and a rerun with the same cache_dir retries only "
                         f"the failed ones.\n{shown}", results, failures)
    return results


def default_workers() -> int:
    """The cores this process may use (for n_jobs and LocalCluster sizes)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


__all__ = ["run", "config_key", "SweepError", "Failure", "default_workers", "BACKENDS",
           "BACKEND_ENV", "SCHEDULER_ENV"]
