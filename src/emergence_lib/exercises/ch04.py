"""Checkers for chapter 4 (induction heads)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..detect import first_crossing
from ..progress.attention import prefix_matching_score
from .core import CheckResult, check_function, check_number, check_verdict


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


# --- CS student: a prediction checked against the run ---

CONTROL_PREDICTION_ATOL = 0.35   # nats: the CS student's prediction of the control's end loss


def check_control_prediction(answer: object, control_end: float) -> CheckResult:
    """CS-student prediction: the copy loss the one-layer control ends at (nats), within
    ``CONTROL_PREDICTION_ATOL`` of the run's."""
    return check_number(
        answer, control_end, name="predicted_control_loss", atol=CONTROL_PREDICTION_ATOL,
        unit="nats",
        explain="A single layer cannot know which token came before a key, so it cannot find the "
                "copy; the best it can do is spread its bet evenly over the distinct tokens "
                "already in the context. How many are there in a block, and what is the loss "
                "of a uniform guess among them?")


# --- applied researcher: does the copy loss depend on the distance to the copy? ---

def distance_slope(blocks: object, losses: object, n_boot: int = 200, seed: int = 0
                   ) -> tuple[float, float, float]:
    """Slope of the mean copy loss against log2(block) (nats per doubling of the distance) and
    its 95% bootstrap interval: blocks (X,), losses (X, N) per-sequence copy losses; each
    bootstrap draw resamples the N sequences of every block."""
    x = np.log2(np.asarray(blocks, dtype=float))
    y = np.asarray(losses, dtype=float)
    if y.ndim != 2 or y.shape[0] != len(x) or y.shape[1] < 2 or len(x) < 2:
        raise ValueError(f"losses must have shape (len(blocks), N) with N >= 2 and >= 2 blocks, "
                         f"got {y.shape} for {len(x)} blocks")
    slope = float(np.polyfit(x, y.mean(1), 1)[0])
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, y.shape[1], size=(n_boot, *y.shape))          # (n_boot, X, N)
    means = np.take_along_axis(y[None], picks, axis=2).mean(2)            # (n_boot, X)
    draws = np.polyfit(x, means.T, 1)[0]                                  # (n_boot,)
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return slope, float(lo), float(hi)


def distance_independent(interval: tuple[float, float], equivalence: float) -> bool:
    """Is the copy loss independent of the distance? True when the slope's whole interval lies
    inside +-``equivalence`` nats per doubling (an interval that merely contains 0 is not
    enough: a wide one contains every answer)."""
    lo, hi = interval
    return bool(-equivalence <= lo and hi <= equivalence)


def check_distance_verdict(answer: object, model: torch.nn.Module, recipe: object
                           ) -> CheckResult:
    """Applied-researcher verdict on "the copy loss does not depend on the distance to the
    copy": True or False, against the reference sweep of ``recipes.induction`` on ``model``."""
    from ..recipes import induction

    if answer is None or answer is Ellipsis:       # no reference run needed to say so
        return check_verdict(answer, None, name="verdict")
    losses = induction.copy_loss_by_distance(model.eval(), recipe)
    _, lo, hi = distance_slope(induction.DISTANCE_BLOCKS, losses.numpy(),
                               n_boot=induction.DISTANCE_BOOT)
    equivalence = induction.DISTANCE_EQUIVALENCE
    reference = distance_independent((lo, hi), equivalence)
    return check_verdict(
        answer, reference, name="verdict",
        explain=f"The reference sweep's slope interval is [{lo:+.3f}, {hi:+.3f}] nats per "
                f"doubling and the hypothesis allows +-{equivalence}: the verdict is True only "
                f"when the whole interval lies inside that band.")


# --- frontier researcher: forecasting the drop from the plateau ---

def forecast_error(predicted: float, observed: float) -> float:
    """Relative error |predicted - observed| / observed of a forecast step (inf if none)."""
    if predicted is None or not np.isfinite(predicted) or observed <= 0:
        return float("inf")
    return float(abs(predicted - observed) / observed)
