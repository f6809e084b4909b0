"""Chapter 2 (the metric mirage): chapter 1's addition family scored under many metrics.
Every number of the chapter's setup and of its check lives here; the family is addition.py's."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._validate import check_int
from ..metrics import METRICS, exact_match_any_positions, score_models
from ..tasks import addition_problems
from . import addition
from .addition import FamilyMember

FAST = addition.FAST                       # 1 seed x 1 split x 6 widths
FULL = addition.FULL                       # 3 seeds x 2 splits x 6 widths
ANSWER_LENGTH = addition.N_DIGITS + 1      # 5 answer digits
ANSWER_LENGTHS = tuple(range(1, ANSWER_LENGTH + 1))
TEST_SIZES = (50, 500, 5_000)              # the resolution-limited evaluation
N_BOOT = 200                               # bootstrap resamples of each logistic fit

# The check: exact match must be clearly sharper than per-token accuracy, and the edit distance
# smooth (well fitted by a line in log-size, or not much steeper than per-token accuracy).
STEEPNESS_MARGIN = 1.5                     # k(exact match) >= 1.5 x k(token accuracy)
EDIT_LINEAR_R2 = 0.9                       # R^2 of a line in log-size, or ...
EDIT_MAX_STEEPNESS_RATIO = 1.0 / STEEPNESS_MARGIN  # ... k(edit) <= k(exact match) / 1.5


def family_targets(split: int) -> torch.Tensor:
    """The test answers (N, 5) of one data split of the addition family (regenerated, seeded)."""
    split = check_int("split", split, minimum=0)
    return addition_problems(addition.N_DIGITS, addition.N_TRAIN, addition.N_TEST,
                             seed=split).y_test


def score_family(members: Sequence[FamilyMember], *, length: int | None = None,
                 metrics: tuple[str, ...] = METRICS) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(n_params, {metric: values}) over the family, one entry per member; ``length`` scores
    only the first answer positions (least significant first)."""
    if not members:
        raise ValueError("members must be a non-empty list of FamilyMember records, got none")
    table: dict[str, list[float]] = {name: [] for name in metrics}
    targets = {split: family_targets(split) for split in {m.split for m in members}}
    for member in members:
        scores = score_models([member.test_logits], targets[member.split], length=length,
                              metrics=metrics)
        for name in metrics:
            table[name].append(float(scores[name][0]))
    n_params = np.array([m.n_params for m in members], dtype=float)
    return n_params, {name: np.array(values) for name, values in table.items()}


def exact_match_by_length(members: Sequence[FamilyMember],
                          lengths: Sequence[int] = ANSWER_LENGTHS) -> dict[int, np.ndarray]:
    """{L: (n_members,) exact match of an L-digit answer, averaged over which L digits}."""
    if not members:
        raise ValueError("members must be a non-empty list of FamilyMember records, got none")
    targets = {split: family_targets(split) for split in {m.split for m in members}}
    return {length: np.array([exact_match_any_positions(m.test_logits.argmax(-1),
                                                        targets[m.split], length)
                              for m in members])
            for length in lengths}


def position_accuracies(members: Sequence[FamilyMember]) -> np.ndarray:
    """(n_members, 5) accuracy of each answer position, least significant first."""
    if not members:
        raise ValueError("members must be a non-empty list of FamilyMember records, got none")
    return np.array([[m.scores[f"pos{i}_accuracy"] for i in range(ANSWER_LENGTH)]
                     for m in members])


def exact_match_hits(member: FamilyMember) -> np.ndarray:
    """(N,) 0/1: whether the member got each whole test answer right."""
    target = family_targets(member.split)
    return (member.test_logits.argmax(-1) == target).all(dim=1).numpy().astype(int)
