"""The grokking recipe of chapter 3 (COURSE.md section 3): modular addition learned long after it
is memorized. Every number of the FAST and FULL setups lives here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .._validate import check_choice, check_float, check_int
from ..detect import detect_transition, first_crossing, lead
from ..models.modular_mlp import SquaredEmbeddingMLP
from ..progress.fourier import (
    excluded_loss,
    key_frequencies,
    logit_frequency_shares,
    pair_logits,
    restricted_loss,
)
from ..progress.llc import estimate_llc
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
                     weight_decay=0.3, betas=(0.9, 0.98), steps=2_000, log_every=10, width=256)
# FULL: Nanda et al. (2023): one-layer ReLU transformer, no LayerNorm, tokens "a b =".
FULL = GrokkingSetup(name="FULL", p=113, train_frac=0.3, model="transformer", lr=1e-3,
                     weight_decay=1.0, betas=(0.9, 0.98), steps=10_000, log_every=100,
                     d_model=128, n_heads=4, d_head=32, d_mlp=512)

# The weight-decay x train-fraction widget: small FAST runs, precomputed.
GRID_WEIGHT_DECAYS = (0.1, 0.3, 0.5)
GRID_TRAIN_FRACS = (0.4, 0.5, 0.6)
GRID_STEPS = 1_500
GRID_LOG_EVERY = 25

# Detection levels, used by the report and the chapter's check cell.
MEMORIZED_ACC = 0.99     # train accuracy that counts as memorized
GROKKED_ACC = 0.95       # test accuracy that counts as generalized

# The local learning coefficient: SGLD settings (Lau et al. 2023) and how many checkpoints.
LLC_SETTINGS = {"lr": 3e-5, "localization": 100.0, "steps": 150, "burnin": 50, "chains": 2,
                "batch_size": 512}
LLC_CHECKPOINTS = 10
KEY_FREQUENCY_THRESHOLD = 0.25  # a key frequency carries >= 25% of the strongest one's share


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
                   progress: bool = True) -> GrokkingRun:
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
                   snapshots=snapshots, checkpoint=checkpoint, progress=progress,
                   desc=f"{setup.name} wd={config.weight_decay:g} frac={frac:g}")
    return GrokkingRun(replace(setup, train_frac=frac, weight_decay=config.weight_decay),
                       data, result)


def final_key_frequencies(run: GrokkingRun, n: int | None = None) -> list[int]:
    """Key frequencies of the run's final model, read off the Fourier spectrum of its logits
    (the share of each frequency's cos/sin(w_k (a + b - c)))."""
    shares = logit_frequency_shares(pair_logits(run.result.model, run.setup.p))
    return key_frequencies(shares, n=n, threshold=KEY_FREQUENCY_THRESHOLD)


def _load(run: GrokkingRun, step: int) -> nn.Module:
    model = grokking_model(run.setup)
    model.load_state_dict(run.result.snapshots[step])
    return model


def fourier_measures(run: GrokkingRun, freqs: Sequence[int] | None = None,
                     progress: bool = True) -> dict[str, np.ndarray]:
    """Restricted loss (all pairs) and excluded loss (training pairs) at every snapshot, with
    the key frequencies of the final model unless ``freqs`` is given."""
    if not run.result.snapshots:
        raise ValueError("this run kept no weight snapshots; train it with snapshots=True")
    freqs = final_key_frequencies(run) if freqs is None else list(freqs)
    steps = sorted(run.result.snapshots)
    restricted, excluded = [], []
    for step in tqdm(steps, desc="Fourier measures", disable=not progress, leave=False):
        logits = pair_logits(_load(run, step), run.setup.p)
        restricted.append(restricted_loss(logits, freqs))
        excluded.append(excluded_loss(logits, freqs, run.data.train_idx))
    return {"step": np.asarray(steps), "restricted_loss": np.asarray(restricted),
            "excluded_loss": np.asarray(excluded)}


def llc_over_training(run: GrokkingRun, n_checkpoints: int = LLC_CHECKPOINTS, seed: int = 0,
                      progress: bool = True, **settings: float) -> dict[str, np.ndarray]:
    """The local learning coefficient at about ``n_checkpoints`` log-spaced snapshots."""
    n_checkpoints = check_int("n_checkpoints", n_checkpoints, minimum=2)
    kept = np.asarray(sorted(run.result.snapshots))
    if len(kept) < 2:
        raise ValueError("this run kept fewer than 2 weight snapshots; train with snapshots=True")
    wanted = np.geomspace(max(kept[1], 1), kept[-1], n_checkpoints)
    steps = sorted({int(kept[np.abs(kept - w).argmin()]) for w in wanted})
    options = {**LLC_SETTINGS, **settings}
    p = run.setup.p

    def loss_fn(m: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(answer_logits(m, x, p), y)

    llc, std = [], []
    for step in tqdm(steps, desc="LLC", disable=not progress, leave=False):
        estimate = estimate_llc(_load(run, step), loss_fn, (run.data.x_train, run.data.y_train),
                                seed=seed, **options)
        llc.append(estimate.llc)
        std.append(estimate.std)
    return {"step": np.asarray(steps), "llc": np.asarray(llc), "llc_std": np.asarray(std)}


@dataclass(frozen=True)
class GrokkingReport:
    """What the detector finds in a run (steps; None where a level was never reached)."""

    memorized_step: float | None
    grokked_step: float | None
    test_acc_at_memorization: float | None
    test_jump_onset: float | None
    restricted_below_start_step: float | None
    leads: dict[str, float | None]

    @property
    def ratio(self) -> float | None:
        """Grokking step over memorization step: how long generalization is delayed."""
        if self.memorized_step is None or self.grokked_step is None:
            return None
        return self.grokked_step / max(self.memorized_step, 1.0)

    def summary(self) -> str:
        def show(v: float | None, fmt: str = ",.0f") -> str:
            return "never" if v is None else format(v, fmt)
        lines = [f"memorized (train acc >= {MEMORIZED_ACC:.0%}) at step "
                 f"{show(self.memorized_step)}",
                 f"test accuracy then: {show(self.test_acc_at_memorization, '.1%')}",
                 f"grokked (test acc >= {GROKKED_ACC:.0%}) at step {show(self.grokked_step)}",
                 f"ratio grokked / memorized: {show(self.ratio, '.1f')}x",
                 f"test-accuracy jump begins (10% of its rise) at step "
                 f"{show(self.test_jump_onset)}",
                 f"restricted loss first stays below its starting value at step "
                 f"{show(self.restricted_below_start_step)}"]
        for name, steps in self.leads.items():
            lines.append(f"{name} leads the test-accuracy jump by {show(steps)} steps")
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
    below = None
    if measures is not None:
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
    return GrokkingReport(memorized, grokked, at_mem, onset, below, leads)


def grokking_grid(weight_decays: Sequence[float] = GRID_WEIGHT_DECAYS,
                  train_fracs: Sequence[float] = GRID_TRAIN_FRACS, *, steps: int = GRID_STEPS,
                  seed: int = 0, progress: bool = True) -> dict[tuple[float, float], GrokkingRun]:
    """Small FAST runs over weight decay x train fraction, for the chapter's widget."""
    if not weight_decays or not train_fracs:
        raise ValueError(f"weight_decays and train_fracs must be non-empty, got "
                         f"{list(weight_decays)} and {list(train_fracs)}")
    runs = {}
    pairs = [(check_float("weight_decay", wd, minimum=0.0), f) for wd in weight_decays
             for f in train_fracs]
    for wd, frac in tqdm(pairs, desc="grid", disable=not progress, leave=False):
        runs[(wd, frac)] = train_grokking(FAST, seed, weight_decay=wd, train_frac=frac,
                                          steps=steps, log_every=GRID_LOG_EVERY,
                                          snapshots=False, progress=False)
    return runs
