"""The sparse-parity recipe of chapter 5 (COURSE.md section 5, after Barak et al. 2022): every
number of the setup lives here. One-hidden-layer ReLU MLP, online SGD on fresh samples, hinge
loss; many seeds train at once as one BatchedMLP.

The n-scaling sweep and the frontier run go through ``sweep.run``, one config per (k, n) point
(``sweep_config``, trained by ``train_sweep_point``, all its seeds as one BatchedMLP), so the
same call runs in this process, on every core (``EMERGENCE_SWEEP_BACKEND=loky``) or on a Dask
cluster (``EMERGENCE_DASK_SCHEDULER=tcp://host:8786``) without changing the chapter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from .. import sweep
from .._validate import as_1d_array, check_choice, check_float, check_int
from ..atlas import TransitionRecord
from ..atlas import transition_record as atlas_record
from ..checks import Verdict
from ..detect import detect_transition, lead, sustained_onset
from ..fit import LogisticFit, fit_logistic
from ..models import BatchedMLP, seeded_mlps
from ..progress.parity import (
    fourier_panel,
    panel_gap,
    random_subsets,
    secret_weight_ratio,
    weight_change_inf,
)
from ..tasks import SparseParity, sparse_parity
from ..train import History, TrainConfig, TrainResult, train
from ..utils import seeded

SOLVED = 0.99          # test accuracy that counts as "solved"
CHANCE_ACC = 0.5       # the accuracy of guessing a +-1 label
TEST_SIZE = 1_000      # fresh test samples per member (the noise at chance is about +-1.6%)
N_FOURIER_OTHERS = 200  # random other k-subsets the Fourier gap compares the secret against
# Onsets are read off the centred running median of this many logged points (210 steps when
# logging every 10): accuracy that leaves chance, falls back to it and leaves again for a few
# hundred steps would otherwise be "at chance" until its last dip (detect.running_median).
ONSET_SMOOTH = 21
# The secret columns' ||W_t - W_0||_inf "pulls away" once it stays above this multiple of the
# other columns' (at init both are 0; during the early plateau the ratio is below 1: the max over
# 3 secret columns vs over 67 others of the same random walk).
PULL_AWAY = 2.0

# Barak et al.'s setting n=50, k=3, width 1000, batch 32, lr 0.1 (the benchmark's default). A FULL
# run of the chapter on it (16 seeds, every 25 steps) solved every seed, but with the raw-point
# onset detector of the time 4 of 16 plateaus were under 5x their jump (worst 2.9x), so the
# chapter's main run uses FAST_MAIN in both modes.
MAIN = {"n": 50, "k": 3, "width": 1000, "batch_size": 32, "lr": 0.1}
# The chapter's main run (FAST and FULL): the same network and lr, with n=70 and batch 256. Plateau
# / jump, logged every 10 steps, with the robust onset (running median of ONSET_SMOOTH points):
# 3.3-18.9x over FULL's 16 seeds (slowest solve 3,840 steps), 4.3-7.7x over FAST's 4 (the
# raw-point detector said 8.7-41x and 8.9-15x on the same curves: inflated by the oscillation).
# The larger batch averages away SGD noise and shortens the jump; the larger n lengthens the
# plateau (at batch 128 or n=50, batch 32 the raw detector already found seeds under 5x).
FAST_MAIN = {"n": 70, "k": 3, "width": 1000, "batch_size": 256, "lr": 0.1}
# The scaling sweep: narrower networks, lr 0.2; convergence step vs n for each k.
SWEEP = {"width": 256, "batch_size": 32, "lr": 0.2}

FAST = {
    # 4,000 steps: the four FAST seeds solve by step ~3,550 (16 FULL seeds: by 3,840 in 5,000).
    "main": FAST_MAIN, "main_seeds": tuple(range(4)), "main_steps": 4_000, "main_log_every": 10,
    "sweep_seeds": tuple(range(16)),
    # (k, n) -> (steps budget, log every): budgets are >= 1.4x the slowest of 16 seeds seen when
    # calibrating; k=2 is solved in ~100 steps, so it is logged every 5 steps.
    "sweep": {(2, 25): (200, 5), (2, 50): (300, 5), (2, 100): (400, 5),
              (3, 20): (800, 25), (3, 30): (1_200, 25), (3, 40): (1_800, 25),
              (3, 50): (2_500, 25)},
    # The frontier test: the k=3 power law fitted on the sweep predicts the median steps at n=60;
    # these seeds (not in the fit) then run it. (n, k, seeds, steps budget, log every)
    "frontier": (60, 3, tuple(range(100, 108)), 3_000, 25),
}
FULL = {
    "main": FAST_MAIN, "main_seeds": tuple(range(16)), "main_steps": 5_000, "main_log_every": 10,
    "sweep_seeds": tuple(range(32)),
    "sweep": {(2, 25): (300, 5), (2, 50): (400, 5), (2, 100): (800, 5), (2, 200): (1_500, 5),
              (3, 20): (1_000, 10), (3, 30): (1_500, 10), (3, 40): (2_500, 10),
              (3, 50): (3_500, 10), (3, 70): (7_000, 25),
              (4, 10): (2_000, 10), (4, 15): (5_000, 25), (4, 20): (10_000, 25),
              (4, 25): (20_000, 50)},
    "frontier": (60, 3, tuple(range(100, 132)), 4_000, 10),
}

# The applied researcher's sweep (exercise ex-05-learning-rate): k = 2, n = 25 at the sweep's
# width and batch, 8 seeds per learning rate, one sweep point (one BatchedMLP) per rate. The
# hypothesis "steps to solve ~ 1 / lr" is supported when the 95% bootstrap interval (over seeds)
# of the slope of log(median steps) against log(lr) contains -1 and excludes 0.
LR_SWEEP = {"n": 25, "k": 2, "lrs": (0.05, 0.1, 0.2, 0.4), "seeds": tuple(range(200, 208)),
            "steps": 300, "log_every": 5, "test_size": 300}
LR_BOOT = 500
# The frontier exercise's target (ex-05-predict): an estimator of the median steps at the
# frontier n counts as right when within this relative error of the measured median.
FRONTIER_TOLERANCE = 0.25


def parity_config(steps: int, lr: float, batch_size: int, seed: int = 0) -> TrainConfig:
    """Plain online SGD (no momentum, no weight decay) on ``batch_size`` fresh samples a step."""
    return TrainConfig(steps=steps, lr=lr, batch_size=batch_size, optimizer="sgd", seed=seed)


def hinge_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Sum over members of each member's mean hinge loss max(0, 1 - y f(x)); x (S, B, n) or
    (B, n), y (S, B) or (B,). Summing keeps each member's gradient its separate-run gradient."""
    x, y = batch
    margin = y * model(x).squeeze(-1)              # (S, B) or (B,)
    return torch.relu(1 - margin).mean(-1).sum()


_relu_backward = torch.ops.aten.threshold_backward.grad_input  # (grad, h, 0) -> grad * (h > 0)


@torch.no_grad()
def hinge_sgd_update(model: BatchedMLP, batch: tuple[torch.Tensor, torch.Tensor],
                     lr: float) -> torch.Tensor:
    """One plain SGD step on ``hinge_loss`` with the gradient written out by hand, in place:
    the same update as autograd + ``torch.optim.SGD`` up to float rounding (tested), about 2x
    faster (benchmarks/batched_seeds.py). x (S, B, n), y (S, B); returns the loss before the step.
    """
    if not isinstance(model, BatchedMLP) or model.n_outputs != 1:
        outputs = getattr(model, "n_outputs", None)
        raise TypeError(f"model must be a BatchedMLP with n_outputs=1, got "
                        f"{type(model).__name__} with n_outputs={outputs}")
    x, y = batch
    model.check_input(x)
    B = x.shape[1]
    if y.shape != x.shape[:2]:
        raise ValueError(f"y must have shape {tuple(x.shape[:2])}, got {tuple(y.shape)}")
    lr = check_float("lr", lr, minimum=0.0)
    w2 = model.w2                                                      # (S, 1, W)
    x1 = torch.cat([x, x.new_ones(*x.shape[:2], 1)], -1)              # (S, B, n + 1)
    h = torch.bmm(x1, model.hidden).clamp_(min=0)                      # (S, B, W)
    out = torch.baddbmm(model.b2[:, :, None], w2, h.transpose(1, 2))   # (S, 1, B)
    margin = y[:, None, :] * out
    loss = (1 - margin).clamp_(min=0).mean(-1).sum()
    g = torch.where(margin < 1, -y[:, None, :], 0.0) / B               # (S, 1, B): dloss/dout
    grad_w2 = torch.bmm(g, h)                                          # (S, 1, W)
    grad_b2 = g.sum(-1)                                                # (S, 1)
    # dloss/dpre[s, b, j] = g[s, b] * w2[s, j] * 1[h > 0]. g is folded into x1; w2 where h > 0
    # is ReLU's own backward kernel, written over h in one pass (h is not needed after this).
    dpre = _relu_backward(w2.expand_as(h), h, 0.0, grad_input=h)       # (S, B, W)
    model.hidden.baddbmm_(x1.mul_(g.transpose(1, 2)).transpose(1, 2), dpre, alpha=-lr)
    w2.sub_(grad_w2, alpha=lr)
    model.b2.sub_(grad_b2, alpha=lr)
    return loss


@dataclass
class ParityRun:
    """A batched run: per-member test accuracy and test hinge loss (S, T) at ``steps`` (T,), and
    progress measures {name: (S, T)}."""

    task: SparseParity
    k: int
    seeds: tuple[int, ...]
    steps: np.ndarray
    accuracy: np.ndarray
    progress: dict[str, np.ndarray]
    result: TrainResult
    test_loss: np.ndarray | None = None

    def solve_steps(self, level: float = SOLVED) -> np.ndarray:
        """First logged step at which each member's accuracy reaches ``level`` (nan if never)."""
        return solve_steps(self.steps, self.accuracy, level)


def solve_steps(steps: np.ndarray, accuracy: np.ndarray, level: float = SOLVED) -> np.ndarray:
    """First step where each row of ``accuracy`` (S, T) reaches ``level``: (S,), nan if never."""
    level = check_float("level", level, minimum=0.0, maximum=1.0)
    accuracy = np.atleast_2d(np.asarray(accuracy, dtype=float))
    steps = np.asarray(steps, dtype=float)
    if accuracy.shape[1] != len(steps):
        raise ValueError(f"accuracy must have one column per step ({len(steps)}), got shape "
                         f"{accuracy.shape}")
    reached = accuracy >= level
    first = np.argmax(reached, axis=1)
    return np.where(reached.any(axis=1), steps[first], np.nan)


def plateau_and_jump(steps: np.ndarray, accuracy: np.ndarray, smooth: int = ONSET_SMOOTH
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Per member, from ``detect_transition`` of accuracy from chance (CHANCE_ACC) to 1 on its
    running median of ``smooth`` points: plateau = the onset, the first step after which the
    smoothed accuracy stays above the first of ``detect.TRANSITION_FRACTIONS`` of the way up;
    jump = onset to the step after which it stays above the last of them. accuracy (S, T) -> two
    (S,) arrays, nan for a member without a jump."""
    accuracy = np.atleast_2d(np.asarray(accuracy, dtype=float))
    plateau, jump = np.full(len(accuracy), np.nan), np.full(len(accuracy), np.nan)
    for i, acc in enumerate(accuracy):
        found = detect_transition(steps, acc, start=CHANCE_ACC, end=1.0, smooth=smooth)
        if found is not None:
            plateau[i], jump[i] = found.onset, found.width
    return plateau, jump


def plateau_indices(steps: np.ndarray, plateau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``steps`` (T,) of the logged step nearest a quarter of each member's plateau
    and of the last logged step at or before its onset: two (S,) int arrays. A member without an
    onset (nan) gets the last step, so a failed seed still reaches the chapter's check."""
    steps = np.asarray(steps, dtype=float)
    plateau = np.nan_to_num(np.asarray(plateau, dtype=float), nan=steps[-1])
    last = len(steps) - 1
    early = np.minimum(np.searchsorted(steps, plateau / 4), last)
    at_onset = np.clip(np.searchsorted(steps, plateau, side="right") - 1, 0, last)
    return early, at_onset


def pull_away_steps(steps: np.ndarray, secret: np.ndarray, other: np.ndarray,
                    level: float = PULL_AWAY, smooth: int = ONSET_SMOOTH) -> np.ndarray:
    """Per member, the first step after which ||W_t - W_0||_inf on the secret columns stays above
    ``level`` times the others' (running median of ``smooth`` points of the ratio); (S, T)
    arrays -> (S,), nan if it never does."""
    level = check_float("level", level, minimum=0.0, strict_min=True)
    secret, other = np.atleast_2d(secret), np.atleast_2d(other)
    ratio = secret / np.maximum(other, 1e-12)              # 0 / 0 at step 0 -> 0
    out = np.full(len(ratio), np.nan)
    for i, row in enumerate(ratio):
        at = sustained_onset(steps, row, level, smooth=smooth)
        if at is not None:
            out[i] = at
    return out


def measure_leads(run: ParityRun, smooth: int = ONSET_SMOOTH) -> dict[str, np.ndarray]:
    """Steps by which each progress measure's onset leads the robust accuracy onset, per member:
    ``lead`` at 10% of each curve's own change, both curves smoothed by a running median of
    ``smooth`` points, plus "winf_pull_away" (``pull_away_steps``). nan where a curve has no
    clear change."""
    leads = {}
    for name, values in run.progress.items():
        leads[name] = np.array([np.nan if (d := lead(run.steps, values[i], run.accuracy[i],
                                                     smooth=smooth)) is None else d
                                for i in range(len(values))])
    if {"winf_secret", "winf_other"} <= set(run.progress):
        plateau, _ = plateau_and_jump(run.steps, run.accuracy, smooth)
        leads["winf_pull_away"] = plateau - pull_away_steps(
            run.steps, run.progress["winf_secret"], run.progress["winf_other"], smooth=smooth)
    return leads


def accuracy_logistics(steps: np.ndarray, accuracy: np.ndarray, every: int = 5,
                       n_boot: int = 50, seed: int = 0) -> list[LogisticFit]:
    """The course's logistic in log(step), floor 0.5 and ceiling 1 fixed, fitted to each
    member's accuracy (S, T) at every ``every``-th logged step after step 0, with bootstrap
    intervals and the straight line in log(step) beside it."""
    every = check_int("every", every, minimum=1)
    steps = np.asarray(steps, dtype=float)
    keep = np.flatnonzero(steps > 0)[::every]
    return [fit_logistic(steps[keep], row[keep], floor=0.5, ceil=1.0, n_boot=n_boot, seed=seed)
            for row in np.atleast_2d(accuracy)]


def median_interval(values: Sequence[float], n_boot: int = 1_000, confidence: float = 0.95,
                    seed: int = 0) -> tuple[float, float, float]:
    """Median of ``values`` (inf allowed: a seed that never solved) and its bootstrap interval
    over the values: (median, low, high)."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or len(values) < 2 or np.isnan(values).any():
        raise ValueError(f"values must be a 1-D array of >= 2 numbers (inf allowed, not nan), "
                         f"got {values}")
    n_boot = check_int("n_boot", n_boot, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    draws = np.median(values[rng.integers(0, len(values), (n_boot, len(values)))], axis=1)
    q = 100 * np.array([(1 - confidence) / 2, (1 + confidence) / 2])
    low, high = np.percentile(draws, q, method="inverted_cdf")  # no interpolation: inf stays inf
    return float(np.median(values)), float(low), float(high)


def predict_steps(ns: Sequence[float], solve: Sequence[Sequence[float]], n_new: float,
                  n_boot: int = 1_000, confidence: float = 0.95,
                  seed: int = 0) -> tuple[float, float, float]:
    """Median steps to solve predicted at ``n_new`` by the power law through the medians of
    ``solve[j]`` (every seed's solve step at ``ns[j]``, inf if unsolved), and a bootstrap
    interval that resamples the seeds at every n: (prediction, low, high)."""
    ns = as_1d_array("ns", ns, min_len=2, positive=True)
    if len(solve) != len(ns):
        raise ValueError(f"solve must hold one array of solve steps per n ({len(ns)}), got "
                         f"{len(solve)}")
    solve = [np.asarray(s, dtype=float) for s in solve]
    n_new = check_float("n_new", n_new, minimum=0.0, strict_min=True)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))

    def predict(medians: np.ndarray) -> float:
        slope, intercept = fit_exponent(ns, medians)
        return float(np.exp(intercept + slope * np.log(n_new)))

    point = predict(np.array([np.median(s) for s in solve]))
    draws = []
    for _ in range(check_int("n_boot", n_boot, minimum=1)):
        medians = np.array([np.median(s[rng.integers(0, len(s), len(s))]) for s in solve])
        if np.isfinite(medians).all():
            draws.append(predict(medians))
    q = 100 * np.array([(1 - confidence) / 2, (1 + confidence) / 2])
    low, high = np.percentile(draws, q) if draws else (np.nan, np.nan)
    return point, float(low), float(high)


def train_parity_seeds(n: int | Sequence[int], k: int, seeds: Sequence[int], *, width: int,
                       steps: int, lr: float, batch_size: int = 32, log_every: int = 25,
                       measure_progress: bool = False, progress: bool = True,
                       desc: str | None = None, test_size: int = TEST_SIZE) -> ParityRun:
    """Train one MLP per (n, seed) as one BatchedMLP on fresh samples each step. Each member
    starts from ``seeded_mlps`` (the same init it would have alone) and has its own secret
    ``parity_secret(n, k, seed)``. Logs test accuracy every ``log_every`` steps, and with
    ``measure_progress`` the hidden-progress measures too, on ``test_size`` fixed test inputs."""
    seeds = tuple(check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds))
    log_every = check_int("log_every", log_every, minimum=1)
    task = sparse_parity(n, k, seeds)
    members = [s for _ in ([n] if isinstance(n, int) else n) for s in seeds]
    model = BatchedMLP.from_modules(seeded_mlps(members, list(task.ns), width))
    x_test, y_test = task.fixed_set(check_int("test_size", test_size, minimum=1),
                                    seed=10_000 + sum(seeds))
    w0 = model.w1.detach().clone()
    # The parities of the test inputs on the secret and 200 other k-subsets, computed once.
    panels = [fourier_panel(x_test[i, :, :m_i], secret, random_subsets(m_i, k, N_FOURIER_OTHERS,
                                                                       seed=i))
              for i, (m_i, secret) in enumerate(zip(task.ns, task.secrets, strict=True))
              ] if measure_progress else []

    def evaluate(m: BatchedMLP) -> dict[str, float]:
        out = m(x_test).squeeze(-1)                               # (S, M)
        acc = ((out > 0).float() * 2 - 1 == y_test).float().mean(-1)
        hinge = torch.relu(1 - y_test * out).mean(-1)             # (S,): the training loss
        row = {f"acc/{i}": float(a) for i, a in enumerate(acc)}
        row.update({f"hinge/{i}": float(v) for i, v in enumerate(hinge)})
        if measure_progress:
            for i, (m_i, secret) in enumerate(zip(task.ns, task.secrets, strict=True)):
                w = m.w1[i, :, :m_i]
                change = weight_change_inf(w, w0[i, :, :m_i], secret)
                row[f"winf_secret/{i}"] = change["secret"]
                row[f"winf_other/{i}"] = change["other"]
                row[f"secret_ratio/{i}"] = secret_weight_ratio(w, secret)
                row[f"fourier_gap/{i}"] = panel_gap(out[i], panels[i])
        return row

    result = train(model, hinge_loss, task, parity_config(steps, lr, batch_size),
                   evaluate=evaluate, log_steps=log_every, progress=progress, desc=desc,
                   update=hinge_sgd_update)
    return _parity_run(task, k, seeds, result)


def _parity_run(task: SparseParity, k: int, seeds: tuple[int, ...],
                result: TrainResult) -> ParityRun:
    """The ParityRun read off a training's history (every metric logged per member i)."""
    h, S = result.history, task.n_members
    accuracy = np.stack([h[f"acc/{i}"] for i in range(S)])
    test_loss = np.stack([h[f"hinge/{i}"] for i in range(S)])
    names = [n for n in ("winf_secret", "winf_other", "secret_ratio", "fourier_gap")
             if f"{n}/0" in h.values]
    measures = {name: np.stack([h[f"{name}/{i}"] for i in range(S)]) for name in names}
    return ParityRun(task, k, seeds, h["step"], accuracy, measures, result, test_loss)


def main_run(fast: bool = True, progress: bool = True) -> ParityRun:
    """The main setup (n=70, k=3, width 1000, batch 256) over the FAST (4) or FULL (16) seeds,
    with progress."""
    setup = FAST if fast else FULL
    main = setup["main"]
    return train_parity_seeds(main["n"], main["k"], setup["main_seeds"], width=main["width"],
                              steps=setup["main_steps"], lr=main["lr"],
                              batch_size=main["batch_size"], log_every=setup["main_log_every"],
                              measure_progress=True, progress=progress,
                              desc=f"n={main['n']}, k={main['k']}")


def sweep_config(n: int, k: int, seeds: Sequence[int], *, steps: int, log_every: int,
                 width: int = SWEEP["width"], lr: float = SWEEP["lr"],
                 batch_size: int = SWEEP["batch_size"], test_size: int = TEST_SIZE) -> dict:
    """The sweep config of one (k, n) point (JSON values): everything ``train_sweep_point``
    needs, so its hash (the cache key) changes whenever a number of the setup does."""
    config = {"n": check_int("n", n, minimum=1), "k": check_int("k", k, minimum=1),
              "seeds": [check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds)],
              "steps": check_int("steps", steps, minimum=1),
              "log_every": check_int("log_every", log_every, minimum=1),
              "width": check_int("width", width, minimum=1),
              "lr": check_float("lr", lr, minimum=0.0),
              "batch_size": check_int("batch_size", batch_size, minimum=1),
              "test_size": check_int("test_size", test_size, minimum=1)}
    if not config["seeds"]:
        raise ValueError("seeds must hold at least one seed, got []")
    return config


def train_sweep_point(config: dict) -> dict:
    """Train every seed of one ``sweep_config`` as one BatchedMLP: its weights {name: (S, ...)},
    logged history (test accuracy and hinge loss per member) and seconds. Run by ``sweep.run``."""
    with seeded(0):  # leaves the caller's global RNG as it was, whichever backend runs it
        run = train_parity_seeds(config["n"], config["k"], config["seeds"],
                                 width=config["width"], steps=config["steps"], lr=config["lr"],
                                 batch_size=config["batch_size"],
                                 log_every=config["log_every"], test_size=config["test_size"],
                                 progress=False)
    return {"weights": run.result.model.state_dict(), "history": run.result.history.to_dict(),
            "seconds": run.result.seconds}


def _sweep_cost(config: dict) -> int:
    """Rough cost of a point (input-weight products: 3x forward per training sample, 1x per test
    sample), to hand the longest points to the workers first."""
    evaluations = config["steps"] // config["log_every"] + 1
    samples = 3 * config["steps"] * config["batch_size"] + evaluations * config["test_size"]
    return samples * (config["n"] + 1) * config["width"] * len(config["seeds"])


# The default backend stays sweep.run's "serial": loky is not faster on a sweep this short and
# costs about 1.7x the CPU (two more processes start, import torch and send results back). The
# FAST sweep, uncached, on 2 cores shared with other work (17 runs at load 1.8-7.9; wall, CPU
# seconds): serial 1 thread 8.7-19.6 s (8.7-11.0), loky 2 workers x 1 thread 7.7-35.8 s
# (15.1-17.5), serial 2 threads 8.2-458 s (14.9-142: OpenMP threads spin when the cores are
# oversubscribed); the quickest of each 8.7, 7.7 and 8.2 s. The same networks bit for bit in
# every run. An idle machine: not measured.
def run_sweep_points(configs: Sequence[dict], *, cache_dir: str | Path | None = None,
                     backend: str | None = None, n_jobs: int | None = None,
                     progress: bool = True) -> list[ParityRun]:
    """``train_sweep_point`` on every config through ``sweep.run``, the costliest first, and the
    ParityRuns in config order. With ``cache_dir`` each finished point is kept in
    ``cache_dir/parity/`` (keyed by its config), so a re-run or an interrupted sweep resumes.
    backend, n_jobs: as in ``sweep.run`` (default: ``EMERGENCE_SWEEP_BACKEND``, else "dask"
    when ``EMERGENCE_DASK_SCHEDULER`` is set, else "serial" in this process)."""
    order = sorted(range(len(configs)), key=lambda i: -_sweep_cost(configs[i]))
    folder = None if cache_dir is None else Path(cache_dir) / "parity"
    outputs = sweep.run(train_sweep_point, [configs[i] for i in order], backend, n_jobs,
                        cache_dir=folder, progress=progress)
    runs: list[ParityRun | None] = [None] * len(configs)
    for i, out in zip(order, outputs, strict=True):
        config = configs[i]
        task = sparse_parity(config["n"], config["k"], config["seeds"])
        with seeded(0):  # the init is overwritten; the global RNG is left alone
            model = BatchedMLP(len(config["seeds"]), config["n"], config["width"])
        model.load_state_dict(out["weights"])
        result = TrainResult(model, History.from_dict(out["history"]), seconds=out["seconds"])
        runs[i] = _parity_run(task, config["k"], tuple(config["seeds"]), result)
    return runs


def sweep_runs(fast: bool = True, progress: bool = True, *, cache_dir: str | Path | None = None,
               backend: str | None = None, n_jobs: int | None = None
               ) -> dict[tuple[int, int], ParityRun]:
    """Convergence time vs n: one batched run of all seeds per (k, n) of the FAST or FULL sweep,
    through ``run_sweep_points`` (cache_dir, backend, n_jobs as there)."""
    setup = FAST if fast else FULL
    points = list(setup["sweep"].items())
    configs = [sweep_config(n, k, setup["sweep_seeds"], steps=steps, log_every=log_every)
               for (k, n), (steps, log_every) in points]
    runs = run_sweep_points(configs, cache_dir=cache_dir, backend=backend, n_jobs=n_jobs,
                            progress=progress)
    return {key: run for (key, _), run in zip(points, runs, strict=True)}


def frontier_run(fast: bool = True, progress: bool = True, *, cache_dir: str | Path | None = None,
                 backend: str | None = None) -> ParityRun:
    """The frontier test: fresh seeds at n = 60, k = 3 with the sweep's settings (the k = 3 power
    law fitted below n = 60 predicts their median steps to solve); one more sweep point."""
    n, k, seeds, steps, log_every = (FAST if fast else FULL)["frontier"]
    config = sweep_config(n, k, seeds, steps=steps, log_every=log_every)
    return run_sweep_points([config], cache_dir=cache_dir, backend=backend,
                            progress=progress)[0]


def fit_exponent(ns: Sequence[float], steps: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of log(steps) = slope * log(n) + intercept (least squares)."""
    ns = np.asarray(ns, dtype=float)
    steps = np.asarray(steps, dtype=float)
    if (len(ns) != len(steps) or len(ns) < 2 or (ns <= 0).any() or (steps <= 0).any()
            or not np.isfinite(steps).all()):
        raise ValueError(f"ns and steps must be positive and finite, of equal length >= 2, got "
                         f"{ns} and {steps}")
    slope, intercept = np.polyfit(np.log(ns), np.log(steps), 1)
    return float(slope), float(intercept)


def training_step(how: str, seeds: int, n: int, k: int, width: int, batch: int,
                  lr: float) -> Callable[[], None]:
    """One SGD step of ``seeds`` sparse-parity MLPs, each on its own fresh batch, as a callable
    for ``bench.seconds_per_step``. how: "loop" (separate models, one SGD each), "batched" (one
    BatchedMLP, autograd + one SGD) or "fused" (one BatchedMLP, ``hinge_sgd_update``)."""
    check_choice("how", how, ["loop", "batched", "fused"])
    seeds = check_int("seeds", seeds, minimum=1)
    generator = torch.Generator().manual_seed(0)
    if how == "loop":  # each model draws its own batch, as separate runs would
        models = seeded_mlps(range(seeds), n, width)
        opts = [torch.optim.SGD(m.parameters(), lr=lr) for m in models]
        tasks = [sparse_parity(n, k, (s,)) for s in range(seeds)]

        def step() -> None:
            for model, opt, task in zip(models, opts, tasks, strict=True):
                x, y = task(batch, generator)            # (1, batch, n), (1, batch)
                loss = hinge_loss(model, (x[0], y[0]))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

        return step
    model = BatchedMLP.from_modules(seeded_mlps(range(seeds), n, width))
    opt = torch.optim.SGD(model.parameters(), lr=lr, foreach=True)
    task = sparse_parity(n, k, range(seeds))

    def step() -> None:
        x, y = task(batch, generator)                    # (seeds, batch, n), (seeds, batch)
        if how == "fused":
            hinge_sgd_update(model, (x, y), lr)
            return
        loss = hinge_loss(model, (x, y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def lr_sweep(progress: bool = True, *, cache_dir: str | Path | None = None,
             backend: str | None = None) -> dict[float, ParityRun]:
    """The learning-rate sweep of ``LR_SWEEP``: {lr: ParityRun of its seeds}, through
    ``run_sweep_points`` (cached per point in ``cache_dir/parity/``, so a second call loads)."""
    setup = LR_SWEEP
    configs = [sweep_config(setup["n"], setup["k"], setup["seeds"], steps=setup["steps"],
                            log_every=setup["log_every"], lr=lr, test_size=setup["test_size"])
               for lr in setup["lrs"]]
    runs = run_sweep_points(configs, cache_dir=cache_dir, backend=backend, progress=progress)
    return dict(zip(setup["lrs"], runs, strict=True))


def slope_interval(xs: Sequence[float], solve: Sequence[Sequence[float]], n_boot: int = LR_BOOT,
                   seed: int = 0) -> tuple[float, float, float]:
    """Slope of log(median solve step) against log(x), and its 95% bootstrap interval, each draw
    resampling the seeds at every x: xs (X,), solve X arrays of per-seed steps (inf = never;
    a draw whose median is inf is dropped)."""
    x = np.log(as_1d_array("xs", xs, min_len=2, positive=True))
    if len(solve) != len(x):
        raise ValueError(f"solve must hold one array of seeds per x ({len(x)}), got {len(solve)}")
    per_x = [np.asarray(v, dtype=float) for v in solve]
    medians = np.array([np.median(v) for v in per_x])
    if not np.isfinite(medians).all():
        raise ValueError(f"every x needs a finite median solve step, got {medians.tolist()}")
    slope = float(np.polyfit(x, np.log(medians), 1)[0])
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    draws = np.stack([np.median(v[rng.integers(0, len(v), (check_int("n_boot", n_boot,
                                                                        minimum=10), len(v)))],
                                axis=1) for v in per_x], axis=1)       # (n_boot, X)
    draws = draws[np.isfinite(draws).all(1)]
    slopes = np.polyfit(x, np.log(draws).T, 1)[0]
    lo, hi = np.percentile(slopes, [2.5, 97.5])
    return slope, float(lo), float(hi)


class SignedBits(nn.Module):
    """The exported parity model's front door: bits (B, n) in {0, 1} (integer) -> every member's
    output f(2 bits - 1) (S, B), the same input for each member of a BatchedMLP."""

    def __init__(self, model: BatchedMLP):
        super().__init__()
        self.model = model

    def forward(self, bits: torch.Tensor) -> torch.Tensor:
        x = (2 * bits - 1).to(torch.float32)                            # (B, n) in {-1, +1}
        S = self.model.n_members
        return self.model(x.unsqueeze(0).expand(S, -1, -1)).squeeze(-1)  # (S, B)


# --- the atlas record (issue #18) ---

def transition_record(run: ParityRun, *, member: int, logistic: LogisticFit, loss_leads: bool,
                      hidden: Verdict, frontier: Verdict, printed: dict[str, str],
                      pull_away_lead: float | None = None, smooth: int = ONSET_SMOOTH,
                      seed: int = 0) -> TransitionRecord:
    """Chapter 5's main transition for the atlas: one seed's (``member``) test accuracy along the
    SGD step, floor 0.5 (chance) and ceiling 1, onsets read off the running median of ``smooth``
    logged points; progress = its secret columns' ||W_t - W_0||_inf over the other columns'
    (the pull-away ratio). ``logistic``: the chapter's fit of that seed; ``loss_leads``: whether
    the hinge loss moved first on some seed; ``hidden``/``frontier``: the chapter's verdicts
    (hidden progress on every seed; the n = 60 prediction). ``pull_away_lead``: the chapter's
    lead of that seed's pull-away (``measure_leads``), which replaces the atlas's 10%-onset lead
    of the ratio when given."""
    steps = np.asarray(run.steps, dtype=float)
    keep = steps > 0
    ratio = run.progress["winf_secret"][member] / np.maximum(run.progress["winf_other"][member],
                                                             1e-12)
    failed = {f.split(":")[0] for f in hidden.failures}
    answers = {
        "metric_artefact": (
            None if loss_leads else False,
            "Partly open: on some seed the hinge loss moves before the accuracy." if loss_leads
            else "No: the hinge loss, the quantity SGD descends, is as flat as the accuracy "
                 "through the plateau."),
        "hidden_progress": (
            "progress leads" not in failed,
            "Yes: on every seed the secret columns' largest weight change pulled away from the "
            "other columns' before accuracy left chance." if "progress leads" not in failed
            else "No: the pull-away did not precede the accuracy's onset on every seed."),
        "predictable": (frontier.passed, frontier.sentence),
    }
    record = atlas_record(
        chapter="05_sparse_parity", phenomenon="sparse parity",
        parameter="SGD step", unit="steps", x=steps[keep], metric=run.accuracy[member][keep],
        metric_name=f"test accuracy (seed {run.seeds[member]})", floor=0.5, ceil=1.0,
        progress=ratio[keep],
        progress_name="||W_t - W_0||_inf, secret over other columns", smooth=smooth,
        logistic=logistic, answers=answers, printed=printed, seed=seed,
        notes=f"one seed of the main run (n = {run.task.ns[member]}, k = {run.k}); levels fixed "
              f"at chance and perfect; onsets on the running median of {smooth} logged points; "
              "the logistic is the chapter's (floor and ceiling fixed)"
              + ("; the lead is the chapter's: steps from the pull-away (the ratio staying "
                 f"above {PULL_AWAY:g}) to accuracy's onset." if pull_away_lead is not None
                 else "."))
    if pull_away_lead is None:
        return record
    return replace(record, lead=float(pull_away_lead) if np.isfinite(pull_away_lead) else None)
