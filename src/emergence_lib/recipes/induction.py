"""The induction-heads recipe of chapter 4 (COURSE.md section 4): small attention-only
transformers trained on periodic random sequences. Every number of the setup lives here."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn as nn

from ..models import Transformer
from ..progress.attention import induction_measures, masked_loss, per_position_loss
from ..tasks import periodic_sampler, repeated_sequences
from ..train import TrainConfig, TrainResult, train
from ..utils import seeded


@dataclass(frozen=True)
class InductionRecipe:
    """One setup: task, model and optimiser numbers."""

    vocab: int = 64
    n_ctx: int = 64
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 2
    layernorm: bool = False      # with LayerNorm the FAST setup failed to form the circuit
    min_period: int = 8          # training sequences: period h ~ U[min_period, max_period]
    max_period: int = 32
    eval_block: int = 32         # evaluation: a random block of this length, repeated once
    n_eval: int = 256
    batch_size: int = 64
    lr: float = 3e-3
    steps: int = 1_200
    log_every: int = 25
    icl_early: int = 8           # in-context-learning score: loss at position `late`
    icl_late: int = 56           # minus loss at position `early` (both in the eval sequences)

    @property
    def uniform_loss(self) -> float:
        """The loss of a uniform guess, ln(vocab): the plateau."""
        return math.log(self.vocab)


FAST = InductionRecipe()
# FULL: twice the vocabulary (plateau at ln 128) and more than three times the steps, with
# FAST's architecture. Not validated as FULL (one core, seed 0): context/vocab 128, d_model 128,
# 4 heads, lr 1e-3 (no transition in 6,000 steps); d_model 128 with 2 heads, lr 3e-3 (still on
# the plateau at step 2,450); d_model 128 with 4 heads, lr 3e-3 (copy loss fell by step 4,500,
# but with no prefix-matching head: best score 0.03, so no induction head by our measure).
FULL = InductionRecipe(vocab=128, steps=4_000)
CONTROL_LAYERS = 1  # the control: the same recipe with a single attention-only layer

# Check-cell criteria (chapter 4): the transition must go from the plateau to well below it.
PLATEAU_TOLERANCE = 0.10    # copy loss starts within 10% of ln(vocab)
DROP_FRACTION = 0.5         # ... and must end below half of ln(vocab)
INDUCTION_THRESHOLD = 0.5   # best last-layer head's prefix-matching score must exceed this
ABLATION_RESTORED = 0.5     # ablating the induction heads must bring back >= 50% of the drop


def control(recipe: InductionRecipe = FAST) -> InductionRecipe:
    """The same recipe with one layer (no previous-token head can feed an induction head)."""
    return replace(recipe, n_layers=CONTROL_LAYERS)


def induction_model(recipe: InductionRecipe = FAST, seed: int = 0) -> Transformer:
    """An attention-only transformer (no MLP) built the same way for every seed."""
    with seeded(seed):
        return Transformer(vocab=recipe.vocab, n_ctx=recipe.n_ctx, d_model=recipe.d_model,
                           n_layers=recipe.n_layers, n_heads=recipe.n_heads, d_mlp=None,
                           layernorm=recipe.layernorm)


def eval_sequences(recipe: InductionRecipe = FAST, seed: int = 0
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The evaluation set: (n_eval, 2 * eval_block) tokens and copyable mask, fixed per seed."""
    generator = torch.Generator().manual_seed(10_000 + seed)
    return repeated_sequences(recipe.n_eval, recipe.eval_block, recipe.vocab, generator)


def lm_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Next-token loss at every position (the training objective): tokens (B, T)."""
    tokens, _ = batch
    return per_position_loss(model(tokens), tokens).mean()


def copy_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Next-token loss on the copyable positions only: (tokens, mask) -> scalar."""
    tokens, mask = batch
    return masked_loss(model(tokens), tokens, mask)


def train_induction(recipe: InductionRecipe = FAST, seed: int = 0, *,
                    steps: int | None = None, snapshots: bool = True,
                    checkpoint: str | Path | None = None, progress: bool = True,
                    desc: str | None = None) -> TrainResult:
    """Train ``induction_model(recipe, seed)`` on fresh periodic sequences, logging every
    measure of ``progress.attention.induction_measures`` on the evaluation set every
    ``log_every`` steps (and keeping weight snapshots there, for the checkpoint widget)."""
    model = induction_model(recipe, seed)
    tokens, mask = eval_sequences(recipe, seed)
    config = TrainConfig(steps=steps or recipe.steps, lr=recipe.lr,
                         batch_size=recipe.batch_size, optimizer="adamw", seed=seed)
    sampler = periodic_sampler(recipe.n_ctx, recipe.vocab, recipe.min_period, recipe.max_period)

    def evaluate(m: nn.Module) -> dict[str, float]:
        return induction_measures(m, tokens, mask, recipe.icl_early, recipe.icl_late)

    return train(model, lm_loss, sampler, config, evaluate=evaluate,
                 log_steps=recipe.log_every, snapshots=snapshots, checkpoint=checkpoint,
                 progress=progress, desc=desc or f"{recipe.n_layers}-layer, seed {seed}")
