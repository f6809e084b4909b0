"""Chapter 9, part 1: the phase-transition recipe as written (COURSE.md section 9). A gated
micro-transformer on nested if-then-else programs, the gating metric G after each log, and the
sweep of context length x heads whose accuracy is fitted against the capacity proxy C_sweep.
Every number of the setup lives here.

The recipe: 3 layers, 3 heads, ``head_gates=True``; batch 32, AdamW lr 3e-4, weight decay 1e-2,
gradient clipping 1.0; float32 for the first 400 steps, then bfloat16 autocast on a CPU (float16
on a GPU); up to 1,000 steps with patience 10 on validation loss; a log every 200 steps, G after
each log; the sweep: context 80-160 x heads 3-6. Numbers the recipe leaves open are chosen here
and marked so (d_model, MLP width, the data sizes).

Measured on this repository's fast machine kind (1 thread, ``benchmark_step``; STEP_SECONDS): a
training step at context 128, 3 heads costs ~95 ms in float32 on the full padded context, ~51 ms
on the trimmed one (``trim_padding``, exact: see ``readout_logits``) and ~4x more under bfloat16
autocast: this CPU has no bfloat16 instructions, so the recipe's reduced precision is a
slowdown here, not a speed-up.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import sweep
from .._validate import _show, check_int
from ..capacity import transformer_capacity
from ..fit import fit_logistic, leave_one_out_r2
from ..gating import explicit_gate_logits, gating_ratio
from ..metrics import wilson_interval
from ..models import Transformer
from ..tasks.conditionals import (
    SEED,
    VOCAB_SIZE,
    ConditionalPrograms,
    conditional_programs,
    max_length,
)
from ..tasks.conditionals import describe as describe  # re-exported: the page's printer
from ..train import TrainConfig, train
from ..utils import seeded


@dataclass(frozen=True)
class ConditionalsRecipe:
    """One setup of part 1: task, model, optimisation and sweep numbers."""

    # task (the recipe: depth 3-5, padded to 128, vocabulary 256, seed 42)
    min_depth: int = 3
    max_depth: int = 5
    n_ctx: int = 128                 # the recipe's padded length (train_point's default)
    n_vars: int = 8                  # chosen here: 8 bindings, so the longest program is 71
    n_values: int = 10               #   tokens and fits the shortest swept context (80)
    n_labels: int = 10
    data_seed: int = SEED
    n_train: int = 16_384            # chosen here: a fixed training set, sampled with replacement
    n_val: int = 512                 # validation: loss and accuracy at each log (early stopping)
    n_test: int = 1_024              # test: the final accuracy and the shortcut baselines
    n_gate: int = 128                # held-out programs for G and the head ablations
    # model (the recipe: 3 layers, 3 heads, gated heads)
    n_layers: int = 3
    n_heads: int = 3
    d_model: int = 60                # chosen here: divisible by every swept head count 3-6
    d_mlp: int = 240                 # chosen here: 4 x d_model, GPT's ratio
    layernorm: bool = True
    # optimisation (the recipe)
    batch_size: int = 32
    lr: float = 3e-4
    weight_decay: float = 1e-2
    clip_grad_norm: float = 1.0
    autocast_after: int | None = 400  # float32 before this step, reduced precision from it
    steps: int = 1_000
    patience: int | None = 10         # logs without a lower validation loss before stopping
    log_every: int = 200
    trim_padding: bool = False        # compute only up to the read-out (exact; faster)
    # sweep (the recipe: context length 80-160 x heads 3-6)
    contexts: tuple[int, ...] = (80, 100, 120, 140, 160)
    heads: tuple[int, ...] = (3, 4, 5, 6)
    seeds: tuple[int, ...] = (0, 1, 2)

    @property
    def chance(self) -> float:
        """Accuracy of a uniform guess among the labels."""
        return 1.0 / self.n_labels

    @property
    def patience_can_fire(self) -> bool:
        """Whether early stopping can stop a run at all: it needs ``patience`` logs after the
        first one, and a run logs ``steps // log_every`` times after step 0. The recipe's
        patience 10 with a log every 200 of 1,000 steps (5 logs) never can."""
        return self.patience is not None and self.patience < self.steps // self.log_every


RECIPE = ConditionalsRecipe()
# CPU seconds of one training step on the full padded context (benchmark_step, 1 thread, fast
# machine kind, a shared machine), keyed (context, heads): (float32, bfloat16 autocast).
STEP_SECONDS = {(80, 3): (0.053, 0.217), (80, 6): (0.061, 0.300),
                (120, 3): (0.092, 0.333), (120, 6): (0.105, 0.448),
                (160, 3): (0.112, 0.440), (160, 6): (0.139, 0.601)}
# FULL: the recipe's 1,000 steps everywhere over the whole 5 x 4 grid, seed 0 (20 trainings),
# the padding trimmed (the same training to float rounding: its four corners took 135-187 s
# each, PROBES). The chapter's FULL run (December 2026, 2 loky workers of 1 thread) spent
# 1,873 s wall on this grid; every point ended at 18-22% test accuracy. RECIPE itself (3 seeds,
# the full padded context) is the recipe to the letter: ESTIMATE from STEP_SECONDS, 400
# float32 steps (~0.09 s) + 600 bfloat16 steps (~0.39 s) ~ 270 s a training, ~4.5 h of CPU at
# one thread; not run.
FULL = replace(RECIPE, seeds=(0,), trim_padding=True)
# Single trainings measured once (seed 0, context 128, 3 heads, the padding trimmed; test
# accuracy on 1,024 programs, where the best shortcut, the outer condition alone, scores ~44% and
# a random leaf of the program ~21%): the recipe as written, and 4x its steps at a 3.3x larger
# lr in float32; and the four corners of the grid at the recipe's 1,000 steps (647 s of CPU in
# all). Every one ends at the random-leaf level, far below the outer-condition shortcut.
PROBES = {
    "the recipe as written (1,000 steps)": {
        "accuracy": 0.205, "val_loss": 1.90, "stop_reason": "steps", "cpu_s": 153,
        "accuracy_by_depth": {"3": 0.27, "4": 0.21, "5": 0.13},
        # every prediction is one of the program's leaves, none favoured: a leaf at random
        "agreement": {"any leaf": 1.00, "outer condition alone": 0.20, "first leaf": 0.18,
                      "last leaf": 0.16},
        "G_ratio": (0.94, 1.10, 1.95, 2.04, 2.33, 2.64)},       # steps 0, 200, ..., 1,000
    "4,000 steps, lr 1e-3, float32, no early stopping": {
        "accuracy": 0.211, "val_loss": 1.86, "stop_reason": "steps", "cpu_s": 223,
        "G_ratio": (1.13, 1.40, 1.27, 1.05, 1.05, 0.89, 1.07, 1.41, 1.37)},  # every 500 steps
    # FAST's grid at the recipe's numbers (run_sweep of replace(RECIPE, contexts=(80, 160),
    # heads=(3, 6), seeds=(0,), trim_padding=True)); shortcut on that test set 41.9%. A line in
    # log C fits the four accuracies (R^2 0.96) but they span 2.2 points, less than one
    # accuracy's 95% interval (~5 points); the logistic's LOO R^2 is -66.9.
    "corners at 1,000 steps": {
        "accuracy": {(80, 3): 0.188, (80, 6): 0.202, (160, 3): 0.194, (160, 6): 0.210},
        "final_G_ratio": {(80, 3): 3.93, (80, 6): 2.69, (160, 3): 5.13, (160, 6): 10.75},
        "any_leaf": 1.00, "cpu_s": {(80, 3): 140, (80, 6): 187, (160, 3): 135, (160, 6): 185},
        "linear_r2": 0.96, "logistic_r2": -22.6, "loo_r2": -66.9},
}
# FAST (part 1's ~25 s of CPU at 1 thread): the four corners of the grid, one seed, the first
# 120 steps of the recipe (all float32, as the recipe's first 400 steps are), a log every 30
# steps, the padding trimmed (exact), smaller data sets. In 120 steps the model learns which
# tokens are labels (validation loss near ln 10) and answers the most frequent one; 40 steps
# did not reach that (loss ~4.1), 160 steps gave the same answers as 120. FAST shows the
# procedure, the shortcut baselines and the plateau; PROBES (the same corners at the recipe's
# 1,000 steps) and FULL show what the recipe's budget gives.
FAST = replace(RECIPE, contexts=(80, 160), heads=(3, 6), seeds=(0,), steps=120, log_every=30,
               trim_padding=True, n_train=4_096, n_val=128, n_test=512, n_gate=64)
CACHE = Path(".cache") / "conditionals"
SWEEP_FIELDS = ("contexts", "heads", "seeds")   # the grid, not part of one training's config


# --- data ---

@functools.lru_cache(maxsize=4)
def _programs(n: int, min_depth: int, max_depth: int, n_vars: int, n_values: int,
              n_labels: int, seed: int) -> ConditionalPrograms:
    n_ctx = max_length(max_depth, n_vars)
    return conditional_programs(n, min_depth=min_depth, max_depth=max_depth, n_ctx=n_ctx,
                                n_vars=n_vars, n_values=n_values, n_labels=n_labels, seed=seed)


def programs(setup: ConditionalsRecipe = RECIPE, n_ctx: int | None = None
             ) -> dict[str, ConditionalPrograms]:
    """The setup's train / val / test / gate splits of one seeded draw (seed 42), padded to
    ``n_ctx`` (default ``setup.n_ctx``)."""
    _check_setup(setup)
    sizes = {"train": setup.n_train, "val": setup.n_val, "test": setup.n_test,
             "gate": setup.n_gate}
    every = _programs(sum(sizes.values()), setup.min_depth, setup.max_depth, setup.n_vars,
                      setup.n_values, setup.n_labels, setup.data_seed)
    every = every.padded(setup.n_ctx if n_ctx is None else n_ctx)
    out, start = {}, 0
    for name, size in sizes.items():
        out[name] = every.subset(slice(start, start + size))
        start += size
    return out


def _check_setup(setup: object) -> ConditionalsRecipe:
    if not isinstance(setup, ConditionalsRecipe):
        raise TypeError(f"setup must be a ConditionalsRecipe (e.g. FAST or FULL), got "
                        f"{_show(setup)}")
    return setup


# --- shortcut baselines ---

def shortcut_baselines(setup: ConditionalsRecipe = RECIPE) -> dict[str, float]:
    """Test accuracy of the shortcuts any model must beat, chosen on the training split where
    a choice is made: the most frequent label, a fixed leaf (the best reading-order slot, first
    to last or last to first), a random leaf of the program (expected accuracy, the mean of
    1 / (depth + 1): what a model that knows the answer is a leaf but not which one scores),
    the outermost condition alone (evaluated exactly; where it picks the nested chain, that
    chain's outermost leaf), and chance (1 / n_labels)."""
    data = programs(setup)
    train_set, test = data["train"], data["test"]
    counts = torch.bincount(train_set.answers, minlength=VOCAB_SIZE)
    frequent = int(counts.argmax())

    def slot_answers(p: ConditionalPrograms, slot: int) -> torch.Tensor:
        """Leaf labels at reading-order slot ``slot`` (negative: counted from the last leaf)."""
        if slot >= 0:
            return p.reading[:, slot]
        index = (p.reading >= 0).sum(1) + slot                              # (N,)
        picked = p.reading.gather(1, index.clamp(min=0)[:, None])[:, 0]
        return torch.where(index >= 0, picked, -1)                         # -1: no such leaf

    slots = [*range(setup.max_depth + 1), *range(-1, -setup.max_depth - 2, -1)]
    train_acc = {s: float((slot_answers(train_set, s) == train_set.answers).float().mean())
                 for s in slots}
    best_slot = max(slots, key=lambda s: train_acc[s])
    return {
        "most frequent label": float((test.answers == frequent).float().mean()),
        "fixed leaf": float((slot_answers(test, best_slot) == test.answers).float().mean()),
        "random leaf of the program": float((1.0 / (test.depth + 1)).mean()),
        "outer condition alone": float((test.outer_guess == test.answers).float().mean()),
        "chance": setup.chance,
    }


def shortcut_agreement(predictions: torch.Tensor, data: ConditionalPrograms) -> dict[str, float]:
    """Which shortcut a model follows: the share of its predictions (N,) equal to the outer
    condition's answer, to the first and to the last leaf in reading order, and to any leaf of
    the program at all (a model that copies some leaf without evaluating the conditions)."""
    last = data.reading.gather(1, ((data.reading >= 0).sum(1) - 1)[:, None])[:, 0]
    return {"outer condition alone": float((predictions == data.outer_guess).float().mean()),
            "first leaf": float((predictions == data.reading[:, 0]).float().mean()),
            "last leaf": float((predictions == last).float().mean()),
            "any leaf": float((predictions[:, None] == data.reading).any(1).float().mean())}


def best_shortcut(baselines: Mapping[str, float]) -> tuple[str, float]:
    """The strongest shortcut of ``shortcut_baselines``: (name, accuracy)."""
    if not isinstance(baselines, Mapping) or not baselines:
        raise TypeError(f"baselines must be the dict of shortcut_baselines, got "
                        f"{_show(baselines)}")
    name = max(baselines, key=lambda k: baselines[k])
    return name, float(baselines[name])


# --- model, loss, evaluation ---

def conditionals_model(setup: ConditionalsRecipe = RECIPE, n_ctx: int | None = None,
                       n_heads: int | None = None, seed: int = 0) -> Transformer:
    """The recipe's gated micro-transformer, built the same way for every seed."""
    _check_setup(setup)
    with seeded(seed):
        return Transformer(vocab=VOCAB_SIZE, n_ctx=setup.n_ctx if n_ctx is None else n_ctx,
                           d_model=setup.d_model, n_layers=setup.n_layers,
                           n_heads=setup.n_heads if n_heads is None else n_heads,
                           d_mlp=setup.d_mlp, layernorm=setup.layernorm, head_gates=True)


def point_capacity(setup: ConditionalsRecipe, context: int, heads: int) -> float:
    """log2 C_sweep of the recipe's model at ``context`` and ``heads`` (what train_point logs;
    it depends on the architecture only, not on the weights)."""
    model = conditionals_model(setup, check_int("context", context, minimum=1),
                               check_int("heads", heads, minimum=1))
    return float(transformer_capacity(model, n_ctx=context)["log2_C"])


def readout_logits(model: nn.Module, tokens: torch.Tensor, query_pos: torch.Tensor,
                   trim: bool = False, **forward) -> torch.Tensor:
    """Logits at each program's ``?`` (the read-out): tokens (B, T), query_pos (B,) -> (B, V).
    ``trim`` runs the model on tokens[:, :max(query_pos) + 1] only: exact, since a causal
    model's output at the read-out cannot depend on the later (padding) positions."""
    if trim:
        tokens = tokens[:, :int(query_pos.max()) + 1]
    logits = model(tokens, **forward)                                   # (B, T, V)
    return logits[torch.arange(len(tokens)), query_pos]


def readout_loss(model: nn.Module, batch: tuple[torch.Tensor, ...], trim: bool = False
                 ) -> torch.Tensor:
    """Cross-entropy of the answer at the read-out: batch = (tokens, query_pos, answers)."""
    tokens, query_pos, answers = batch
    return F.cross_entropy(readout_logits(model, tokens, query_pos, trim).float(), answers)


@torch.no_grad()
def accuracy_and_loss(model: nn.Module, data: ConditionalPrograms, trim: bool = True,
                      **forward) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of the read-out on ``data``."""
    logits = readout_logits(model, data.tokens, data.query_pos, trim, **forward).float()
    return (float((logits.argmax(-1) == data.answers).float().mean()),
            float(F.cross_entropy(logits, data.answers)))


def focus_mask(data: ConditionalPrograms) -> torch.Tensor:
    """G's focus tokens: the final prompt token ``?`` and the answer position, (N, T) bool."""
    mask = torch.zeros(data.tokens.shape, dtype=torch.bool)
    rows = torch.arange(len(data))
    mask[rows, data.query_pos] = True
    mask[rows, data.answer_pos] = True
    return mask


@torch.no_grad()
def ablation_costs(model: nn.Module, data: ConditionalPrograms) -> dict[tuple[int, int],
                                                                          tuple[float, float]]:
    """For each head (layer, head): (accuracy lost, loss gained) on ``data`` when its values
    are zeroed."""
    base_acc, base_loss = accuracy_and_loss(model, data)
    costs = {}
    for layer in range(model.n_layers):
        for head in range(model.n_heads):
            acc, loss = accuracy_and_loss(model, data, ablate={(layer, head): "zero"})
            costs[(layer, head)] = (base_acc - acc, loss - base_loss)
    return costs


def gate_head(costs: Mapping[tuple[int, int], tuple[float, float]]) -> tuple[int, int]:
    """The head whose ablation costs most accuracy (ties: most loss): G's designated head."""
    return max(costs, key=lambda key: costs[key])


@torch.no_grad()
def gate_ratio(model: nn.Module, data: ConditionalPrograms, head: tuple[int, int]) -> float:
    """Chance-corrected G (``gating.gating_ratio``) of ``head`` = (layer, h) at the focus tokens,
    from the model's explicit gate logits on ``data`` over its whole padded context; mean over
    programs (1 = a uniform gate)."""
    cache: dict = {}
    model(data.tokens, cache=cache)
    logits = explicit_gate_logits(cache)                                  # (B, L, H, T)
    return float(gating_ratio(logits, [head[1]], focus_mask(data), [head[0]]).mean())


# --- one training: a point of the sweep ---

def _training_fields(setup: ConditionalsRecipe) -> dict:
    d = dataclasses.asdict(setup)
    for name in SWEEP_FIELDS:
        d.pop(name)
    return d


def point_config(setup: ConditionalsRecipe = RECIPE, context: int | None = None,
                 heads: int | None = None, seed: int = 0) -> dict:
    """The JSON config of one training (what ``train_point`` needs; its hash is the sweep's
    cache key, so it changes whenever a number of the setup does)."""
    _check_setup(setup)
    context = check_int("context", setup.n_ctx if context is None else context,
                        minimum=max_length(setup.max_depth, setup.n_vars))
    heads = check_int("heads", setup.n_heads if heads is None else heads, minimum=1)
    if setup.d_model % heads:
        raise ValueError(f"heads must divide d_model={setup.d_model}, got {heads}")
    return {"recipe": _training_fields(setup), "context": context, "heads": heads,
            "seed": check_int("seed", seed, minimum=0)}


def train_point(config: Mapping) -> dict:
    """Train one configuration of ``point_config`` and measure it: test accuracy, validation
    loss, steps run and why it stopped, the history {step, accuracy, val_loss, G_ratio} (G of
    the head whose ablation costs most accuracy at the end, read at every logged snapshot),
    log2 C_sweep (``capacity.transformer_capacity`` at this context), per-depth accuracy, the
    per-instance log2 C_i of the test programs (mean, and mean per depth), the predictions'
    agreement with each shortcut (``shortcut_agreement``), CPU seconds. JSON values only."""
    if not isinstance(config, Mapping) or not {"recipe", "context", "heads", "seed"} <= set(
            config):
        raise TypeError(f"config must be a dict from point_config, got {_show(config)}")
    began = time.process_time()
    fields = {f.name for f in dataclasses.fields(ConditionalsRecipe)}
    recipe = dict(config["recipe"])
    unknown = sorted(set(recipe) - fields)
    if unknown:
        raise ValueError(f"config['recipe'] has unknown fields {unknown}")
    setup = replace(RECIPE, **recipe)
    context, heads, seed = config["context"], config["heads"], config["seed"]
    data = programs(setup, context)
    model = conditionals_model(setup, context, heads, seed)
    train_set = data["train"]
    trim = setup.trim_padding
    train_config = TrainConfig(
        steps=setup.steps, lr=setup.lr, batch_size=setup.batch_size, optimizer="adamw",
        weight_decay=setup.weight_decay, seed=seed, clip_grad_norm=setup.clip_grad_norm,
        autocast_after=setup.autocast_after, patience=setup.patience,
        monitor="val_loss" if setup.patience is not None else None)

    def evaluate(m: nn.Module) -> dict[str, float]:
        acc, loss = accuracy_and_loss(m, data["val"])
        return {"accuracy": acc, "val_loss": loss}

    result = train(model, functools.partial(readout_loss, trim=trim),
                   (train_set.tokens, train_set.query_pos, train_set.answers), train_config,
                   evaluate=evaluate, log_steps=setup.log_every, snapshots=True, progress=False)
    model.eval()
    costs = ablation_costs(model, data["gate"])
    head = gate_head(costs)
    g_ratio = []
    for step in result.history.steps:
        model.load_state_dict(result.snapshots[step])
        g_ratio.append(gate_ratio(model, data["gate"], head))
    test = data["test"]
    with torch.no_grad():
        logits = readout_logits(model, test.tokens, test.query_pos, trim=True)
    predictions = logits.argmax(-1)
    correct = predictions == test.answers
    by_depth = {str(d): float(correct[test.depth == d].float().mean())
                for d in range(setup.min_depth, setup.max_depth + 1)}
    capacity = transformer_capacity(model, n_ctx=context)
    log2_c_i = test.log2_C_i(model)                                       # (n_test,)
    history = result.history
    return {
        "context": context, "heads": heads, "seed": seed, "layers": setup.n_layers,
        "accuracy": float(correct.float().mean()), "n_test": len(test),
        "correct": int(correct.sum()), "accuracy_by_depth": by_depth,
        "agreement": shortcut_agreement(predictions, test),
        "val_loss": float(history["val_loss"][-1]), "steps_run": int(result.stopped_at),
        "stop_reason": result.stop_reason, "best_step": result.best_step,
        "history": {"step": [int(s) for s in history.steps],
                    "accuracy": history["accuracy"].tolist(),
                    "val_loss": history["val_loss"].tolist(), "G_ratio": g_ratio},
        "gate_head": list(head),
        "ablation_accuracy_cost": {f"L{k[0]}H{k[1]}": v[0] for k, v in costs.items()},
        "log2_C_sweep": float(capacity["log2_C"]), "log2_P": float(np.log2(capacity["P"])),
        "log2_C_i_mean": float(log2_c_i.mean()),
        "log2_C_i_by_depth": {str(d): float(log2_c_i[(test.depth == d).numpy()].mean())
                              for d in range(setup.min_depth, setup.max_depth + 1)},
        "cpu_s": time.process_time() - began,
    }


def sweep_configs(setup: ConditionalsRecipe = FAST) -> list[dict]:
    """The setup's grid: every (context, heads, seed) as a ``point_config``."""
    _check_setup(setup)
    return [point_config(setup, c, h, s) for c in setup.contexts for h in setup.heads
            for s in setup.seeds]


def run_sweep(setup: ConditionalsRecipe = FAST, backend: str | None = None, *,
              cache_dir: str | Path | None = CACHE, progress: bool = True) -> list[dict]:
    """Every point of the setup's grid through ``sweep.run`` (backend as there: serial, loky
    or dask; default from the environment), cached in ``cache_dir`` (None: no cache)."""
    return sweep.run(train_point, sweep_configs(setup), backend, cache_dir=cache_dir,
                     progress=progress)


def sweep_table(results: Sequence[Mapping]) -> dict[str, np.ndarray]:
    """The sweep as columns, one entry per configuration: context, heads, seed, log2_C_sweep,
    accuracy, val_loss and the last logged G_ratio (for plots and tables)."""
    if isinstance(results, Mapping) or not isinstance(results, Sequence) or not results:
        raise TypeError(f"results must be the non-empty list of run_sweep, got {_show(results)}")
    columns = ("context", "heads", "seed", "log2_C_sweep", "accuracy", "val_loss")
    table = {name: np.array([r[name] for r in results]) for name in columns}
    table["G_ratio"] = np.array([r["history"]["G_ratio"][-1] for r in results])
    return table


# --- the fit ---

def fit_sweep(results: Sequence[Mapping], baselines: Mapping[str, float], *,
              n_boot: int = 200, seed: int = 0) -> dict:
    """Accuracy against C_sweep: the logistic in C_sweep (x = 2**log2_C_sweep; floor and
    ceiling fixed at chance and 1, the convention of chapters 1-2) with bootstrap intervals,
    its R^2 against the linear baseline, the leave-one-out R^2, the best shortcut, whether any
    configuration learned (its 95% Wilson interval lies above the best shortcut), how far apart
    the accuracies are against one accuracy's 95% interval, whether the threshold's interval
    lies inside the swept range, and a verdict sentence true either way."""
    if isinstance(results, Mapping) or not isinstance(results, Sequence) or not results:
        raise TypeError(f"results must be the non-empty list of run_sweep, got {_show(results)}")
    for i, r in enumerate(results):
        if not isinstance(r, Mapping) or not {"accuracy", "log2_C_sweep", "correct",
                                              "n_test"} <= set(r):
            raise TypeError(f"results[{i}] must be a dict of train_point, got {_show(r)}")
    chance = baselines.get("chance")
    if chance is None:
        raise ValueError("baselines must hold 'chance' (the dict of shortcut_baselines)")
    shortcuts = {k: v for k, v in baselines.items() if k != "chance"}
    shortcut, shortcut_acc = best_shortcut(shortcuts)
    log2_c = np.array([r["log2_C_sweep"] for r in results], dtype=float)
    acc = np.array([r["accuracy"] for r in results], dtype=float)
    bounds = np.array([wilson_interval(int(r["correct"]), int(r["n_test"])) for r in results])
    learned_mask = bounds[:, 0] > shortcut_acc
    spread = float(np.ptp(acc))                      # how far apart the configurations are
    width = float(np.mean(bounds[:, 1] - bounds[:, 0]))   # one accuracy's 95% interval
    x = 2.0 ** (log2_c - log2_c.min())          # C_sweep relative to the smallest (same fit)
    fixed = {"floor": chance, "ceil": 1.0}
    fit = fit_logistic(x, acc, **fixed, n_boot=n_boot, seed=seed)
    loo = leave_one_out_r2(x, acc, **fixed)
    lo, hi = fit.intervals.get("threshold", (float("nan"), float("nan")))
    threshold = float(np.log2(fit.threshold) + log2_c.min())
    interval = (float(np.log2(lo) + log2_c.min()), float(np.log2(hi) + log2_c.min()))
    span = (float(log2_c.min()), float(log2_c.max()))
    inside = bool(interval[0] >= span[0] and interval[1] <= span[1])
    learned = bool(learned_mask.any())
    best = int(acc.argmax())
    where = ("lies inside" if inside else "is not inside")
    if np.ptp(acc) == 0:
        r2_text = ("every configuration has the same accuracy, so R^2 is undefined for the "
                   "logistic in C_sweep, for a line and for held-out configurations")
    else:
        r2_text = (f"the logistic in C_sweep has R^2 = {fit.r2:.2f} (a line in log C: "
                   f"{fit.linear.r2:.2f}) and leave-one-out R^2 = {loo:.2f}")
    numbers = (f"{r2_text}, and the threshold's 95% bootstrap interval, log2 C in "
               f"[{interval[0]:.1f}, {interval[1]:.1f}], {where} the swept range "
               f"[{span[0]:.1f}, {span[1]:.1f}]")
    if learned:
        sentence = (f"{int(learned_mask.sum())} of {len(acc)} configurations beat the best "
                    f"shortcut ({shortcut}, {shortcut_acc:.0%}) beyond their 95% interval (best "
                    f"{acc[best]:.0%} at context {results[best].get('context')}, "
                    f"{results[best].get('heads')} heads); {numbers}.")
    else:
        noise = not loo > 0 or not inside          # an undefined (nan) R^2 counts as noise
        resolved = ("more than" if spread > width else "no more than")
        sentence = (f"No configuration learned above the best shortcut ({shortcut}, "
                    f"{shortcut_acc:.0%}): the best reached {acc[best]:.0%} "
                    f"(chance {chance:.0%}), so accuracy has no transition for C_sweep to "
                    f"explain. The configurations' accuracies span {100 * spread:.1f} points, "
                    f"{resolved} the width of one accuracy's 95% interval "
                    f"({100 * width:.1f} points); {numbers}"
                    + ("; the fit is a fit to noise." if noise else
                       "; it locates a threshold, but one between accuracies that all stay below "
                       "the shortcut: variation at the floor, not learning."))
    return {"fit": fit, "r2": fit.r2, "linear_r2": fit.linear.r2, "loo_r2": loo,
            "threshold_log2_C": threshold, "threshold_interval_log2_C": interval,
            "swept_log2_C": span, "threshold_inside_range": inside,
            "accuracy_spread": spread, "interval_width": width,
            "fixed": tuple(fixed),
            "best_shortcut": shortcut, "best_shortcut_accuracy": shortcut_acc,
            "n_learned": int(learned_mask.sum()), "learned": learned,
            "best_accuracy": float(acc[best]), "sentence": sentence}


# --- timing ---

def benchmark_step(setup: ConditionalsRecipe = RECIPE, context: int = 128, heads: int = 3,
                   reduced: bool = False, trim: bool | None = None, steps: int = 20) -> float:
    """CPU seconds of one training step (forward, backward, clipping, AdamW) at ``context`` and
    ``heads``, in float32 or (``reduced``) under bfloat16 autocast, mean of ``steps``."""
    data = programs(setup, context)["train"]
    model = conditionals_model(setup, context, heads)
    trim = setup.trim_padding if trim is None else trim
    optimizer = torch.optim.AdamW(model.parameters(), setup.lr, weight_decay=setup.weight_decay,
                                  foreach=True)
    generator = torch.Generator().manual_seed(0)
    total = 0.0
    for i in range(steps + 2):                                 # two warm-up steps
        idx = torch.randint(len(data), (setup.batch_size,), generator=generator)
        batch = (data.tokens[idx], data.query_pos[idx], data.answers[idx])
        began = time.process_time()
        with torch.autocast("cpu", torch.bfloat16, enabled=reduced):
            loss = readout_loss(model, batch, trim)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), setup.clip_grad_norm)
        optimizer.step()
        if i >= 2:
            total += time.process_time() - began
    return total / steps
