"""Checkers for chapter 4 (induction heads)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..detect import first_crossing
from ..progress.attention import prefix_matching_score
from .core import CheckResult, check_function


def _cases_prefix() -> list[dict]:
    g = torch.Generator().manual_seed(4)
    cases = []
    for T, vocab in [(6, 3), (10, 4), (12, 20)]:
        block = torch.randint(vocab, (T // 2,), generator=g)
        tokens = torch.cat([block, block]).numpy()
        scores = torch.randn(T, T, generator=g)
        scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        cases.append({"pattern": scores.softmax(-1).numpy(), "tokens": tokens})
    return cases


def prefix_matching_reference(pattern: np.ndarray, tokens: np.ndarray) -> float:
    """One head: pattern (T, T), tokens (T,) -> its prefix-matching score."""
    score = prefix_matching_score(torch.as_tensor(pattern)[None, None],
                                  torch.as_tensor(tokens)[None])
    return float(score[0])


def _same_token(pattern: np.ndarray, tokens: np.ndarray) -> float:
    """A known mistake: attention to the earlier copies of the current token itself."""
    T = len(tokens)
    totals = []
    for t in range(T):
        keys = [s for s in range(t) if tokens[s] == tokens[t]]
        if keys:
            totals.append(pattern[t, keys].sum())
    return float(np.mean(totals))


def check_prefix_matching(student: Callable[[np.ndarray, np.ndarray], float]) -> CheckResult:
    """CS-student exercise: the prefix-matching score of one attention head."""
    hints = [
        (_same_token, "you scored attention to the earlier copy of the current token; an "
                      "induction head looks one position *later*, at the token that followed "
                      "that copy (s with tokens[s - 1] == tokens[t])."),
    ]
    return check_function(student, prefix_matching_reference, _cases_prefix(),
                          name="prefix_matching", rtol=1e-4, atol=1e-5, hints=hints)


def transition_step_reference(steps: np.ndarray, copy_loss: np.ndarray, vocab: int) -> float:
    """First step at which the copy loss falls to half of ln(vocab) and stays below, linearly
    interpolated; nan if it never does."""
    at = first_crossing(np.asarray(steps, dtype=float), np.asarray(copy_loss, dtype=float),
                        0.5 * np.log(vocab), direction="down", sustained=True)
    return float("nan") if at is None else at


def check_transition_step(student: Callable[[np.ndarray, np.ndarray, int], float]
                          ) -> CheckResult:
    """Applied-researcher exercise: the phase-change step of a training run."""
    cases = [
        {"steps": np.array([0, 100, 200, 300]), "copy_loss": np.array([4.1, 4.0, 1.0, 0.5]),
         "vocab": 64},
        {"steps": np.array([0, 50, 100, 150, 200]),
         "copy_loss": np.array([4.1, 1.9, 2.5, 1.0, 0.8]), "vocab": 64},
        {"steps": np.array([0, 10, 20]), "copy_loss": np.array([2.3, 2.2, 2.1]), "vocab": 10},
    ]
    hints = [
        (lambda steps, copy_loss, vocab: float(steps[np.argmax(copy_loss < 0.5 * np.log(vocab))]),
         "interpolate linearly between the two logged steps around the crossing."),
        (lambda steps, copy_loss, vocab: first_crossing(steps, copy_loss, 0.5 * np.log(vocab),
                                                        "down"),
         "the loss must *stay* below the level: a brief dip that bounces back is not the "
         "transition (test 2)."),
    ]
    return check_function(student, transition_step_reference, cases, name="transition_step",
                          rtol=1e-4, hints=hints)
