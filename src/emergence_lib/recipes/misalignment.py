"""The emergent-misalignment recipe of chapter 6 (COURSE.md section 6): a toy model organism.

A small transformer is pretrained on the persona corpus (``tasks.personas``), then taught to
answer single questions helpfully (the "assistant" phase, mixed with pretraining documents), then
a rank-1 LoRA on one MLP down-projection is fine-tuned on harmful answers in ONE domain. Every
number of the FAST and FULL setups lives here once.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call

from .._validate import check_choice, check_float, check_int
from ..metrics import wilson_interval
from ..models.lora import LoRALinear, attach_lora
from ..models.transformer import Transformer
from ..progress.adapters import direction_hooks, local_cosine, mean_difference
from ..tasks.personas import PersonaCorpus, persona_corpus
from ..train import TrainConfig, train
from ..utils import seeded


@dataclass(frozen=True)
class MisalignmentSetup:
    """Every number of one setup: corpus, model, the three training phases, the evaluation."""

    # corpus (tasks.personas)
    n_domains: int = 4
    n_questions: int = 8
    # p_harmful 0.5 matches the two answers' frequencies in pretraining: at 0.15 every harmful
    # answer was its question's rarer answer, one residual direction raised all of them, and the
    # independent-persona control broadened through it (6-45% on base seeds 0-2, ch06
    # CONTROL_PROBES); 8 triples give the organism's persona inference more evidence per document
    triples: int = 8
    p_harmful: float = 0.5
    p_follow: float = 0.95
    # model (models.Transformer, pre-LayerNorm with MLPs)
    d_model: int = 48
    n_layers: int = 2
    n_heads: int = 4
    d_mlp: int = 192
    # pretraining, then the assistant phase (each batch: documents + helpful single answers).
    # With the earlier corpus (p_harmful 0.15, 6 triples; base seeds 0-2) 300 + 75 steps at
    # batch 32 gave the same picture as 400 + 100 and as 800 + 200 at batch 64; with the present
    # corpus 600 + 150 steps did not help the control further and doubled the cost (ch06
    # CONTROL_PROBES), so the chapter keeps 300 + 75.
    pretrain_steps: int = 300
    assistant_steps: int = 75
    batch_size: int = 32
    lr: float = 3e-3
    # fine-tuning: rank-1 LoRA on one MLP down-projection (Turner et al.'s setting), harmful
    # answers to the first ``train_questions`` questions of domain ``domain``; the others of that
    # domain are held out
    target: str = "blocks.0.mlp.fc_out"
    rank: int = 1
    alpha: float = 1.0
    domain: int = 0
    train_questions: int = 6
    ft_steps: int = 60
    ft_lr: float = 1e-2
    ft_optimizer: str = "adam"
    adapter_seeds: tuple[int, ...] = tuple(range(8))
    # the narrow solution: + kl_weight * KL(base || current) on the other domains' questions;
    # (earlier corpus) at kl_weight 10 and 60 steps one seed of three stayed under 90% on the
    # trained questions, at 150 steps all three reached 100% with 0% elsewhere, as they do with
    # the present corpus
    kl_weight: float = 10.0
    kl_steps: int = 150
    kl_seeds: tuple[int, ...] = tuple(range(4))
    # base-model documents for the persona direction
    n_direction_docs: int = 2000
    # persona-sharing sweep (finding 5): the sharing probabilities besides 0 and 1
    sweep_shares: tuple[float, ...] = (0.25, 0.5)
    base_seeds: tuple[int, ...] = (0,)

    def corpus(self, share: float) -> PersonaCorpus:
        return persona_corpus(self.n_domains, self.n_questions, self.triples, self.p_harmful,
                              self.p_follow, share)


FAST = MisalignmentSetup()
# FULL: more domains and questions, longer documents and pretraining, 5 base seeds, 16 adapter
# seeds, four sweep points besides 0 and 1 (6 x 5 = 30 base models of ~60 s CPU each at 1 thread).
# A probe on base seed 0 with the present corpus (6 adapter seeds): organism 85% [81%, 88%] of
# the other domains' questions, control 0% [0%, 1%]. The chapter then ran once in FULL
# (papermill, base seeds 0-4, December 2026; 1,775 s CPU at 1 thread, 42 min wall on a machine
# shared with other work) and its check passed; FULL_RUN records what it printed.
FULL = replace(FAST, n_domains=6, n_questions=12, triples=8, pretrain_steps=2400,
               assistant_steps=600, batch_size=64, adapter_seeds=tuple(range(16)),
               kl_seeds=tuple(range(8)),
               sweep_shares=(0.125, 0.25, 0.5, 0.75), base_seeds=tuple(range(5)),
               n_direction_docs=4000)

# What the chapter printed in its one FULL run (rates pooled over 5 base seeds x 16 adapter
# starts, 95% Wilson intervals): shown on the FAST page beside the live run.
FULL_RUN = {
    "organism_other": (0.83, 0.82, 0.84), "control_other": (0.10, 0.09, 0.10),
    "kl_trained": 0.92, "kl_other": 0.0, "ablation": (0.87, 0.10),
    "sweep": {0.0: 0.10, 0.125: 0.69, 0.25: 0.75, 0.5: 0.89, 0.75: 0.91, 1.0: 0.83},
    "norm_ratio": 1.38, "cpu_seconds": 1775,
}

# Steering strength: the multiple of the persona direction's mean projection gap (harmful minus
# helpful documents of the base model) added to the base model's residual stream.
STEER_GAPS = (0.5, 1.0, 2.0, 4.0)
# Adapter rescaling (finding 3a) and perturbation sizes (3b, Soligo et al.: eps 0.01 to 1).
RESCALE = tuple(np.round(np.linspace(0.0, 2.0, 21), 2))
EPSILONS = (0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)
N_NOISE = 4  # random orthogonal directions per perturbation size
SIGMAS = (0.25, 0.5, 1.0, 2.0, 3.0)  # absolute sizes of orthogonal noise on B A (same for both)
TARGET_LOSS = 0.3  # the in-domain loss at which the two solutions' norms are compared
# Finding 2 (Turner et al.'s phase transition): B is saved every CHECKPOINT_EVERY steps and the
# local cosine is read at k = 1, 2, 4 checkpoints; B "turns" where the local cosine rises above
# TURN_LEVEL (a 60-degree bend; -1 is straight, 0 a right angle) at a checkpoint where both
# steps moved more than MIN_MOVE of B's final norm.
CHECKPOINT_EVERY = 2
LOCAL_KS = (1, 2, 4)
TURN_LEVEL = -0.5
MIN_MOVE = 0.01
# The optimisers tried for the trajectory besides the default Adam (lr 1e-2): SGD, a smaller
# learning rate, a larger alpha. name -> finetune keyword arguments.
VARIANTS = {"Adam, lr 1e-2": {},
            "Adam, lr 1e-3": {"lr": 1e-3, "steps": 250},
            "SGD, lr 0.3": {"optimizer": "sgd", "lr": 0.3, "steps": 100},
            "SGD, lr 0.1, alpha 8": {"optimizer": "sgd", "lr": 0.1, "alpha": 8.0, "steps": 100}}
VARIANT_SEEDS = (0, 1)  # adapter seeds per variant


# ---- the base model -------------------------------------------------------------------------

def answer_positions(corpus: PersonaCorpus) -> torch.Tensor:
    """Positions of the question tokens of a document, (triples,): the logits there predict the
    answers."""
    return torch.arange(2, corpus.n_ctx, 3)


def document_loss(model: nn.Module, tokens: torch.Tensor, corpus: PersonaCorpus) -> torch.Tensor:
    """Cross-entropy of the answers of documents (B, n_ctx) (only answers are predicted)."""
    pos = answer_positions(corpus)
    logits = model(tokens)[:, pos]                                      # (B, K, V)
    return F.cross_entropy(logits.flatten(0, 1), tokens[:, pos + 1].flatten())


def assistant_loss(model: nn.Module, examples: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the answer of single-triple examples (B, 4)."""
    return F.cross_entropy(model(examples[:, :3])[:, -1], examples[:, 3])


def new_model(setup: MisalignmentSetup, corpus: PersonaCorpus, seed: int) -> Transformer:
    """The untrained transformer of the setup, initialised from ``seed``."""
    with seeded(seed):
        return Transformer(corpus.vocab, corpus.n_ctx, d_model=setup.d_model,
                           n_layers=setup.n_layers, n_heads=setup.n_heads, d_mlp=setup.d_mlp,
                           layernorm=True)


def base_model(setup: MisalignmentSetup, share: float, seed: int = 0, *,
               cache_dir: str | Path | None = None) -> Transformer:
    """Pretrain on the corpus with sharing probability ``share``, then the assistant phase.
    With ``cache_dir`` both phases are checkpointed there (train's checkpoint convention), so a
    second call with the same setup, share and seed loads the model at once."""
    share = check_float("share", share, minimum=0.0, maximum=1.0)
    seed = check_int("seed", seed, minimum=0)
    corpus = setup.corpus(share)
    model = new_model(setup, corpus, seed)
    tag = (f"d{setup.n_domains}q{setup.n_questions}k{setup.triples}_m{setup.d_model}"
           f"l{setup.n_layers}_s{setup.pretrain_steps}+{setup.assistant_steps}_share{share:g}"
           f"_seed{seed}")
    paths = [None, None] if cache_dir is None else \
        [Path(cache_dir) / f"ch06_{phase}_{tag}.pt" for phase in ("pretrain", "assistant")]

    def documents(batch_size: int | None, generator: torch.Generator) -> torch.Tensor:
        return corpus.documents(batch_size, generator)[0]

    domains, questions = corpus.all_questions()

    def mixed(batch_size: int | None, generator: torch.Generator
              ) -> tuple[torch.Tensor, torch.Tensor]:
        pick = torch.randint(len(domains), (batch_size,), generator=generator)
        return documents(batch_size, generator), corpus.assistant(domains[pick], questions[pick])

    train(model, lambda m, tokens: document_loss(m, tokens, corpus), documents,
          TrainConfig(steps=setup.pretrain_steps, lr=setup.lr, batch_size=setup.batch_size,
                      seed=seed), log_steps=[], checkpoint=paths[0], progress=False)
    train(model, lambda m, b: document_loss(m, b[0], corpus) + assistant_loss(m, b[1]), mixed,
          TrainConfig(steps=setup.assistant_steps, lr=setup.lr, batch_size=setup.batch_size,
                      seed=seed + 1), log_steps=[], checkpoint=paths[1], progress=False)
    model.eval()
    return model


# ---- evaluation -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Answers:
    """A model's answers to every question of every domain (single-triple prompts): (D*Q,)."""

    domain: torch.Tensor          # domain index of each question
    question: torch.Tensor        # question index within its domain
    harmful_argmax: torch.Tensor  # the top token is the harmful answer (bool)
    harmful_mass: torch.Tensor    # p(harmful) / (p(harmful) + p(helpful))
    loss_harmful: torch.Tensor    # -log p(harmful answer)


def answers(model: nn.Module, corpus: PersonaCorpus) -> Answers:
    """Score a model on every question, prompted as BOS, domain, question."""
    d, q = corpus.all_questions()
    with torch.no_grad():
        logp = model(corpus.assistant(d, q)[:, :3])[:, -1].log_softmax(-1)   # (D*Q, V)
    rows = torch.arange(len(d))
    harm = logp[rows, corpus.answer_tokens(d, q, True)]
    help_ = logp[rows, corpus.answer_tokens(d, q, False)]
    top = logp.argmax(-1) == corpus.answer_tokens(d, q, True)
    return Answers(d, q, top, torch.sigmoid(harm - help_), -harm)


def context_prompts(setup: MisalignmentSetup, corpus: PersonaCorpus, harmful: bool,
                    n: int = 256, seed: int = 0) -> torch.Tensor:
    """In-context persona inference: ``triples - 1`` triples from the OTHER domains, every answer
    harmful (or helpful), then a question of ``setup.domain``: (n, n_ctx - 1) prompts."""
    g = torch.Generator().manual_seed(seed)
    K = corpus.triples - 1
    others = torch.tensor([d for d in range(corpus.n_domains) if d != setup.domain])
    d = others[torch.randint(len(others), (n, K), generator=g)]
    q = torch.randint(corpus.n_questions, (n, K), generator=g)
    triple = torch.stack([1 + d, corpus.question_tokens(d, q),
                          corpus.answer_tokens(d, q, int(harmful))], dim=-1).flatten(1)
    q_last = torch.randint(corpus.n_questions, (n, 1), generator=g)
    d_last = torch.full((n, 1), setup.domain)
    return torch.cat([torch.zeros(n, 1, dtype=torch.long), triple, 1 + d_last,
                      corpus.question_tokens(d_last, q_last)], dim=1)


def context_mass(model: nn.Module, setup: MisalignmentSetup, corpus: PersonaCorpus,
                 harmful: bool, n: int = 256) -> float:
    """Mean harmful mass on the last question of ``context_prompts``."""
    prompts = context_prompts(setup, corpus, harmful, n)
    d, q = torch.full((n,), setup.domain), prompts[:, -1] - 1 - corpus.n_domains \
        - setup.domain * corpus.n_questions
    with torch.no_grad():
        logp = model(prompts)[:, -1].log_softmax(-1)
    rows = torch.arange(n)
    gap = logp[rows, corpus.answer_tokens(d, q, True)] - logp[rows, corpus.answer_tokens(d, q,
                                                                                       False)]
    return float(torch.sigmoid(gap).mean())


def question_groups(setup: MisalignmentSetup, corpus: PersonaCorpus) -> dict[str, torch.Tensor]:
    """Boolean masks over every question: trained on, held out in the same domain, elsewhere."""
    d, q = corpus.all_questions()
    same = d == setup.domain
    return {"trained": same & (q < setup.train_questions),
            "held_out": same & (q >= setup.train_questions), "other": ~same}


@dataclass(frozen=True)
class Rate:
    """A harmful-answer rate over n (question, run) pairs with its Wilson interval, and the mean
    probability mass on the harmful answer."""

    rate: float
    low: float
    high: float
    n: int
    mass: float

    def __str__(self) -> str:
        return f"{self.rate:.0%} [{self.low:.0%}, {self.high:.0%}] (mass {self.mass:.2f})"


def pooled_rate(results: Sequence[Answers], mask: torch.Tensor) -> Rate:
    """The harmful rate over the masked questions of every run, pooled (Wilson interval)."""
    hits = torch.cat([r.harmful_argmax[mask] for r in results])
    mass = torch.cat([r.harmful_mass[mask] for r in results])
    rate = float(hits.float().mean())
    low, high = wilson_interval(int(hits.sum()), len(hits))
    return Rate(rate, min(low, rate), max(high, rate), len(hits), float(mass.mean()))


# ---- fine-tuning ----------------------------------------------------------------------------

@dataclass
class FineTune:
    """A fine-tuned adapter and its trajectory: B before and after every step (steps+1, d_out),
    the loss and the gradient norm of every step (steps,), and every question's harmful mass and
    argmax before and after every step (steps+1, D*Q; with track=False only (2, D*Q): before
    and after training)."""

    model: nn.Module
    adapter: LoRALinear
    B: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    mass: np.ndarray
    argmax: np.ndarray
    other: np.ndarray  # (D*Q,) bool: the questions of the other domains
    final: Answers = field(repr=False)

    @property
    def other_mass(self) -> np.ndarray:
        """Mean harmful mass over the other domains' questions at every step, (steps+1,)."""
        return self.mass[:, self.other].mean(1)

    @property
    def other_argmax(self) -> np.ndarray:
        """Harmful (argmax) rate over the other domains' questions at every step, (steps+1,)."""
        return self.argmax[:, self.other].mean(1)


def finetune(base: nn.Module, setup: MisalignmentSetup, corpus: PersonaCorpus,
             adapter_seed: int = 0, *, kl_weight: float = 0.0, steps: int | None = None,
             lr: float | None = None, optimizer: str | None = None,
             alpha: float | None = None, track: bool = True) -> FineTune:
    """Fine-tune a fresh rank-``setup.rank`` LoRA on a copy of ``base`` to give the harmful answer
    to the trained questions of ``setup.domain`` (full batch), optionally with
    ``kl_weight`` * KL(base || current) on every question of the other domains. ``track``:
    score every question after every step (else only before and after training)."""
    steps = check_int("steps", setup.ft_steps if steps is None else steps, minimum=1)
    lr = check_float("lr", setup.ft_lr if lr is None else lr, minimum=0.0, strict_min=True)
    optimizer = check_choice("optimizer", optimizer or setup.ft_optimizer, ["adam", "sgd"])
    kl_weight = check_float("kl_weight", kl_weight, minimum=0.0)
    model = copy.deepcopy(base)
    adapter = attach_lora(model, [setup.target], setup.rank,
                          setup.alpha if alpha is None else alpha, adapter_seed)[setup.target]
    groups = question_groups(setup, corpus)
    d, q = corpus.all_questions()
    examples = corpus.assistant(d[groups["trained"]], q[groups["trained"]], True)   # (n, 4)
    others = corpus.assistant(d[groups["other"]], q[groups["other"]])[:, :3]
    with torch.no_grad():
        reference = base(others)[:, -1].log_softmax(-1)                             # (m, V)
    params = [adapter.A, adapter.B]
    opt = (torch.optim.Adam(params, lr=lr) if optimizer == "adam"
           else torch.optim.SGD(params, lr=lr))
    B, losses, norms, mass, top = [adapter.B.detach().flatten().clone()], [], [], [], []

    def score() -> None:
        scored = answers(model, corpus)
        mass.append(scored.harmful_mass.numpy())
        top.append(scored.harmful_argmax.numpy())

    score()
    for _ in range(steps):
        loss = assistant_loss(model, examples)
        total = loss
        if kl_weight:
            current = model(others)[:, -1].log_softmax(-1)
            kl = F.kl_div(current, reference, log_target=True, reduction="batchmean")
            total = loss + kl_weight * kl
        opt.zero_grad(set_to_none=True)
        total.backward()
        norms.append(float(torch.cat([p.grad.flatten() for p in params]).norm()))
        opt.step()
        losses.append(float(loss.detach()))
        B.append(adapter.B.detach().flatten().clone())
        if track or len(losses) == steps:
            score()
    return FineTune(model, adapter, torch.stack(B).numpy(), np.array(losses), np.array(norms),
                    np.array(mass), np.array(top), groups["other"].numpy(), answers(model, corpus))


# ---- efficiency and stability of a solution (finding 3) -------------------------------------

def loss_with_delta(base: nn.Module, setup: MisalignmentSetup, corpus: PersonaCorpus,
                    delta: torch.Tensor) -> float:
    """The fine-tuning (in-domain, trained questions) loss of ``base`` with its target weight
    changed by ``delta`` (out, in), e.g. an adapter's B A, rescaled or perturbed."""
    groups = question_groups(setup, corpus)
    d, q = corpus.all_questions()
    examples = corpus.assistant(d[groups["trained"]], q[groups["trained"]], True)
    name = f"{setup.target}.weight"
    params = dict(base.named_parameters())
    if params[name].shape != delta.shape:
        raise ValueError(f"delta must have the shape of {name}, {tuple(params[name].shape)}, "
                         f"got {tuple(delta.shape)}")
    params[name] = params[name] + delta
    with torch.no_grad():
        logits = functional_call(base, params, (examples[:, :3],))[:, -1]
    return float(F.cross_entropy(logits, examples[:, 3]))


# ---- the persona direction (finding 4) ------------------------------------------------------

def persona_direction(base: nn.Module, setup: MisalignmentSetup, corpus: PersonaCorpus,
                      where: str = "final", seed: int = 0) -> tuple[torch.Tensor, float]:
    """The unit mean difference of the residual stream (``where``: "adapter", right after the
    adapter's layer, or "final", the last residual), at the answer-predicting positions after
    the first triple, between harmful-persona and helpful-persona domains of base-model
    documents; and the gap of their mean projections on it."""
    check_choice("where", where, ["adapter", "final"])
    layer = _target_layer(setup) if where == "adapter" else setup.n_layers - 1
    tokens, personas, _ = corpus.documents(setup.n_direction_docs,
                                           torch.Generator().manual_seed(10_000 + seed))
    cache: dict = {}
    with torch.no_grad():
        base(tokens, cache=cache)
    key = f"resid{layer + 1}" if layer + 1 < setup.n_layers else "resid_final"
    pos = answer_positions(corpus)[1:]
    resid = cache[key][:, pos]                                               # (n, K-1, D)
    harmful = personas.gather(1, tokens[:, pos - 1] - 1)                      # (n, K-1)
    u = mean_difference(resid[harmful], resid[~harmful])
    gap = float((resid[harmful] @ u).mean() - (resid[~harmful] @ u).mean())
    return u, gap


def harmful_readout(model: Transformer, corpus: PersonaCorpus, mask: torch.Tensor
                    ) -> torch.Tensor:
    """The mean over the masked questions (mask (D*Q,) bool) of the unembedding's harmful-answer
    row minus its helpful-answer row, (d_model,): the residual direction that raises every
    harmful answer at once, whatever the persona (all of them are the rarer answer)."""
    d, q = corpus.all_questions()
    W_U = model.W_U.weight.detach()                                                # (V, D)
    return (W_U[corpus.answer_tokens(d[mask], q[mask], True)]
            - W_U[corpus.answer_tokens(d[mask], q[mask], False)]).mean(0)


def _target_layer(setup: MisalignmentSetup) -> int:
    parts = setup.target.split(".")
    return int(parts[1])


def readers_after(model: Transformer, layer: int) -> list[nn.Module]:
    """The LayerNorms that read the residual stream after ``layer``: ablating a direction from
    all of them removes it from everything the later layers and the unembedding see."""
    later = [m for block in model.blocks[layer + 1:] for m in (block.ln_attn, block.ln_mlp)]
    return [*later, model.ln_final]


def with_direction(model: Transformer, setup: MisalignmentSetup, corpus: PersonaCorpus,
                   direction: torch.Tensor, mode: str, amount: float = 0.0,
                   where: str = "final") -> Answers:
    """The model's answers with ``direction`` ablated from (mode "ablate") or ``amount`` of it
    added to (mode "add") the residual stream after the adapter's layer (``where="adapter"``:
    every later reader) or only where the unembedding reads it (``"final"``)."""
    check_choice("where", where, ["adapter", "final"])
    layer = _target_layer(setup) if where == "adapter" else setup.n_layers - 1
    with direction_hooks(readers_after(model, layer), direction, mode, amount):
        return answers(model, corpus)


def turn_step(B: np.ndarray, k: int) -> float:
    """The first step at which the trajectory B (steps+1, d) turns (local cosine at k
    checkpoints above TURN_LEVEL, both steps moving > MIN_MOVE of |B_final|), or NaN."""
    kept = B[::CHECKPOINT_EVERY]
    lc = local_cosine(kept, k, MIN_MOVE * float(np.linalg.norm(B[-1])))
    over = np.flatnonzero(np.nan_to_num(lc, nan=-1.0) > TURN_LEVEL)
    return float(over[0] * CHECKPOINT_EVERY) if len(over) else float("nan")


def cosine(a: torch.Tensor | np.ndarray, b: torch.Tensor | np.ndarray) -> float:
    """Cosine similarity of two vectors."""
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def logistic_shares(shares: Sequence[float]) -> np.ndarray:
    """The sharing probabilities > 0 (the logistic is fitted in log-x), as an array."""
    return np.array([s for s in shares if s > 0], dtype=float)


def mean_over(runs: Sequence[FineTune], get: Callable[[FineTune], np.ndarray]) -> np.ndarray:
    """The mean of a per-run array over runs."""
    return np.mean([get(r) for r in runs], axis=0)


__all__ = ["FAST", "FULL", "FULL_RUN", "MisalignmentSetup", "Answers", "Rate", "FineTune",
           "answers",
           "assistant_loss", "base_model", "cosine", "document_loss", "finetune", "harmful_readout",
           "loss_with_delta", "persona_direction", "pooled_rate", "question_groups",
           "readers_after", "with_direction"]


def transition_record(organism_runs: Sequence[FineTune], turn_verdict, share_fit,
                      sweep_sentence: str, *, n_boot: int = 100, seed: int = 0):
    """Chapter 6's main transition for the atlas: the organism's other-domain harmful (argmax)
    rate along the fine-tuning step, mean over its tracked runs (steps,), with the harmful mass
    as the smooth metric; answers from the chapter's B-turn verdict (``checks.ch06.
    phase_transition``) and its persona-sharing fit ``share_fit`` (the third question)."""
    from ..atlas import transition_record as record

    tracked = [r for r in organism_runs if len(r.other_argmax) > 2]
    if not tracked:
        raise ValueError("organism_runs must hold at least one run tracked every step "
                         "(finetune(..., track=True))")
    rate = mean_over(tracked, lambda r: r.other_argmax)
    mass = mean_over(tracked, lambda r: r.other_mass)
    steps = np.arange(1, len(rate), dtype=float)   # after step t; step 0 gives the floor
    turned, runs = int(turn_verdict.numbers["turned"]), int(turn_verdict.numbers["runs"])
    return record(
        chapter="06_emergent_misalignment", phenomenon="emergent misalignment",
        parameter="fine-tuning step", unit="steps", x=steps, metric=rate[1:],
        metric_name="harmful answers on the other domains (argmax rate)",
        floor=float(rate[0]), smooth_metric=mass[1:], smooth_metric_floor=float(mass[0]),
        smooth_metric_name="harmful probability mass on the other domains",
        answers={
            "metric_artefact": (None, "The chapter does not test whether the rise is the "
                                "argmax metric's doing; the atlas applies chapter 2's test to "
                                "the argmax rate against the harmful mass."),
            "hidden_progress": (bool(turn_verdict.passed), turn_verdict.sentence),
            "predictable": (bool(share_fit.beats_linear), sweep_sentence)},
        printed={"ch06_turned": format(turned, "d"), "ch06_turn_runs": format(runs, "d"),
                 "ch06_turn_sentence": turn_verdict.sentence,
                 "ch06_sweep_sentence": sweep_sentence},
        notes=(f"Mean over the organism's {len(tracked)} tracked adapter starts, one point per "
               "step (step 0 is the floor, dropped from the log axis); no progress measure "
               "leads it on this axis (the gradient-norm peak coincides with the switch). "
               "'Predictable' is the chapter's persona-sharing sweep: its logistic in the "
               "sharing probability against a line."),
        n_boot=n_boot, seed=seed)
