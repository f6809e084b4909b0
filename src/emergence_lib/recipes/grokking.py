"""The grokking recipe of chapter 3 (COURSE.md section 3): modular addition learned long after it
is memorized. Every number of the FAST and FULL setups lives here."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .._validate import check_choice, check_float, check_int
from ..checks import Verdict
from ..checks.ch03 import grokking_verdict, llc_verdict
from ..detect import detect_transition, first_crossing, lead
from ..fit import LogisticFit, fit_logistic
from ..models.modular_mlp import SquaredEmbeddingMLP
from ..progress.fourier import (
    covering_frequencies,
    excluded_loss,
    logit_frequency_shares,
    pair_logits,
    random_frequency_sets,
    restricted_losses,
)
from ..progress.llc import Calibration, calibrate_llc
from ..tasks.modular import ModularData, modular_addition
from ..train import TrainConfig, TrainResult, train
from ..utils import seeded


@dataclass(frozen=True)
class GrokkingSetup:
    """One complete setup: task, model, optimiser and how often to log."""

    name: str
    p: int
    train_frac: float
    model: str                  # "squared_mlp" (FAST) or "transformer" (FULL)
    lr: float
    weight_decay: float
    betas: tuple[float, float]
    steps: int
    log_every: int
    width: int = 256            # squared_mlp only
    d_model: int = 128          # transformer only
    n_heads: int = 4
    d_head: int = 32
    d_mlp: int = 512
    init_std: float = 128 ** -0.5  # transformer only: weights N(0, 1/d_model), as Nanda et al.


# FAST: memorizes by step ~60 and reaches 95% test accuracy near step 1,230 (about 7 s alone).
FAST = GrokkingSetup(name="FAST", p=59, train_frac=0.5, model="squared_mlp", lr=5e-3,
                     weight_decay=0.3, betas=(0.9, 0.98), steps=2_000, log_every=20, width=256)
# FULL: Nanda et al. (2023): one-layer ReLU transformer, no LayerNorm, tokens "a b =".
FULL = GrokkingSetup(name="FULL", p=113, train_frac=0.3, model="transformer", lr=1e-3,
                     weight_decay=1.0, betas=(0.9, 0.98), steps=10_000, log_every=100,
                     d_model=128, n_heads=4, d_head=32, d_mlp=512)

# The weight-decay x train-fraction widget: short FAST runs, precomputed. Calibrated on seeds
# 0-2 (95% test accuracy, 900-step runs): wd 0.5 groks at ~620-660 steps with frac 0.6 and not by
# 900 with 0.4; wd 1.0 at ~610-660 / ~370; wd 2.0 at ~375-390 / ~230-245; wd 0.3 (the main run's)
# needs ~1,300. 700 steps show both knobs, and one run that has not grokked yet (wd 0.5, frac
# 0.4), at less than half the cost of the former 0.1-0.5 x 1,500-step grid (800 until the delay
# sweep joined it; the latest grokking run, seed 2 at wd 0.5 / frac 0.6, reaches 95% at 655).
GRID_WEIGHT_DECAYS = (0.5, 1.0, 2.0)
GRID_TRAIN_FRACS = (0.4, 0.6)
GRID_STEPS = 700
GRID_LOG_EVERY = 25

# The delay sweep (applied-researcher exercise): does the delay from memorization to grokking
# scale like 1 / weight decay? The grid's train-fraction-0.6 column (seed 0) plus DELAY_SEEDS
# more seeds at the same weight decays, trained as instances that stop once they grok (seeds
# 0-2: grokked at 620-660 / 370-385 / 230-245 steps, memorized at 72-73 / 74-81 /
# 106-119; weight decay 4.0 memorizes and generalizes together, near step 195, so it is left
# out: no delay to measure). DELAY_BOOT bootstrap resamples of the seeds within each decay.
# Measured (seeds 0 and 1): delay ~ weight decay^-1.08 [-1.09, -1.08], grokking step ^-0.71.
DELAY_TRAIN_FRAC = 0.6
DELAY_SEEDS = (1,)
DELAY_BOOT = 200

# Detection levels, used by the report and the chapter's check cell.
MEMORIZED_ACC = 0.99     # train accuracy that counts as memorized
GROKKED_ACC = 0.95       # test accuracy that counts as generalized

# Key frequencies: the fewest strongest frequencies carrying 90% of the logits' a + b - c waves;
# the control: as many random frequencies, drawn RANDOM_CONTROL_DRAWS times.
KEY_FREQUENCY_COVERAGE = 0.9
RANDOM_CONTROL_DRAWS = 20

# The local learning coefficient (Lau et al. 2023, calibrated as devinterp recommends): SGLD on
# batches of m rows with n beta = m / log m, several chains, a localization gamma, and at every
# checkpoint the largest of LLC_STEP_SIZES whose loss trace passes the check (rises, levels off,
# stays below log p). Checkpoints: from memorization on (before it w* is no minimum).
LLC_SETTINGS = {
    "FAST": {"localization": 100.0, "steps": 150, "burnin": 75, "chains": 4, "batch_size": 256},
    "FULL": {"localization": 1000.0, "steps": 300, "burnin": 150, "chains": 3,
             "batch_size": 512},
}
LLC_STEP_SIZES = {"FAST": (1e-4, 3e-4, 1e-3), "FULL": (3e-6, 1e-5, 3e-5)}
LLC_CHECKPOINTS = {"FAST": 6, "FULL": 8}
LLC_MAX_DRIFT = 0.2   # a trace levels off: its kept second half within this share of the
                      # rise of the first (the trace check of calibrate_run_llc)


def grokking_model(setup: GrokkingSetup, seed: int = 0) -> nn.Module:
    """The setup's model, initialised from ``seed``."""
    if not isinstance(setup, GrokkingSetup):
        raise TypeError(f"setup must be a GrokkingSetup (FAST or FULL), got {setup!r}")
    check_choice("setup.model", setup.model, ["squared_mlp", "transformer"])
    with seeded(check_int("seed", seed, minimum=0)):
        if setup.model == "squared_mlp":
            return SquaredEmbeddingMLP(setup.p, setup.width)
        from ..models.transformer import Transformer
        return Transformer(vocab=setup.p + 1, n_ctx=3, d_model=setup.d_model, n_layers=1,
                           n_heads=setup.n_heads, d_head=setup.d_head, d_mlp=setup.d_mlp,
                           layernorm=False, init_std=setup.init_std)


def answer_logits(model: nn.Module, tokens: torch.Tensor, p: int) -> torch.Tensor:
    """Logits over the p possible answers for tokens (B, 3) ``a b =``: (B, p)."""
    if hasattr(model, "W_pos"):   # a transformer: read out at the "=" position only
        return model(tokens, last_position_only=True)[:, :p]
    return model(tokens)[:, :p]


def grokking_config(setup: GrokkingSetup, seed: int = 0, weight_decay: float | None = None,
                    steps: int | None = None) -> TrainConfig:
    """Full-batch AdamW with the setup's numbers (optionally another weight decay or length)."""
    wd = setup.weight_decay if weight_decay is None else weight_decay
    return TrainConfig(steps=setup.steps if steps is None else steps, lr=setup.lr,
                       batch_size=None, optimizer="adamw", weight_decay=wd, betas=setup.betas,
                       seed=seed)


def weight_norm(model: nn.Module) -> float:
    """L2 norm of all parameters together."""
    return float(torch.sqrt(sum(q.detach().pow(2).sum() for q in model.parameters())))


def evaluate_modular(model: nn.Module, data: ModularData) -> dict[str, float]:
    """Train and test loss and accuracy, and the total weight norm."""
    row = {}
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        logits = answer_logits(model, x, data.p)
        row[f"{split}_loss"] = float(F.cross_entropy(logits, y))
        row[f"{split}_acc"] = float((logits.argmax(-1) == y).float().mean())
    row["weight_norm"] = weight_norm(model)
    return row


@dataclass
class GrokkingRun:
    """A trained run: its setup, data and training result (history, weight snapshots)."""

    setup: GrokkingSetup
    data: ModularData
    result: TrainResult

    @property
    def steps(self) -> np.ndarray:
        return self.result.history["step"]

    def __getitem__(self, name: str) -> np.ndarray:
        return self.result.history[name]


def train_grokking(setup: GrokkingSetup = FAST, seed: int = 0, *,
                   weight_decay: float | None = None, train_frac: float | None = None,
                   steps: int | None = None, log_every: int | None = None,
                   snapshots: bool = True, checkpoint: str | Path | None = None,
                   checkpoint_every: int | None = None, progress: bool = True) -> GrokkingRun:
    """Train the setup's model on modular addition; seed fixes both the split and the weights."""
    if not isinstance(setup, GrokkingSetup):
        raise TypeError(f"setup must be a GrokkingSetup (FAST or FULL), got {setup!r}")
    frac = setup.train_frac if train_frac is None else train_frac
    data = modular_addition(setup.p, frac, seed)
    model = grokking_model(setup, seed)
    config = grokking_config(setup, seed, weight_decay, steps)
    every = setup.log_every if log_every is None else check_int("log_every", log_every, minimum=1)
    p = setup.p

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(answer_logits(m, x, p), y)

    result = train(model, loss_fn, (data.x_train, data.y_train), config,
                   evaluate=lambda m: evaluate_modular(m, data), log_steps=every,
                   snapshots=snapshots, checkpoint=checkpoint,
                   checkpoint_every=checkpoint_every, progress=progress,
                   desc=f"{setup.name} wd={config.weight_decay:g} frac={frac:g}")
    return GrokkingRun(replace(setup, train_frac=frac, weight_decay=config.weight_decay),
                       data, result)


def final_key_frequencies(run: GrokkingRun) -> list[int]:
    """Key frequencies of the run's final model: the fewest, strongest first, whose waves
    cos/sin(w_k (a + b - c)) carry KEY_FREQUENCY_COVERAGE of the logits' a + b - c part."""
    shares = logit_frequency_shares(pair_logits(run.result.model, run.setup.p))
    return covering_frequencies(shares, KEY_FREQUENCY_COVERAGE)


def _load(run: GrokkingRun, step: int) -> nn.Module:
    model = grokking_model(run.setup)
    model.load_state_dict(run.result.snapshots[step])
    return model


def fourier_measures(run: GrokkingRun, freqs: Sequence[int] | None = None, *,
                     draws: int = RANDOM_CONTROL_DRAWS, seed: int = 0,
                     progress: bool = True) -> dict[str, np.ndarray]:
    """At every snapshot: the restricted loss (all pairs) and excluded loss (training pairs) of
    the key frequencies (the final model's unless ``freqs`` is given), and the restricted loss
    of ``draws`` random sets of as many frequencies, the control ("random_restricted",
    (draws, steps)). "key_frequencies" and "random_sets" (draws, size) say which were used."""
    if not run.result.snapshots:
        raise ValueError("this run kept no weight snapshots; train it with snapshots=True")
    freqs = final_key_frequencies(run) if freqs is None else [int(k) for k in freqs]
    random_sets = random_frequency_sets(run.setup.p, len(freqs), draws, seed)
    steps = sorted(run.result.snapshots)
    restricted, excluded, control = [], [], []
    for step in tqdm(steps, desc="Fourier measures", disable=not progress, leave=False):
        logits = pair_logits(_load(run, step), run.setup.p)
        losses = restricted_losses(logits, [freqs, *random_sets])
        restricted.append(losses[0])
        control.append(losses[1:])
        excluded.append(excluded_loss(logits, freqs, run.data.train_idx))
    return {"step": np.asarray(steps), "restricted_loss": np.asarray(restricted),
            "excluded_loss": np.asarray(excluded),
            "random_restricted": np.asarray(control).T,
            "key_frequencies": np.asarray(freqs), "random_sets": np.asarray(random_sets)}


def llc_loss_fn(p: int):
    """The per-batch training loss the SGLD chains sample: mean cross-entropy on (x, y)."""
    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(answer_logits(m, x, p), y)
    return loss_fn


def llc_checkpoints(run: GrokkingRun, n_checkpoints: int, first: float = 1.0) -> list[int]:
    """About ``n_checkpoints`` logged steps from ``first`` (e.g. the memorization step) to the
    last: half spaced evenly in log-step, half evenly in step (to resolve the late jump)."""
    n_checkpoints = check_int("n_checkpoints", n_checkpoints, minimum=2)
    kept = np.asarray(sorted(run.result.snapshots))
    kept = kept[kept >= max(first, 1)]
    if len(kept) < 2:
        raise ValueError(f"this run kept fewer than 2 weight snapshots from step {first}; "
                         f"train with snapshots=True")
    n_log = n_checkpoints - n_checkpoints // 2
    wanted = np.concatenate([np.geomspace(kept[0], kept[-1], n_log),
                             np.linspace(kept[0], kept[-1], n_checkpoints // 2 + 1)[1:]])
    return sorted({int(kept[np.abs(kept - w).argmin()]) for w in wanted})


def _llc_name(run: GrokkingRun) -> str:
    return run.setup.name if run.setup.name in LLC_SETTINGS else "FAST"


def calibrate_run_llc(run: GrokkingRun, step: int, seed: int = 0,
                      first_pass: bool = False) -> Calibration:
    """Try the setup's SGLD step sizes at one checkpoint; keep the largest whose trace passes
    (rises, levels off, and stays below the loss of chance guessing, log p)."""
    name = _llc_name(run)
    return calibrate_llc(_load(run, step), llc_loss_fn(run.setup.p),
                         (run.data.x_train, run.data.y_train), LLC_STEP_SIZES[name],
                         max_drift=LLC_MAX_DRIFT, max_loss=float(np.log(run.setup.p)),
                         first_pass=first_pass,
                         seed=seed, **LLC_SETTINGS[name])


def llc_steps(run: GrokkingRun) -> list[int]:
    """The default LLC checkpoints: LLC_CHECKPOINTS logged steps from memorization on."""
    memorized = first_crossing(run.steps.astype(float), run["train_acc"], MEMORIZED_ACC)
    return llc_checkpoints(run, LLC_CHECKPOINTS[_llc_name(run)],
                           first=run.steps[-1] if memorized is None else memorized)


def llc_over_training(run: GrokkingRun, steps: Sequence[int] | None = None, seed: int = 0,
                      progress: bool = True,
                      calibrated: dict[int, Calibration] | None = None) -> dict[str, np.ndarray]:
    """The LLC at ``steps`` (default: ``llc_steps``), each with the largest step size whose
    trace passes: "step", "llc", "llc_std" (over chains), "lr", "trace_ok", "train_loss" at
    those steps. ``calibrated``: step -> a full ``calibrate_run_llc`` with the same seed, reused
    as it is (it chose the same step size and estimate a first pass would)."""
    steps = llc_steps(run) if steps is None else steps
    rows = []
    for step in tqdm(steps, desc="LLC", disable=not progress, leave=False):
        calibration = ((calibrated or {}).get(int(step))
                       or calibrate_run_llc(run, int(step), seed=seed, first_pass=True))
        estimate = calibration.estimate
        rows.append((estimate.llc, estimate.std, estimate.lr, calibration.lr is not None))
    llc, std, lrs, ok = (np.asarray(col) for col in zip(*rows, strict=True))
    at = np.searchsorted(run.steps, steps)
    return {"step": np.asarray(steps), "llc": llc, "llc_std": std, "lr": lrs,
            "trace_ok": ok.astype(bool), "train_loss": run["train_loss"][at]}


def _fall_by(steps: np.ndarray, curve: np.ndarray, at: float) -> float:
    """How far ``curve`` has fallen from its first value by step ``at``, as a share of it."""
    return float(1.0 - np.interp(at, steps, curve) / curve[0])


@dataclass(frozen=True)
class GrokkingReport:
    """What the detector finds in a run (steps; None where a level was never reached)."""

    memorized_step: float | None
    grokked_step: float | None
    test_acc_at_memorization: float | None
    test_jump_onset: float | None
    restricted_below_start_step: float | None
    leads: dict[str, float | None]
    key_frequencies: tuple[int, ...] = ()
    n_frequencies: int = 0
    key_drop: float | None = None                 # restricted-loss fall by the jump onset
    random_drops: tuple[float, ...] = field(default=())   # the same for each random set
    random_leads: tuple[float | None, ...] = field(default=())

    @property
    def ratio(self) -> float | None:
        """Grokking step over memorization step: how long generalization is delayed."""
        if self.memorized_step is None or self.grokked_step is None:
            return None
        return self.grokked_step / max(self.memorized_step, 1.0)

    @property
    def random_lead_median(self) -> float | None:
        """Median lead of the random-frequency control (None if no random set had one)."""
        kept = [v for v in self.random_leads if v is not None]
        return float(np.median(kept)) if kept else None

    def summary(self) -> str:
        def show(v: float | None, fmt: str = ",.0f") -> str:
            return "never" if v is None else format(v, fmt)
        lines = [f"memorized (train acc >= {MEMORIZED_ACC:.0%}) at step "
                 f"{show(self.memorized_step)}",
                 f"test accuracy then: {show(self.test_acc_at_memorization, '.1%')}",
                 f"grokked (test acc >= {GROKKED_ACC:.0%}) at step {show(self.grokked_step)}",
                 f"ratio grokked / memorized: {show(self.ratio, '.1f')}"
                 f"{'x' if self.ratio is not None else ''}",
                 f"test-accuracy jump begins (10% of its rise) at step "
                 f"{show(self.test_jump_onset)}",
                 f"restricted loss first stays below its starting value at step "
                 f"{show(self.restricted_below_start_step)}"]
        for name, steps in self.leads.items():
            lines.append(f"{name} leads the test-accuracy jump by {show(steps)} steps")
        if self.key_frequencies:
            lines.append(f"key frequencies ({len(self.key_frequencies)} of "
                         f"{self.n_frequencies}): {list(self.key_frequencies)}")
            lines.append(f"restricted loss fallen by the jump onset: key {self.key_drop:.0%}, "
                         f"random sets of as many (median of {len(self.random_drops)}) "
                         f"{np.median(self.random_drops):.0%}; random-set lead (median) "
                         f"{show(self.random_lead_median)} steps")
        return "\n".join(lines)


def grokking_report(run: GrokkingRun, measures: dict[str, np.ndarray] | None = None
                    ) -> GrokkingReport:
    """Memorization and grokking steps, and how far each progress measure leads test accuracy
    (``measures``: the output of ``fourier_measures``, on the same logged steps)."""
    steps = run.steps.astype(float)
    train_acc, test_acc = run["train_acc"], run["test_acc"]
    memorized = first_crossing(steps, train_acc, MEMORIZED_ACC, "up")
    grokked = first_crossing(steps, test_acc, GROKKED_ACC, "up")
    at_mem = None if memorized is None else float(np.interp(memorized, steps, test_acc))
    jump = detect_transition(steps, test_acc, start=float(test_acc[0]), end=1.0)
    onset = None if jump is None else jump.onset
    leads: dict[str, float | None] = {"weight norm": lead(steps, run["weight_norm"], test_acc),
                                      "test loss": lead(steps, run["test_loss"], test_acc)}
    if measures is None:
        return GrokkingReport(memorized, grokked, at_mem, onset, None, leads)
    if not np.array_equal(measures["step"], run.steps):
        raise ValueError("measures must be computed on the run's logged steps")
    restricted = measures["restricted_loss"]
    below = first_crossing(steps, restricted, float(restricted[0]) - 1e-6, "down",
                           sustained=True)
    leads["restricted loss"] = lead(steps, restricted, test_acc)
    # the excluded loss first falls (memorization), then rises: time its rise from its minimum
    low = int(np.argmin(measures["excluded_loss"]))
    leads["excluded loss"] = (lead(steps[low:], measures["excluded_loss"][low:],
                                   test_acc[low:]) if len(steps) - low >= 6 else None)
    at = steps[-1] if onset is None else onset
    control = measures["random_restricted"]
    return GrokkingReport(
        memorized, grokked, at_mem, onset, below, leads,
        key_frequencies=tuple(int(k) for k in measures["key_frequencies"]),
        n_frequencies=(run.setup.p - 1) // 2, key_drop=_fall_by(steps, restricted, at),
        random_drops=tuple(_fall_by(steps, c, at) for c in control),
        random_leads=tuple(lead(steps, c, test_acc) for c in control))


def phases(report: GrokkingReport, last_step: float) -> list[tuple[str, float, float]]:
    """Nanda et al.'s three phases as step ranges: memorization (until train accuracy reaches
    99%), circuit formation (until test accuracy begins its jump), cleanup (until it reaches
    95%). Phases whose ends were never reached are left out or end at ``last_step``."""
    names = ("memorization", "circuit formation", "cleanup")
    ends = (report.memorized_step, report.test_jump_onset, report.grokked_step)
    out, start = [], 0.0
    for name, end in zip(names, ends, strict=True):
        stop = last_step if end is None else end
        if stop > start:
            out.append((name, start, stop))
        if end is None:
            break
        start = end
    return out


def transition_fit(run: GrokkingRun, n_boot: int = 200, seed: int = 0) -> LogisticFit:
    """The logistic in log-step fitted to test accuracy (floor at chance 1/p, ceiling 1), with
    bootstrap intervals and a straight line in log-step for comparison."""
    steps = run.steps
    keep = steps > 0
    return fit_logistic(steps[keep], run["test_acc"][keep], floor=1.0 / run.setup.p, ceil=1.0,
                        n_boot=n_boot, seed=seed)


def chapter_verdict(report: GrokkingReport, fit: LogisticFit) -> Verdict:
    """Chapter 3's computed verdict (``checks.ch03.grokking_verdict``) from the run's report and
    its logistic fit."""
    if not report.key_frequencies:
        raise ValueError("the report has no key frequencies: pass fourier_measures to "
                         "grokking_report")
    return grokking_verdict(
        memorized_step=report.memorized_step, grokked_step=report.grokked_step,
        test_acc_at_memorization=report.test_acc_at_memorization,
        restricted_below_start_step=report.restricted_below_start_step,
        test_jump_onset=report.test_jump_onset,
        restricted_lead=report.leads.get("restricted loss"),
        n_key=len(report.key_frequencies), n_frequencies=report.n_frequencies,
        key_drop=report.key_drop, random_drops=report.random_drops,
        logistic_r2=fit.r2, linear_r2=fit.linear.r2)


def run_llc_verdict(report: GrokkingReport, llc: dict[str, np.ndarray]) -> Verdict:
    """What the LLC does over training (``checks.ch03.llc_verdict``), from ``llc_over_training``."""
    return llc_verdict(steps=llc["step"], llc=llc["llc"], train_loss=llc["train_loss"],
                       test_jump_onset=report.test_jump_onset, grokked_step=report.grokked_step,
                       traces_passed=int(np.sum(llc["trace_ok"])), traces=len(llc["trace_ok"]))


# FULL results: a committed artefact written by scripts/full_results.py (package data).
FULL_RESULTS_FILE = "03_grokking_full.json"


def load_full_results() -> dict | None:
    """The committed FULL run of this chapter (histories at the logged steps, key numbers,
    commit, machine), or None if the package has none."""
    path = resources.files("emergence_lib.results").joinpath(FULL_RESULTS_FILE)
    if not path.is_file():
        return None
    return json.loads(path.read_text())


def grokking_grid(weight_decays: Sequence[float] = GRID_WEIGHT_DECAYS,
                  train_fracs: Sequence[float] = GRID_TRAIN_FRACS, *, steps: int = GRID_STEPS,
                  seed: int = 0, progress: bool = True) -> dict[tuple[float, float], GrokkingRun]:
    """Small FAST runs over weight decay x train fraction, for the chapter's widget. (Training
    them as one batched model gave the same runs but was slower on one CPU thread: the step is
    compute-bound, elementwise work on (runs, pairs, width) tensors, not call overhead.)"""
    if not weight_decays or not train_fracs:
        raise ValueError(f"weight_decays and train_fracs must be non-empty, got "
                         f"{list(weight_decays)} and {list(train_fracs)}")
    pairs = [(check_float("weight_decay", wd, minimum=0.0), f) for wd in weight_decays
             for f in train_fracs]
    runs = {}
    for wd, frac in tqdm(pairs, desc="grid", disable=not progress, leave=False):
        runs[(wd, frac)] = train_grokking(FAST, seed, weight_decay=wd, train_frac=frac,
                                          steps=steps, log_every=GRID_LOG_EVERY,
                                          snapshots=False, progress=False)
    return runs


def train_main(setup: GrokkingSetup = FAST, seed: int = 0, *,
               progress: bool = True) -> GrokkingRun:
    """The chapter's main run, with weight snapshots at every logged step. FAST trains through
    the fused instance path (``instances.train_instances``: the run of ``train_grokking`` to
    float tolerance, about half the CPU a step); FULL's transformer through ``train``."""
    if not isinstance(setup, GrokkingSetup):
        raise TypeError(f"setup must be a GrokkingSetup (FAST or FULL), got {setup!r}")
    if setup.model == "squared_mlp":
        from ..instances import train_instances  # instances builds on this module
        return train_instances(setup, weight_decays=[setup.weight_decay], seeds=[seed],
                               snapshots=True, progress=progress)[0]
    return train_grokking(setup, seed, progress=progress)


@dataclass(frozen=True)
class DelayPoint:
    """One run of the delay sweep: its weight decay and seed, and the steps at which train
    accuracy reached MEMORIZED_ACC and test accuracy GROKKED_ACC (None: not within the run)."""

    weight_decay: float
    seed: int
    memorized: float | None
    grokked: float | None

    @property
    def delay(self) -> float | None:
        """Steps from memorization to grokking."""
        if self.memorized is None or self.grokked is None:
            return None
        return self.grokked - self.memorized


def delay_point(run: GrokkingRun, seed: int) -> DelayPoint:
    """The memorization and grokking steps of one run."""
    rep = grokking_report(run)
    return DelayPoint(float(run.setup.weight_decay), int(seed), rep.memorized_step,
                      rep.grokked_step)


def delay_sweep(grid: dict[tuple[float, float], GrokkingRun], seed: int = 0, *,
                progress: bool = True) -> list[DelayPoint]:
    """The delay sweep: the grid's DELAY_TRAIN_FRAC runs (trained with ``seed``) and, at the same
    weight decays, seeds ``seed + k`` for k in DELAY_SEEDS, trained as instances that stop at
    GROKKED_ACC test accuracy (or after GRID_STEPS). Points ordered by seed, then weight decay."""
    from ..instances import train_instances  # instances builds on this module
    seed = check_int("seed", seed, minimum=0)
    wds = sorted({wd for wd, f in grid if f == DELAY_TRAIN_FRAC})
    if len(wds) < 2:
        raise ValueError(f"grid must hold runs at train fraction {DELAY_TRAIN_FRAC} for at "
                         f"least 2 weight decays, got keys {sorted(grid)}")
    points = [delay_point(grid[(wd, DELAY_TRAIN_FRAC)], seed) for wd in wds]
    extra = [seed + k for k in DELAY_SEEDS]
    runs = train_instances(FAST, weight_decays=[wd for s in extra for wd in wds],
                           train_fracs=DELAY_TRAIN_FRAC, seeds=[s for s in extra for _ in wds],
                           steps=GRID_STEPS, log_every=GRID_LOG_EVERY, until=GROKKED_ACC,
                           progress=progress)
    seeds = [s for s in extra for _ in wds]
    return points + [delay_point(r, s) for r, s in zip(runs, seeds, strict=True)]


# The frontier exercise's estimator: weight decay shrinks the memorizing weights; generalization
# comes when the total weight norm has fallen to the norm at which a reference run generalized.
# Measure the norm's exponential decay rate over PREDICTION_WINDOW steps after memorization and
# extrapolate. Target: every prediction within PREDICTION_TOLERANCE of the measured step.
PREDICTION_WINDOW = 100
PREDICTION_TOLERANCE = 0.3


def predict_grok_step(run: GrokkingRun, critical_norm: float,
                      window: int = PREDICTION_WINDOW) -> float | None:
    """Predicted grokking step from the run's weight norm up to ``window`` steps after
    memorization: t_m + window + log(N(t_m + window) / critical_norm) / r, where r is the
    norm's log-decay rate per step over that window. None if the run never memorized or its
    norm is not falling there."""
    critical_norm = check_float("critical_norm", critical_norm, minimum=0.0, strict_min=True)
    window = check_int("window", window, minimum=1)
    steps = run.steps.astype(float)
    memorized = first_crossing(steps, run["train_acc"], MEMORIZED_ACC)
    if memorized is None:
        return None
    log_norm = np.log(run["weight_norm"])
    end = memorized + window
    if end > steps[-1]:
        return None
    n0, n1 = np.interp(memorized, steps, log_norm), np.interp(end, steps, log_norm)
    rate = (n0 - n1) / window
    if rate <= 0:
        return None
    return float(end + max(n1 - np.log(critical_norm), 0.0) / rate)


def critical_norm(run: GrokkingRun) -> float:
    """The total weight norm at the step the run reached GROKKED_ACC test accuracy."""
    grokked = grokking_report(run).grokked_step
    if grokked is None:
        raise ValueError("the reference run never reached the grokked level; its critical "
                         "norm is undefined")
    return float(np.interp(grokked, run.steps.astype(float), run["weight_norm"]))


def transition_record(run: GrokkingRun, report: GrokkingReport, fit: LogisticFit,
                      measures: dict[str, np.ndarray],
                      prediction: PredictionOutcome | None = None):
    """Chapter 3's main transition for the atlas (``atlas.TransitionRecord``): test accuracy over
    training steps, the key-frequency restricted loss as its progress measure, chance and 1 as
    floor and ceiling, and the chapter's answers to the three questions from its numbers
    (predictable: whether ``prediction``, the frontier estimator, met its target; None without
    it, since a fit after the fact predicts nothing). Threshold, steepness and R² are the
    chapter's own ``fit`` (floor at chance, ceiling 1)."""
    from .. import atlas
    from ..checks.ch03 import MIN_DELAY, MIN_LEAD

    steps = run.steps.astype(float)
    keep = steps > 0
    loss_lead = report.leads.get("test loss")
    onset, memorized = report.test_jump_onset, report.memorized_step
    if onset is None or memorized is None or loss_lead is None:
        artefact = (None, "The run did not memorize and then jump, so the question of the "
                          "metric does not arise.")
    else:
        loss_start = onset - loss_lead
        late = loss_start / max(memorized, 1.0)
        if late >= MIN_DELAY:
            artefact = (False, f"Not the metric: the test loss, a continuous score, begins to "
                               f"fall only at step {loss_start:,.0f}, {late:.0f}x the "
                               f"memorization step, so the delay is in the network, not in "
                               f"thresholding accuracy.")
        else:
            artefact = (None, f"The test loss begins to fall at step {loss_start:,.0f}, only "
                              f"{late:.1f}x the memorization step: we could not show that a "
                              f"continuous score has the same delay.")
    lead_r = report.leads.get("restricted loss")
    if lead_r is not None and lead_r >= MIN_LEAD:
        hidden = (True, f"Yes: the key-frequency restricted loss leads the test-accuracy jump "
                        f"by {lead_r:,.0f} steps.")
    else:
        shown = "no lead" if lead_r is None else f"a lead of {lead_r:,.0f} steps"
        hidden = (False, f"Not shown: the restricted loss has {shown} (the rule asks for "
                         f"{MIN_LEAD:,.0f}).")
    lo, hi = fit.intervals["threshold"]
    described = (f"After the fact a logistic in log-step describes the jump (R² {fit.r2:.3f} "
                 f"against {fit.linear.r2:.3f} for a line; midpoint {fit.threshold:,.0f}, 95% "
                 f"interval [{lo:,.0f}, {hi:,.0f}]).")
    predictable = ((None, described + " No prediction before the jump was attempted.")
                   if prediction is None else
                   (prediction.met, described + " Before the jump: " + prediction.sentence()))
    printed = {"ch03_memorized": format(memorized or float("nan"), ",.0f"),
               "ch03_grokked": format(report.grokked_step or float("nan"), ",.0f"),
               "ch03_threshold": format(fit.threshold, ",.0f"),
               "ch03_steepness": format(fit.steepness, ".1f")}
    if lead_r is not None:
        printed["ch03_restricted_lead"] = format(lead_r, ",.0f")
    made = atlas.transition_record(
        chapter="03_grokking", phenomenon="grokking", parameter="training step", unit="steps",
        x=steps[keep], metric=run["test_acc"][keep], metric_name="test accuracy",
        floor=1.0 / run.setup.p, ceil=1.0, progress=measures["restricted_loss"][keep],
        progress_name="restricted loss (key frequencies)",
        answers={"metric_artefact": artefact, "hidden_progress": hidden,
                 "predictable": predictable},
        printed=printed, fit=False,
        notes=f"{run.setup.name} setup, p = {run.setup.p}, weight decay "
              f"{run.setup.weight_decay:g}, train fraction {run.setup.train_frac:g}.")
    k_lo, k_hi = fit.intervals["steepness"]
    return replace(made, threshold=float(fit.threshold), threshold_interval=(float(lo), float(hi)),
                   steepness=float(fit.steepness), steepness_interval=(float(k_lo), float(k_hi)),
                   r2=float(fit.r2), r2_linear=float(fit.linear.r2))


@dataclass(frozen=True)
class PredictionOutcome:
    """The frontier estimator on the grid: predicted and measured grokking steps per run (keys
    (weight decay, train fraction)), against the tolerance."""

    predicted: dict[tuple[float, float], float | None]
    measured: dict[tuple[float, float], float | None]
    tolerance: float
    critical_norm: float

    def errors(self) -> dict[tuple[float, float], float]:
        """|predicted / measured - 1| for the runs that grokked and got a prediction."""
        return {k: abs(self.predicted[k] / m - 1) for k, m in self.measured.items()
                if m is not None and self.predicted[k] is not None}

    @property
    def within(self) -> int:
        return sum(e <= self.tolerance for e in self.errors().values())

    @property
    def met(self) -> bool:
        """Every run that grokked got a prediction within the tolerance."""
        grokked = [k for k, m in self.measured.items() if m is not None]
        return bool(grokked) and self.within == len(grokked)

    def sentence(self) -> str:
        errors = self.errors()
        n = sum(m is not None for m in self.measured.values())
        worst = max(errors.values()) if errors else float("nan")
        median = float(np.median(list(errors.values()))) if errors else float("nan")
        if self.met:
            return (f"Target met: the weight-norm estimator predicted all {n} grokking steps "
                    f"within {self.tolerance:.0%} (median error {median:.0%}, worst {worst:.0%}).")
        return (f"Target not met: the weight-norm estimator predicted {self.within} of {n} "
                f"grokking steps within {self.tolerance:.0%} (median error {median:.0%}, worst "
                f"{worst:.0%}): the norm at which a run generalizes is not one number across "
                f"weight decays and train fractions, and the plateau's decay rate is not the "
                f"early one.")


def prediction_outcome(main: GrokkingRun, grid: dict[tuple[float, float], GrokkingRun],
                       window: int = PREDICTION_WINDOW) -> PredictionOutcome:
    """``predict_grok_step`` for every grid run, with the main run's critical norm."""
    norm = critical_norm(main)
    return PredictionOutcome(
        predicted={k: predict_grok_step(g, norm, window) for k, g in grid.items()},
        measured={k: grokking_report(g).grokked_step for k, g in grid.items()},
        tolerance=PREDICTION_TOLERANCE, critical_norm=norm)
