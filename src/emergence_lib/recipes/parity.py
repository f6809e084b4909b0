"""The sparse-parity recipe of chapter 5 (COURSE.md section 5, after Barak et al. 2022): every
number of the setup lives here. One-hidden-layer ReLU MLP, online SGD on fresh samples, hinge
loss; many seeds train at once as one BatchedMLP."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
from tqdm.auto import tqdm

from .._validate import check_float, check_int
from ..detect import detect_transition, lead
from ..models import BatchedMLP, seeded_mlps
from ..progress.parity import fourier_gap, random_subsets, secret_weight_ratio, weight_change_inf
from ..tasks import SparseParity, sparse_parity
from ..train import TrainConfig, TrainResult, train

SOLVED = 0.99          # test accuracy that counts as "solved"
TEST_SIZE = 1_000      # fresh test samples per member (the noise at chance is about +-1.6%)
N_FOURIER_OTHERS = 200  # random other k-subsets the Fourier gap compares the secret against

# Barak et al.'s setting n=50, k=3, width 1000, batch 32, lr 0.1 (the benchmark's default). A FULL
# run of the chapter on it (16 seeds, every 25 steps) solved every seed, but 4 of 16 plateaus were
# under 5x their jump (worst 2.9x), so the chapter's main run uses FAST_MAIN in both modes.
MAIN = {"n": 50, "k": 3, "width": 1000, "batch_size": 32, "lr": 0.1}
# The chapter's main run (FAST and FULL): the same network and lr, with n=70 and batch 256. Plateau
# / jump, logged every 10 steps, over 16 seeds in one batched run: 8.7-41x at batch 256 (slowest
# solve 3,840 steps); 6.1-29x at batch 128, where FAST's 4 seeds gave 4.9-11x; at n=50, batch 32
# 4 of 16 FULL seeds were under 5x (worst 2.9x). The larger batch averages away SGD noise and
# shortens the jump; the larger n lengthens the plateau. So "plateau >= 5x jump" holds here for
# every seed with a margin, not just typically.
FAST_MAIN = {"n": 70, "k": 3, "width": 1000, "batch_size": 256, "lr": 0.1}
# The scaling sweep: narrower networks, lr 0.2; convergence step vs n for each k.
SWEEP = {"width": 256, "batch_size": 32, "lr": 0.2}

FAST = {
    "main": FAST_MAIN, "main_seeds": tuple(range(4)), "main_steps": 5_000, "main_log_every": 10,
    "sweep_seeds": tuple(range(16)),
    # (k, n) -> (steps budget, log every): budgets are >= 1.4x the slowest of 16 seeds seen when
    # calibrating; k=2 is solved in ~100 steps, so it is logged every 5 steps.
    "sweep": {(2, 25): (200, 5), (2, 50): (300, 5), (2, 100): (400, 5),
              (3, 20): (800, 25), (3, 30): (1_200, 25), (3, 40): (1_800, 25),
              (3, 50): (2_500, 25)},
}
FULL = {
    "main": FAST_MAIN, "main_seeds": tuple(range(16)), "main_steps": 5_000, "main_log_every": 10,
    "sweep_seeds": tuple(range(32)),
    "sweep": {(2, 25): (300, 5), (2, 50): (400, 5), (2, 100): (800, 5), (2, 200): (1_500, 5),
              (3, 20): (1_000, 10), (3, 30): (1_500, 10), (3, 40): (2_500, 10),
              (3, 50): (3_500, 10), (3, 70): (7_000, 25),
              (4, 10): (2_000, 10), (4, 15): (5_000, 25), (4, 20): (10_000, 25),
              (4, 25): (20_000, 50)},
}


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
    """A batched run: per-member accuracy (S, T) at ``steps`` (T,), and progress measures."""

    task: SparseParity
    k: int
    seeds: tuple[int, ...]
    steps: np.ndarray
    accuracy: np.ndarray
    progress: dict[str, np.ndarray]
    result: TrainResult

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


def plateau_and_jump(steps: np.ndarray, accuracy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per member, from ``detect_transition`` of accuracy from chance (0.5) to 1: plateau = the
    onset (10% of the way up), jump = onset to finish (90%). Both (S,), nan without a jump."""
    accuracy = np.atleast_2d(np.asarray(accuracy, dtype=float))
    plateau, jump = np.full(len(accuracy), np.nan), np.full(len(accuracy), np.nan)
    for i, acc in enumerate(accuracy):
        found = detect_transition(steps, acc, start=0.5, end=1.0)
        if found is not None:
            plateau[i], jump[i] = found.onset, found.width
    return plateau, jump


def measure_leads(run: ParityRun) -> dict[str, np.ndarray]:
    """Steps by which each progress measure's onset leads the accuracy onset, per member (``lead``
    at 10% of each curve's own change); nan where a curve has no clear change."""
    leads = {}
    for name, values in run.progress.items():
        leads[name] = np.array([np.nan if (d := lead(run.steps, values[i], run.accuracy[i]))
                                is None else d for i in range(len(values))])
    return leads


def train_parity_seeds(n: int | Sequence[int], k: int, seeds: Sequence[int], *, width: int,
                       steps: int, lr: float, batch_size: int = 32, log_every: int = 25,
                       measure_progress: bool = False, progress: bool = True,
                       desc: str | None = None) -> ParityRun:
    """Train one MLP per (n, seed) as one BatchedMLP on fresh samples each step. Each member
    starts from ``seeded_mlps`` (the same init it would have alone) and has its own secret
    ``parity_secret(n, k, seed)``. Logs test accuracy every ``log_every`` steps, and with
    ``measure_progress`` the hidden-progress measures too."""
    seeds = tuple(check_int(f"seeds[{i}]", s, minimum=0) for i, s in enumerate(seeds))
    log_every = check_int("log_every", log_every, minimum=1)
    task = sparse_parity(n, k, seeds)
    members = [s for _ in ([n] if isinstance(n, int) else n) for s in seeds]
    model = BatchedMLP.from_modules(seeded_mlps(members, list(task.ns), width))
    x_test, y_test = task.fixed_set(TEST_SIZE, seed=10_000 + sum(seeds))
    w0 = model.w1.detach().clone()
    others = [random_subsets(m, k, N_FOURIER_OTHERS, seed=i) for i, m in enumerate(task.ns)]

    def evaluate(m: BatchedMLP) -> dict[str, float]:
        out = m(x_test).squeeze(-1)                               # (S, M)
        acc = ((out > 0).float() * 2 - 1 == y_test).float().mean(-1)
        row = {f"acc/{i}": float(a) for i, a in enumerate(acc)}
        if measure_progress:
            for i, (m_i, secret) in enumerate(zip(task.ns, task.secrets, strict=True)):
                w = m.w1[i, :, :m_i]
                change = weight_change_inf(w, w0[i, :, :m_i], secret)
                row[f"winf_secret/{i}"] = change["secret"]
                row[f"winf_other/{i}"] = change["other"]
                row[f"secret_ratio/{i}"] = secret_weight_ratio(w, secret)
                row[f"fourier_gap/{i}"] = fourier_gap(out[i], x_test[i, :, :m_i], secret,
                                                      others[i])
        return row

    result = train(model, hinge_loss, task, parity_config(steps, lr, batch_size),
                   evaluate=evaluate, log_steps=log_every, progress=progress, desc=desc,
                   update=hinge_sgd_update)
    h = result.history
    S = task.n_members
    accuracy = np.stack([h[f"acc/{i}"] for i in range(S)])
    names = ["winf_secret", "winf_other", "secret_ratio", "fourier_gap"] if measure_progress else []
    measures = {name: np.stack([h[f"{name}/{i}"] for i in range(S)]) for name in names}
    return ParityRun(task, k, seeds, h["step"], accuracy, measures, result)


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


def sweep_runs(fast: bool = True, progress: bool = True) -> dict[tuple[int, int], ParityRun]:
    """Convergence time vs n: one batched run of all seeds per (k, n) of the FAST or FULL sweep."""
    setup = FAST if fast else FULL
    runs = {}
    points = tqdm(setup["sweep"].items(), desc="sweep (k, n)", disable=not progress, leave=False)
    for (k, n), (steps, log_every) in points:  # one bar for the sweep, not one per run
        runs[(k, n)] = train_parity_seeds(n, k, setup["sweep_seeds"], width=SWEEP["width"],
                                          steps=steps, lr=SWEEP["lr"],
                                          batch_size=SWEEP["batch_size"],
                                          log_every=log_every, progress=False)
    return runs


def fit_exponent(ns: Sequence[float], steps: Sequence[float]) -> tuple[float, float]:
    """Slope and intercept of log(steps) = slope * log(n) + intercept (least squares)."""
    ns = np.asarray(ns, dtype=float)
    steps = np.asarray(steps, dtype=float)
    if len(ns) != len(steps) or len(ns) < 2 or (ns <= 0).any() or (steps <= 0).any():
        raise ValueError(f"ns and steps must be positive, of equal length >= 2, got {ns} and "
                         f"{steps}")
    slope, intercept = np.polyfit(np.log(ns), np.log(steps), 1)
    return float(slope), float(intercept)
