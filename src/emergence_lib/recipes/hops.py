"""The structural-threshold recipe of chapter 9, part 2 (COURSE.md section 9): attention-only
transformers of 1-3 layers trained on k-hop pointer chasing (``tasks.hops``), all hop counts
k = 1..3 read out of one model, swept over layers x heads x seeds. Every number of the setup
lives here.

One training (``train_point``) gives one sweep point per hop count: a configuration is
(layers, heads, hops, seed), and ``run_sweep`` returns one row per configuration.

What was tried, and what it gave (December 2026, this machine, one thread, seed 0 unless
said; accuracy per hop k = 1, 2, 3[, 4] at the end; the issue records the permutation runs
with N = 8 / 16 and an MLP that failed before): PROBES below. In short: a k token (or a
combined (query, k) token) left hop 2 at chance; one read-out per k trained together made hop
2 learnable within ~100 steps; N = 8 nodes learns much faster than N = 10-12 (64 pair tokens);
batch 128 or 256 learns where batch 64 stalls; without LayerNorm a 3-layer model had not
learned even hop 1 (0.37) by step 300; the pair embeddings start factored, e(a -> b) = u_a + w_b
(random u, w): hop 1 alone then reached 1.00 by step 60, against 0.84 at step 300 without; no
MLP (attention-only), so no bag-of-pairs MLP shortcut (and a 1-layer model with an MLP stayed
at the exclusion baseline on k = 2, 3 too). The depth requirement holds for the widths swept
here, not for every width: one layer with 8 heads reached 0.86 on two hops after 2,400 steps
(PROBES), and with 4 heads FULL's one-layer models reach 0.29-0.42 on k = 2.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import sweep
from .._validate import _show, check_choice, check_float, check_int
from ..capacity import count_params, transformer_capacity
from ..detect import lead
from ..fit import fit_logistic, leave_one_out_r2, steepness_ratio
from ..gating import attention_gate_logits, gating_ratio
from ..models import Transformer
from ..precision import MAX_BITS, MIN_BITS, round_weights
from ..tasks.hops import HopTask, hop_task
from ..train import TrainConfig, TrainResult, train
from ..utils import seeded

# What was tried before the setup below (throwaway scripts under /tmp/hops_*; accuracy of the
# read-outs k = 1, 2, 3[, 4] at the last logged step; "fact" = factored pair-embedding init).
PROBES = {
    "N 8, k token, 2 layers + MLP 128, lr 3e-3, batch 128, 600 steps":
        "0.21 0.17 0.17 0.17 (nothing learned, not even k = 1)",
    "N 8, k token, 2 layers attention-only, lr 1e-2, 600 steps, fact or not":
        "0.15 0.17 0.14 0.16 (nothing)",
    "N 8, k = 1 only, 1 layer, lr 3e-3, fact": "1.00 by step 60",
    "N 8, k = 1 only, 1 layer, lr 3e-3, no fact": "0.84 at step 300",
    "N 8, k in {1, 2} with a k token, 2 layers, 1,000 steps (with or without MLP)":
        "1.00 0.16-0.18 (hop 2 at chance)",
    "N 8, combined (query, k) token, 2 layers, 800 steps": "1.00 0.19 (hop 2 at chance)",
    "N 8, one read-out per k (K = 4), 2 layers, 800 steps":
        "1.00 0.99 0.62 0.85 (k = 4 by exclusion: in an 8-cycle f^4 = f^-4, so hops >= n/2 "
        "are refused by tasks.hops.hop_task)",
    "N 12, one read-out per k (K = 4), 1 / 2 / 3 layers, 400 steps":
        "1 layer 1.00 0.12 0.12 0.11; 2 layers 1.00 1.00 0.13 0.11; 3 layers 0.99 0.86 0.13 0.11",
    "N 10, K = 4, d_model 32, batch 64, 3 layers, 1,000 steps": "1.00 0.14 0.14 0.14",
    "N 8, K = 3, batch 64, 2-3 layers, 400 steps": "k = 2 at 0.16-0.33 (batch 64 stalls)",
    "N 8, K = 3, batch 128, 500 steps, heads 1 / 2":
        "1 layer 1.00 0.22 0.19 (either); 2 layers H1 1.00 1.00 0.47, H2 1.00 1.00 0.99; "
        "3 layers H1 1.00 1.00 0.44, H2 1.00 1.00 0.99",
    "N 8, K = 3, batch 256, 250 steps, 2-3 layers":
        "2 layers H1 1.00 0.99 0.28, H2 1.00 1.00 0.69; 3 layers H1 1.00 1.00 0.26, H2 1.00 "
        "1.00 1.00",
    "N 8, K = 3, no LayerNorm, 3 layers, 300 steps": "0.37 0.14 0.12",
    "N 8, K = 3, 1 layer WITH an MLP of 128 (the shortcut control), 600 steps":
        "1.00 0.22 0.21 (no MLP shortcut on the cycle: still at the exclusion baseline)",
    "N 8, K = 3, 1 layer, 4 heads, 2,400 steps": "1.00 0.32 0.20",
    "N 8, K = 3, 1 layer, 8 heads (d_head 8), 2,400 steps":
        "1.00 0.86 0.26 (0.24 at step 300, rising all along): with enough heads and steps ONE "
        "layer answers two hops well above the exclusion baseline, by some non-chaining use of "
        "the 64 possible arrows (not analysed); heads can stand in for depth at N = 8",
}


@dataclass(frozen=True)
class HopsSetup:
    """One setup of part 2: task, model, optimiser and the sweep axes."""

    n_nodes: int = 8             # nodes of the random cycle (64 pair tokens)
    hops: int = 3                # read-outs k = 1..hops, all trained in one model
    d_model: int = 64
    d_mlp: int | None = None     # attention-only; an int adds an MLP (the shortcut control)
    batch_size: int = 128
    lr: float = 3e-3
    steps: int = 300
    log_every: int = 25          # accuracy and G every this many steps
    n_eval: int = 512            # held-out examples (fixed per seed)
    embed_std: float = 0.06      # factored pair-embedding init: u_a, w_b ~ N(0, embed_std^2)
    bits: tuple[int, ...] = (2, 3, 4, 6, 8, 16)   # weights rounded to these for BITS accuracy
    layers: tuple[int, ...] = (1, 2, 3)
    heads: tuple[int, ...] = (1, 2)
    seeds: tuple[int, ...] = (0, 1)

    def __post_init__(self) -> None:
        hop_task(self.n_nodes, self.hops)                 # checks n_nodes and hops
        for name in ("d_model", "batch_size", "steps", "log_every", "n_eval"):
            check_int(name, getattr(self, name), minimum=1)
        if self.d_mlp is not None:
            check_int("d_mlp", self.d_mlp, minimum=1)
        check_float("lr", self.lr, minimum=0.0, strict_min=True)
        check_float("embed_std", self.embed_std, minimum=0.0, strict_min=True)
        for name in ("bits", "layers", "heads", "seeds"):
            values = getattr(self, name)
            if not isinstance(values, tuple) or not values:
                raise TypeError(f"{name} must be a non-empty tuple of integers, got "
                                f"{_show(values)}")
        for b in self.bits:
            check_int("bits[i]", b, minimum=MIN_BITS, maximum=MAX_BITS)
        for name, values in (("layers", self.layers), ("heads", self.heads),
                             ("seeds", self.seeds)):
            for v in values:
                check_int(f"{name}[i]", v, minimum=0 if name == "seeds" else 1)

    def task(self) -> HopTask:
        return hop_task(self.n_nodes, self.hops)

    def configs(self) -> list[dict]:
        """The sweep's training configs (one per layers x heads x seed), JSON values only."""
        numbers = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
                   if k not in ("layers", "heads", "seeds")}
        return [{"layers": L, "heads": H, "seed": s, **numbers}
                for L in self.layers for H in self.heads for s in self.seeds]


FAST = HopsSetup()
# FULL: more steps, heads up to 4, four seeds (36 trainings, 108 rows). Run twice (December
# 2026, this machine, one thread at low priority beside other jobs; identical accuracies):
# 326 s CPU with the present code. Mean accuracy for k = 1, 2, 3 over the seeds: 1 layer
# 1.00 / 0.19-0.38 / 0.17-0.21 (with 4 heads k = 2 reached 0.29-0.42, above the exclusion
# baseline 0.2: a partial non-chaining shortcut, not analysed); 2 layers with 1 head
# 1.00 / 0.85 / 0.33, with 2 heads 1.00 / 1.00 / 0.80, with 4 heads 1.00 / 1.00 / 1.00 (two
# layers do reach three hops: the doubling); 3 layers 1 head 1.00 / 0.90 / 0.45, 2 heads
# 1.00 / 1.00 / 0.87, 4 heads all 1.00. Leave-one-out R²: doubling margin 0.65, margin 0.64,
# log2 P 0.18, layers 0.18, log2 C -0.03; 8 bits vs float32 steepness ratio 1.0 [0.96, 1.2];
# all 70 float32-solved rows stay solved down to 4 bits, none at 2. G, chain focus: 2.62 solved
# vs 2.05 unsolved, seed spread 0.85 (not larger); last-pair focus: 2.57 vs 0.48, spread 0.96
# (larger). Lead of the chain G over accuracy: k = 2 median +17 steps (19 of 22 positive),
# k = 3 +66 (12 of 12), k = 1 -1.6 (together); the last-pair G comes after (k = 2 median -4).
FULL = HopsSetup(steps=1_000, log_every=50, n_eval=1_024, heads=(1, 2, 4), seeds=(0, 1, 2, 3))
BITS = FAST.bits
SOLVED = 0.9                     # accuracy that counts as solved (the check cell's bar)
FP32_BITS = 32                   # B = 2**32 for the unrounded float32 weights in C
MODELS = "models"                # trained weights under a cache_dir (run_sweep, trained_model)


def _setup_from(config: dict) -> tuple[HopsSetup, int, int, int]:
    if not isinstance(config, dict):
        raise TypeError(f"config must be a dict (from HopsSetup.configs()), got {_show(config)}")
    missing = {"layers", "heads", "seed"} - set(config)
    if missing:
        raise ValueError(f"config must hold 'layers', 'heads' and 'seed'; missing "
                         f"{sorted(missing)}")
    fields = {f for f in HopsSetup.__dataclass_fields__} - {"layers", "heads", "seeds"}
    run_keys = {"layers", "heads", "seed", "checkpoint_dir"}
    unknown = set(config) - fields - run_keys
    if unknown:
        raise ValueError(f"config has unknown keys {sorted(unknown)}; allowed: "
                         f"{sorted(fields | run_keys)}")
    numbers = {k: (tuple(v) if isinstance(v, list) else v) for k, v in config.items()
               if k in fields}
    setup = replace(FAST, **numbers)
    layers = check_int("config['layers']", config["layers"], minimum=1)
    heads = check_int("config['heads']", config["heads"], minimum=1)
    seed = check_int("config['seed']", config["seed"], minimum=0)
    if setup.d_model % heads:
        raise ValueError(f"config['heads'] must divide d_model={setup.d_model}, got {heads}")
    return setup, layers, heads, seed


def hops_model(setup: HopsSetup, layers: int, heads: int, seed: int = 0) -> Transformer:
    """The pre-LayerNorm transformer of the setup (attention-only unless ``setup.d_mlp``),
    initialised from ``seed``,
    with factored pair embeddings e(a -> b) = u_a + w_b (the rest of W_E as Transformer draws)."""
    task = setup.task()
    with seeded(seed):
        model = Transformer(task.vocab, task.n_ctx, d_model=setup.d_model, n_layers=layers,
                            n_heads=heads, d_mlp=setup.d_mlp, layernorm=True)
        u = torch.randn(task.n_nodes, setup.d_model) * setup.embed_std
        w = torch.randn(task.n_nodes, setup.d_model) * setup.embed_std
    with torch.no_grad():
        model.W_E.weight[:task.n_pairs] = (u[:, None] + w[None]).reshape(task.n_pairs, -1)
    return model


def eval_set(setup: HopsSetup, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out examples of a seed: tokens (n_eval, T) and answers (n_eval, K)."""
    return setup.task().sample(setup.n_eval, torch.Generator().manual_seed(10_000 + seed))


def hops_loss(task: HopTask):
    """Cross-entropy averaged over every read-out k = 1..K: (tokens, answers) -> loss."""
    def loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        tokens, answers = batch
        logits = task.readout(model(tokens))                           # (B, K, N)
        return F.cross_entropy(logits.reshape(-1, task.n_nodes), answers.reshape(-1))
    return loss


@torch.no_grad()
def accuracy_per_hop(model: nn.Module, task: HopTask, tokens: torch.Tensor,
                     answers: torch.Tensor) -> list[float]:
    """Accuracy of each read-out on (tokens (B, T), answers (B, K)) -> K floats."""
    predicted = task.readout(model(tokens)).argmax(-1)                 # (B, K)
    return (predicted == answers).float().mean(0).tolist()


@torch.no_grad()
def readout_gate(model: Transformer, task: HopTask, tokens: torch.Tensor,
                 focus: str = "chain") -> list[float]:
    """G chance-corrected for each k: the share of the read-out's (last position's) attention
    that lands on the decisive pairs, over their chance share, averaged over layers, heads and
    examples (1 = uniform attention). ``focus`` "chain": the pairs of hops 1..k (chance share
    k / T, at most T / k); "last": the pair hop k reads only (chance 1 / T, at most T).

    Computed with ``gating``: gate logits g[l, h, t] = log(T a[l, h, t]) for the attention a
    of head h of layer l from the last position to key t, so that G's softmax over a layer's
    (head, key) cells gives a / H and the ratio is the mean over layers of the attention mass
    on the focus keys over |focus| / T."""
    check_choice("focus", focus, ["chain", "last"])
    cache: dict = {}
    model(tokens, cache=cache)
    return _gates(cache, task, tokens, focus)


def _gates(cache: dict, task: HopTask, tokens: torch.Tensor, focus: str) -> list[float]:
    """``readout_gate`` from the cache of a forward pass on ``tokens`` (B, T)."""
    B, T = tokens.shape
    raw = attention_gate_logits(cache, torch.full((T,), T - 1), torch.arange(T))  # (B, L, H, T)
    logits = raw - raw.logsumexp(-1, keepdim=True) + math.log(T)
    decisive = task.decisive_positions(tokens)                         # (B, K)
    heads = list(range(logits.shape[2]))
    out = []
    for k in range(1, task.hops + 1):
        mask = torch.zeros(B, T, dtype=torch.bool)
        mask.scatter_(1, decisive[:, :k] if focus == "chain" else decisive[:, k - 1:k], True)
        out.append(float(gating_ratio(logits, heads, mask).mean()))
    return out


def train_hops(setup: HopsSetup, layers: int, heads: int, seed: int = 0, *,
               checkpoint: str | Path | None = None, progress: bool = False) -> TrainResult:
    """Train ``hops_model`` on fresh examples; log the accuracy ``acc_k{k}`` and G ratios
    ``g_k{k}`` (focus "chain") and ``glast_k{k}`` (focus "last") of every read-out on the
    held-out set every ``setup.log_every`` steps."""
    task = setup.task()
    model = hops_model(setup, layers, heads, seed)
    tokens, answers = eval_set(setup, seed)

    def evaluate(m: nn.Module) -> dict[str, float]:
        cache: dict = {}                      # one forward pass for accuracy and both G's
        predicted = task.readout(m(tokens, cache=cache)).argmax(-1)        # (B, K)
        accs = (predicted == answers).float().mean(0).tolist()
        chain, last = _gates(cache, task, tokens, "chain"), _gates(cache, task, tokens, "last")
        return {**{f"acc_k{k + 1}": a for k, a in enumerate(accs)},
                **{f"g_k{k + 1}": g for k, g in enumerate(chain)},
                **{f"glast_k{k + 1}": g for k, g in enumerate(last)}}

    config = TrainConfig(steps=setup.steps, lr=setup.lr, batch_size=setup.batch_size,
                         optimizer="adamw", seed=seed)
    return train(model, hops_loss(task), task.sampler(), config, evaluate=evaluate,
                 log_steps=setup.log_every, checkpoint=checkpoint, progress=progress,
                 desc=f"{layers} layers, {heads} heads, seed {seed}")


def margin(layers: int, hops: int) -> float:
    """The structural margin of the issue: layers - log2(hops)."""
    return layers - math.log2(hops)


def margin_doubling(layers: int, hops: int) -> float:
    """layers - log2(hops + 1): >= 0 exactly where pointer doubling reaches ``hops`` at the
    read-out (L layers reach 2**L - 1 hops)."""
    return layers - math.log2(hops + 1)


def train_point(config: dict) -> dict:
    """One training of the sweep (config from ``HopsSetup.configs()``, optionally with a
    ``checkpoint_dir`` to keep the trained weights in) -> plain JSON numbers:
    the run's layers, heads, seed, steps, steps_logged, n_nodes, chance (the exclusion
    baseline), cpu_seconds (of this call; near 0 when the weights came from checkpoint_dir),
    log2_P, log2_C (16 bits) and log2_C_bits {bits: value} (also at
    "32", the float32 weights), and ``points``: one dict per hop count k with hops, accuracy,
    g_ratio (final; focus "chain" of ``readout_gate``), g_last (focus "last"),
    accuracy_history, g_ratio_history, g_last_history (at steps_logged), accuracy_bits
    {bits: accuracy with weights rounded to bits}, margin and margin_doubling."""
    setup, layers, heads, seed = _setup_from(config)
    folder = config.get("checkpoint_dir")
    if folder is not None and not isinstance(folder, str):
        raise TypeError(f"config['checkpoint_dir'] must be a folder path (str) or None, got "
                        f"{_show(folder)}")
    began = time.process_time()
    path = None if folder is None else checkpoint_path(setup, layers, heads, seed, folder)
    run = train_hops(setup, layers, heads, seed, checkpoint=path)
    task, model = setup.task(), run.model.eval()
    tokens, answers = eval_set(setup, seed)
    by_bits = {str(b): accuracy_per_hop(round_weights(model, b), task, tokens, answers)
               for b in setup.bits}
    capacity = {str(b): float(transformer_capacity(model, task.n_ctx, bits=b)["log2_C"])
                for b in (*setup.bits, FP32_BITS)}
    history = run.history
    points = []
    for k in range(1, task.hops + 1):
        points.append({"hops": k, "accuracy": history.final(f"acc_k{k}"),
                       "g_ratio": history.final(f"g_k{k}"),
                       "accuracy_history": history[f"acc_k{k}"].tolist(),
                       "g_ratio_history": history[f"g_k{k}"].tolist(),
                       "g_last": history.final(f"glast_k{k}"),
                       "g_last_history": history[f"glast_k{k}"].tolist(),
                       "accuracy_bits": {b: acc[k - 1] for b, acc in by_bits.items()},
                       "margin": margin(layers, k), "margin_doubling": margin_doubling(layers, k)})
    return {"layers": layers, "heads": heads, "seed": seed, "steps": setup.steps,
            "n_nodes": task.n_nodes, "chance": task.chance,
            "steps_logged": history["step"].tolist(),
            "log2_P": math.log2(count_params(model)),
            "log2_C": float(transformer_capacity(model, task.n_ctx)["log2_C"]),
            "log2_C_bits": capacity, "points": points,
            "cpu_seconds": time.process_time() - began}


def rows(results: Sequence[dict]) -> list[dict]:
    """Flatten ``train_point`` results to one row per configuration (layers, heads, hops,
    seed): the run's numbers and the hop's numbers in one dict (``cpu_seconds`` is the run's,
    shared by its hops)."""
    out = []
    for result in results:
        run = {k: v for k, v in result.items() if k != "points"}
        out.extend({**run, **point} for point in result["points"])
    return out


def run_sweep(setup: HopsSetup = FAST, backend: str | None = None, *,
              cache_dir: str | Path | None = None, n_jobs: int | None = None,
              progress: bool = True) -> list[dict]:
    """Every training of ``setup`` through ``sweep.run`` (``backend`` "serial", "loky" or
    "dask"; results cached in ``cache_dir``, the trained weights in ``cache_dir/models`` for
    ``trained_model``) -> one row per configuration (see ``rows``)."""
    if not isinstance(setup, HopsSetup):
        raise TypeError(f"setup must be a HopsSetup (FAST or FULL), got {_show(setup)}")
    configs = setup.configs()
    if cache_dir is not None:
        folder = str(Path(cache_dir) / MODELS)
        configs = [{**c, "checkpoint_dir": folder} for c in configs]
    results = sweep.run(train_point, configs, backend=backend, n_jobs=n_jobs,
                        cache_dir=cache_dir, progress=progress)
    return rows(results)



# ---- analysis of a sweep ---------------------------------------------------------------------

PREDICTORS = {"log2_C": "the capacity proxy log2 C", "log2_P": "log2 P (parameters)",
              "layers": "layers alone", "margin": "the structural margin layers - log2 k",
              "margin_doubling": "the doubling margin layers - log2(k + 1)"}
N_DOZEN = 12          # points the threshold is predicted from
N_DOZEN_DRAWS = 10    # random dozens drawn for that prediction's spread
LOO_TIE = 0.05        # leave-one-out R² closer than this: the verdict calls two predictors even


def _check_rows(results: object, need: Sequence[str] = ()) -> list[dict]:
    if isinstance(results, dict) or not isinstance(results, Sequence) or not results:
        raise TypeError(f"results must be a non-empty list of rows from run_sweep (or rows()), "
                        f"got {_show(results)}")
    if all(isinstance(r, dict) and "points" in r for r in results):
        results = rows(results)          # train_point results: flatten
    for i, row in enumerate(results):
        if not isinstance(row, dict):
            raise TypeError(f"results[{i}] must be a dict row of run_sweep, got {_show(row)}")
        missing = [k for k in ("layers", "heads", "hops", "seed", "accuracy", *need)
                   if k not in row]
        if missing:
            raise ValueError(f"results[{i}] lacks {missing}: pass the rows of run_sweep")
    return list(results)


def _groups(data: list[dict]) -> np.ndarray:
    """An integer id per row for its configuration (layers, heads, hops): seeds share one."""
    keys = [(r["layers"], r["heads"], r["hops"]) for r in data]
    index = {key: i for i, key in enumerate(sorted(set(keys)))}
    return np.array([index[key] for key in keys])


def _fit(values: np.ndarray, y: np.ndarray, n_boot: int = 0, seed: int = 0):
    """The logistic of y in ``values`` (fit.fit_logistic on x = 2**values, so its log x is
    values * ln 2): the fit and its threshold in the predictor's own units."""
    result = fit_logistic(np.exp2(values), y, n_boot=n_boot, seed=seed)
    return result, float(np.log2(result.threshold))


def compare_predictors(results: Sequence[dict], *, n_boot: int = 50, seed: int = 0,
                       n_dozen: int = N_DOZEN, n_draws: int = N_DOZEN_DRAWS) -> dict:
    """For each predictor of ``PREDICTORS``: the logistic fit of accuracy against it on every row
    (R^2, R^2 of a line, threshold with its bootstrap interval, in the predictor's units), the
    leave-one-configuration-out R^2, and the threshold predicted from ``n_dozen`` random rows
    (median and 10-90% range over ``n_draws`` dozens) against the one of all rows. Returns
    {"predictors": {name: {...}}, "best", "verdict"} (verdict: a sentence from the numbers;
    it calls the best two even when their leave-one-out R² differ by less than ``LOO_TIE``)."""
    data = _check_rows(results, need=tuple(PREDICTORS))
    n_boot = check_int("n_boot", n_boot, minimum=0)
    n_dozen = check_int("n_dozen", n_dozen, minimum=5)
    n_draws = check_int("n_draws", n_draws, minimum=1)
    y = np.array([r["accuracy"] for r in data], dtype=float)
    groups = _groups(data)
    rng = np.random.default_rng(seed)
    dozens = [rng.choice(len(y), size=min(n_dozen, len(y)), replace=False)
              for _ in range(n_draws)]
    table = {}
    for name in PREDICTORS:
        values = np.array([r[name] for r in data], dtype=float)
        entry = {"label": PREDICTORS[name], "r2": float("nan"), "linear_r2": float("nan"),
                 "threshold": float("nan"), "threshold_interval": (float("nan"),) * 2,
                 "loo_r2": leave_one_out_r2(np.exp2(values), y, groups=groups)}
        if len(np.unique(values)) >= 3:
            fitted, threshold = _fit(values, y, n_boot, seed)
            lo, hi = fitted.intervals.get("threshold", (float("nan"), float("nan")))
            entry.update(r2=fitted.r2, linear_r2=fitted.linear.r2, threshold=threshold,
                         steepness=fitted.steepness * math.log(2),    # per predictor unit
                         threshold_interval=(float(np.log2(lo)), float(np.log2(hi))))
        predicted = []
        for rows_ in dozens:
            try:
                predicted.append(_fit(values[rows_], y[rows_])[1])
            except ValueError:
                continue
        entry["dozen_threshold"] = float(np.median(predicted)) if predicted else float("nan")
        entry["dozen_range"] = (tuple(float(q) for q in np.percentile(predicted, [10, 90]))
                                if predicted else (float("nan"),) * 2)
        entry["dozen_fits"] = len(predicted)
        table[name] = entry
    scored = {k: v["loo_r2"] for k, v in table.items() if np.isfinite(v["loo_r2"])}
    if not scored:
        best, sentence = None, ("No predictor could be fitted on held-out configurations (too "
                                "few distinct values), so none is shown to predict accuracy.")
    else:
        order = sorted(scored, key=scored.get, reverse=True)
        best = order[0]
        others = ", ".join(f"{PREDICTORS[k]} {scored[k]:.2f}" for k in order[1:])
        label = PREDICTORS[best][0].upper() + PREDICTORS[best][1:]
        tie = len(order) > 1 and scored[best] - scored[order[1]] < LOO_TIE
        if scored[best] <= 0:
            sentence = (f"No predictor beats the mean accuracy on held-out configurations "
                        f"(best leave-one-out R² {scored[best]:.2f}, {PREDICTORS[best]}; "
                        f"{others}).")
        elif tie:
            rest = ", ".join(f"{PREDICTORS[k]} {scored[k]:.2f}" for k in order[2:])
            sentence = (f"{label} and {PREDICTORS[order[1]]} predict held-out accuracy about "
                        f"equally well (leave-one-configuration-out R² {scored[best]:.2f} and "
                        f"{scored[order[1]]:.2f}, closer than {LOO_TIE:g})"
                        + (f"; {rest}." if rest else "."))
        else:
            sentence = (f"{label} predicts held-out accuracy best (leave-one-configuration-out "
                        f"R² {scored[best]:.2f}; {others}).")
    return {"predictors": table, "best": best, "verdict": sentence, "n_rows": len(y),
            "n_configurations": int(len(np.unique(groups)))}


def precision_steepness(results: Sequence[dict], bits: int = 8, *, predictor: str = "log2_C",
                        n_boot: int = 100, seed: int = 0) -> dict:
    """The logistic steepness of accuracy against ``predictor`` with the weights at float32 and
    rounded to ``bits`` (C itself at the matching B when the predictor is log2_C), with
    bootstrap intervals and their paired ratio (fit.steepness_ratio): does lower bit depth
    sharpen the transition? Returns numbers and a sentence true either way."""
    check_choice("predictor", predictor, list(PREDICTORS))
    data = _check_rows(results, need=("accuracy_bits", predictor))
    bits = check_int("bits", bits, minimum=2, maximum=16)
    if str(bits) not in data[0]["accuracy_bits"]:
        raise ValueError(f"bits={bits} was not evaluated in this sweep; it has "
                         f"{sorted(map(int, data[0]['accuracy_bits']))}")

    def x_at(b: int | None) -> np.ndarray:
        if predictor != "log2_C":
            return np.exp2([r[predictor] for r in data])
        key = str(FP32_BITS if b is None else b)
        return np.exp2([r["log2_C_bits"][key] for r in data])

    y32 = np.array([r["accuracy"] for r in data])
    yb = np.array([r["accuracy_bits"][str(bits)] for r in data])
    fit32 = fit_logistic(x_at(None), y32, n_boot=n_boot, seed=seed)
    fitb = fit_logistic(x_at(bits), yb, n_boot=n_boot, seed=seed)
    ratio = steepness_ratio(fitb, fit32)
    lo, hi = ratio.interval
    per = math.log(2)                                   # steepness per predictor unit
    numbers = {"bits": bits, "steepness_fp32": fit32.steepness * per,
               "steepness_fp32_interval": tuple(v * per for v in fit32.intervals["steepness"]),
               "steepness_bits": fitb.steepness * per,
               "steepness_bits_interval": tuple(v * per for v in fitb.intervals["steepness"]),
               "ratio": ratio.ratio, "ratio_interval": ratio.interval,
               "share_steeper": ratio.share_steeper, "r2_fp32": fit32.r2, "r2_bits": fitb.r2,
               "mean_accuracy_fp32": float(y32.mean()), "mean_accuracy_bits": float(yb.mean())}
    if lo > 1:
        claim = "steeper, as the concept claims"
    elif hi < 1:
        claim = "less steep, against the concept's claim"
    else:
        claim = "not distinguishably steeper or flatter: the claim is not supported"
    sentence = (f"With weights rounded to {bits} bits the transition in "
                f"{PREDICTORS[predictor]} is {ratio.ratio:.2g} times as steep as at float32 "
                f"(95% paired bootstrap [{lo:.2g}, {hi:.2g}], steeper in "
                f"{ratio.share_steeper:.0%} of refits): {claim}.")
    return {**numbers, "sentence": sentence}


def precision_curve(results: Sequence[dict], level: float = SOLVED) -> dict:
    """Accuracy against weight precision over the rows solved at float32 (accuracy >= level):
    for each evaluated bit width, their mean accuracy and the share still solved, and the
    fewest bits at which every one of them stays solved (None if no width keeps them all)."""
    data = _check_rows(results, need=("accuracy_bits",))
    solved = [r for r in data if r["accuracy"] >= level]
    bits = sorted(int(b) for b in data[0]["accuracy_bits"])
    if not solved:
        return {"bits": bits, "mean_accuracy": [], "solved_share": [], "fewest_bits": None,
                "n_solved": 0, "sentence": "No configuration is solved at float32, so "
                "precision has nothing to remove."}
    mean = [float(np.mean([r["accuracy_bits"][str(b)] for r in solved])) for b in bits]
    share = [float(np.mean([r["accuracy_bits"][str(b)] >= level for r in solved]))
             for b in bits]
    fewest = next((b for i, b in enumerate(bits) if all(x == 1.0 for x in share[i:])), None)
    sentence = (f"Of the {len(solved)} configurations solved at float32, "
                + (f"all stay solved with weights rounded to {fewest} bits or more"
                   if fewest is not None else "not all stay solved at any bit width tried")
                + f"; at {bits[0]} bits {share[0]:.0%} do (mean accuracy {mean[0]:.2f}).")
    return {"bits": bits, "mean_accuracy": mean, "solved_share": share, "fewest_bits": fewest,
            "n_solved": len(solved), "sentence": sentence}


G_KEYS = {"g_ratio": "g_ratio_history", "g_last": "g_last_history"}


def g_lead(result: dict, *, key: str = "g_ratio", fraction: float = 0.1) -> float | None:
    """Steps by which G's onset (chance-corrected, ``key`` "g_ratio" or "g_last") comes before
    the accuracy's onset in one row (``detect.lead``; positive: G moves first); None where
    either curve has no transition."""
    check_choice("key", key, list(G_KEYS))
    row = _check_rows([result], need=("steps_logged", "accuracy_history", G_KEYS[key]))[0]
    return lead(row["steps_logged"], row[G_KEYS[key]], row["accuracy_history"],
                fraction=fraction)


def g_leads(results: Sequence[dict], level: float = SOLVED, *, key: str = "g_ratio"
            ) -> list[dict]:
    """``g_lead`` of every solved row (final accuracy >= level) whose accuracy rose during
    training: [{layers, heads, hops, seed, lead}] (lead None where a curve has no onset)."""
    check_choice("key", key, list(G_KEYS))
    data = _check_rows(results, need=("accuracy_history", G_KEYS[key]))
    out = []
    for r in data:
        if r["accuracy"] >= level and r["accuracy_history"][0] < level:
            out.append({k: r[k] for k in ("layers", "heads", "hops", "seed")} | {
                "lead": g_lead(r, key=key)})
    return out


def g_contrast(results: Sequence[dict], level: float = SOLVED, *, key: str = "g_ratio"
               ) -> dict:
    """Final G ratio (``key`` "g_ratio" or "g_last") of solved rows (accuracy >= level) against
    unsolved ones (accuracy below the midpoint of chance and ``level``), and G's seed-to-seed
    spread (the mean over configurations of the standard deviation across seeds): numbers and
    a sentence."""
    check_choice("key", key, list(G_KEYS))
    data = _check_rows(results, need=(key, "chance"))
    low = (max(r["chance"] for r in data) + level) / 2
    solved = [r[key] for r in data if r["accuracy"] >= level]
    unsolved = [r[key] for r in data if r["accuracy"] < low]
    groups = _groups(data)
    g = np.array([r[key] for r in data])
    spreads = [float(np.std(g[groups == i], ddof=1)) for i in np.unique(groups)
               if (groups == i).sum() > 1]
    spread = float(np.mean(spreads)) if spreads else float("nan")
    numbers = {"g_solved": float(np.mean(solved)) if solved else float("nan"),
               "g_unsolved": float(np.mean(unsolved)) if unsolved else float("nan"),
               "n_solved": len(solved), "n_unsolved": len(unsolved), "seed_spread": spread}
    difference = abs(numbers["g_solved"] - numbers["g_unsolved"])
    numbers["difference"] = difference
    numbers["differs"] = bool(np.isfinite(difference) and np.isfinite(spread)
                              and difference > spread)
    if not solved or not unsolved:
        sentence = "G cannot be compared: the sweep lacks solved or unsolved configurations."
    else:
        than = "larger" if numbers["differs"] else "not larger"
        which = "the chain's pairs" if key == "g_ratio" else "the last hop's pair"
        sentence = (f"G (chance-corrected, focus on {which}) averages "
                    f"{numbers['g_solved']:.2f} in solved configurations and "
                    f"{numbers['g_unsolved']:.2f} in unsolved ones: the "
                    f"difference {difference:.2f} is {than} than its seed-to-seed spread "
                    f"{spread:.2f}.")
    return {**numbers, "sentence": sentence}


def checkpoint_path(setup: HopsSetup, layers: int, heads: int, seed: int,
                    folder: str | Path) -> Path:
    """Where ``trained_model`` and ``run_sweep(cache_dir=...)`` keep the training of
    (layers, heads, seed): one file per setup numbers that change the weights or the history."""
    mlp = f"mlp{setup.d_mlp}" if setup.d_mlp else ""
    tag = (f"n{setup.n_nodes}k{setup.hops}_m{setup.d_model}{mlp}L{layers}H{heads}_"
           f"s{setup.steps}b{setup.batch_size}lr{setup.lr:g}e{setup.embed_std:g}_"
           f"log{setup.log_every}x{setup.n_eval}_seed{seed}")
    return Path(folder) / f"ch09_hops_{tag}.pt"


def trained_model(setup: HopsSetup = FAST, layers: int = 2, heads: int = 2, hops: int = 2,
                  seed: int = 0, *, cache_dir: str | Path | None = None,
                  progress: bool = False) -> Transformer:
    """A trained model of the setup (eval mode). It answers every hop count 1..setup.hops
    (``hops`` is checked, and names the read-out the caller means to use:
    ``setup.task().readout(model(tokens))[:, hops - 1]``). With ``cache_dir`` the training is
    checkpointed in ``cache_dir/models``, where ``run_sweep`` with the same cache_dir keeps its
    trainings too, so a model of the sweep loads at once."""
    if not isinstance(setup, HopsSetup):
        raise TypeError(f"setup must be a HopsSetup (FAST or FULL), got {_show(setup)}")
    layers = check_int("layers", layers, minimum=1)
    heads = check_int("heads", heads, minimum=1)
    hops = check_int("hops", hops, minimum=1, maximum=setup.hops)
    seed = check_int("seed", seed, minimum=0)
    path = None if cache_dir is None else checkpoint_path(setup, layers, heads, seed,
                                                          Path(cache_dir) / MODELS)
    return train_hops(setup, layers, heads, seed, checkpoint=path, progress=progress
                      ).model.eval()


__all__ = ["HopsSetup", "FAST", "FULL", "BITS", "SOLVED", "PROBES", "hops_model", "eval_set",
           "hops_loss", "accuracy_per_hop", "readout_gate", "train_hops", "margin",
           "margin_doubling", "train_point", "rows", "run_sweep", "PREDICTORS",
           "compare_predictors", "precision_steepness", "g_lead", "g_leads",
           "g_contrast", "trained_model", "FP32_BITS", "G_KEYS", "precision_curve",
           "checkpoint_path", "MODELS", "LOO_TIE"]


def transition_record(results: Sequence[dict], comparison: dict, g_sentence: str,
                      lead_sentence: str, g_separates: bool, leads: Sequence[float], *,
                      n_boot: int = 20, seed: int = 0):
    """Chapter 9's structural threshold for the atlas: mean accuracy (over layers, heads, seeds)
    at each distinct margin L - log2 k, on x = 2**margin (> 0; the logistic in log x is the
    chapter's logistic in the margin), floor at chance, the fit of ``compare_predictors``'s
    margin row; answers from the predictor comparison and the G verdict."""
    from ..atlas import transition_record as record

    data = _check_rows(results, need=("margin", "chance"))
    margins = np.array([r["margin"] for r in data], dtype=float)
    acc = np.array([r["accuracy"] for r in data], dtype=float)
    levels = np.unique(margins)
    curve = np.array([acc[margins == m].mean() for m in levels])
    fitted = fit_logistic(np.exp2(margins), acc, n_boot=n_boot, seed=seed)
    table = comparison["predictors"]
    scored = {k: v["loo_r2"] for k, v in table.items() if np.isfinite(v["loo_r2"])}
    best = comparison["best"]
    structural = best in ("margin", "margin_doubling") and scored.get(best, -1.0) > 0
    positive = [float(v) for v in leads if v is not None]
    g_leads_ = bool(g_separates and positive and float(np.median(positive)) > 0)
    return record(
        chapter="09_phase_transition_lab", phenomenon="k-hop pointer chasing (structural)",
        parameter="2^(L − log2 k), L layers, k hops", unit="2^margin", x=np.exp2(levels),
        metric=curve, metric_name="accuracy (mean over heads and seeds)",
        floor=float(data[0]["chance"]), ceil=1.0,
        answers={
            "metric_artefact": (None, "The chapter scores one-token answers by accuracy only and "
                                "does not test a smoother metric."),
            "hidden_progress": (g_leads_, f"{g_sentence} {lead_sentence}"),
            "predictable": (bool(structural), comparison["verdict"])},
        printed={"ch09_predictor_verdict": comparison["verdict"],
                 "ch09_margin_threshold": format(table["margin"]["threshold"], ".2f"),
                 "ch09_g_sentence": g_sentence, "ch09_g_lead_sentence": lead_sentence},
        notes=("x = 2^margin so that the logistic in log x is the chapter's logistic in the "
               "margin (threshold in x = 2^(margin threshold)); the record's fit is on every "
               "configuration, the curve is the mean at each margin; G's lead is over training "
               "steps, not on this axis."),
        logistic=fitted, n_boot=n_boot, seed=seed)
