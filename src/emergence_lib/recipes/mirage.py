"""Chapter 2 (the metric mirage): chapter 1's addition family scored under many metrics, the
sharpening of exact match taken apart (metric vs weakest link), and a synthetic family whose
positions rise together. Every number of the chapter's setup lives here; the family is
addition.py's and the chapter's criteria are checks/ch02.py's."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .._validate import check_choice, check_float, check_int
from ..fit import LogisticFit, _fit_once, _starts, fit_logistic, logistic
from ..metrics import (
    METRICS,
    chance_edit_distance,
    correct_token_probs,
    exact_match_any_positions,
    per_position_brier,
    per_position_log_prob,
    score_models,
)
from ..tasks import addition_problems
from . import addition
from .addition import FamilyMember

FAST = addition.FAST                       # 1 seed x 1 split x 6 widths, 2,000 steps
FULL = addition.FULL                       # 3 seeds x 2 splits x 6 widths
ANSWER_LENGTH = addition.N_DIGITS + 1      # 5 answer digits
ANSWER_LENGTHS = tuple(range(1, ANSWER_LENGTH + 1))
TEST_SIZES = (50, 500, 5_000)              # the resolution-limited evaluation
N_BOOT = 200                               # bootstrap resamples of each logistic fit

VOCAB = 10                                 # digits 0-9
CHANCE = 1.0 / VOCAB                       # per-digit accuracy of a uniform guess

SYNTHETIC_ANSWERS = 5_000                  # sampled answers per model of the synthetic family
SHARE_BOOT = 50                            # bootstrap resamples of the models for the shares
FLAT = 0.05                                # a position whose accuracy never moves more than
                                           # this over the family has no steepness (NaN)

# Every logistic is fitted with its floor and ceiling fixed at the metric's chance and perfect
# values (metric_range): with both free, a 6-point curve picks its own range and the fitted
# steepness becomes fragile (measured: per-token accuracy came out steeper than exact match for
# one of the six seed/split families of FULL). Chapter 1 fits with the same convention.


def metric_range(metric: str, length: int = ANSWER_LENGTH) -> tuple[float, float]:
    """(chance, perfect) value of a metric on ``length``-digit answers: chance is a uniform guess
    over the 10 digits at every position (for the edit distance: the expected Levenshtein
    distance between two random strings, metrics.chance_edit_distance)."""
    check_choice("metric", metric, METRICS)
    length = check_int("length", length, minimum=1)
    chance = {"exact_match": CHANCE**length,
              "token_accuracy": CHANCE,
              "edit_distance": chance_edit_distance(length, VOCAB),   # Levenshtein, exact
              "brier": 1.0 - CHANCE,                         # (1 - 1/V)^2 + (V - 1) / V^2
              "log_prob": length * math.log(CHANCE)}[metric]
    perfect = {"exact_match": 1.0, "token_accuracy": 1.0, "edit_distance": 0.0, "brier": 0.0,
               "log_prob": 0.0}[metric]
    return chance, perfect


_FITS: dict[tuple, LogisticFit] = {}     # fit_metric's results by input: a chapter's exercise
_FITS_MAX = 256                          # checker refits what its solution just fitted


def fit_metric(n_params: object, values: object, metric: str, *, length: int = ANSWER_LENGTH,
               n_boot: int = N_BOOT, seed: int = 0) -> LogisticFit:
    """The logistic in log-size with floor and ceiling fixed at the metric's chance and perfect
    values, so that steepness is comparable across metrics and answer lengths. A pure function
    of its inputs, so a repeated call returns the first call's fit (treat it as read-only)."""
    chance, perfect = metric_range(metric, length)
    x, y = np.asarray(n_params, dtype=float), np.asarray(values, dtype=float)
    key = (x.tobytes(), x.shape, y.tobytes(), y.shape, metric, length, n_boot, seed)
    if key not in _FITS:
        if len(_FITS) >= _FITS_MAX:
            _FITS.pop(next(iter(_FITS)))
        _FITS[key] = fit_logistic(x, y, floor=chance, ceil=perfect, n_boot=n_boot, seed=seed)
    return _FITS[key]


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


POSITION_SCORES = ("accuracy", "prob", "brier", "log_prob")


def position_scores(members: Sequence[FamilyMember], score: str) -> np.ndarray:
    """(n_members, 5) one score of each answer position: accuracy, mean probability of the correct
    digit, Brier score or mean log-probability of the correct digit (nats)."""
    check_choice("score", score, POSITION_SCORES)
    if not members:
        raise ValueError("members must be a non-empty list of FamilyMember records, got none")
    if score == "accuracy":
        return position_accuracies(members)
    targets = {split: family_targets(split) for split in {m.split for m in members}}
    per_member = {"prob": lambda lg, y: correct_token_probs(lg, y).mean(0),
                  "brier": per_position_brier, "log_prob": per_position_log_prob}[score]
    return np.array([per_member(m.test_logits, targets[m.split]) for m in members])


@dataclass(frozen=True)
class Sharpening:
    """Fitted steepness k of every curve between per-token accuracy and exact match (see
    checks/ch02.py), each position's own k, the largest |prod_i p_i - exact match|, and the
    same k refitted on bootstrap resamples of the models."""

    k_token: float                 # the average p of the positions
    k_power: float                 # p**L: the metric applied to the average
    k_product: float               # prod_i p_i: the metric applied to each position
    k_exact: float                 # measured exact match
    k_positions: np.ndarray        # (L,) each position's own accuracy curve (NaN: flat)
    max_gap: float
    boot: dict[str, np.ndarray] = field(default_factory=dict)  # {name: (n_boot,) values}

    def share_draws(self) -> np.ndarray:
        """(n, 2) metric and weakest-link shares on each bootstrap resample that sharpens."""
        from ..checks.ch02 import sharpening_shares

        if not self.boot:
            return np.empty((0, 2))
        rows = []
        for token, power, product, exact in zip(*(self.boot[k] for k in (
                "k_token", "k_power", "k_product", "k_exact")), strict=True):
            if exact > token:
                shares = sharpening_shares(token, power, product, exact)
                rows.append((shares.metric, shares.weakest_link))
        return np.array(rows).reshape(-1, 2)

    def as_kwargs(self) -> dict[str, object]:
        """The numbers ``checks.ch02.sharpening_verdict`` takes."""
        return {"k_token": self.k_token, "k_power": self.k_power, "k_product": self.k_product,
                "k_exact": self.k_exact,
                "k_positions": self.k_positions, "max_gap": self.max_gap}


def _curves(positions: np.ndarray, exact: np.ndarray) -> dict[str, tuple[np.ndarray, str]]:
    """{k name: (values (n,), metric whose chance/perfect range fixes its fit)}."""
    average = positions.mean(axis=1)
    return {"k_token": (average, "token_accuracy"),
            "k_power": (average ** positions.shape[1], "exact_match"),
            "k_product": (positions.prod(axis=1), "exact_match"),
            "k_exact": (exact, "exact_match")}


def _refit_steepness(x: np.ndarray, y: np.ndarray, metric: str, length: int,
                     fitted: LogisticFit) -> float:
    """k of fit_metric refitted on a bootstrap resample, started (as fit_logistic's own
    bootstrap is) from the full fit and one default start."""
    floor, ceil = metric_range(metric, length)
    logx = np.log(x)
    full = np.array([floor, ceil, np.log(fitted.threshold), fitted.steepness])
    theta, _ = _fit_once(logx, y, floor, ceil, [full, _starts(logx, y, floor, ceil)[4]])
    return float(theta[3])


def sharpening(n_params: object, position_accuracy: object, exact: object, *,
               n_boot: int = 0, seed: int = 0) -> Sharpening:
    """Fit every curve from per-token accuracy to exact match alike (fit_metric), for a family of
    models: n_params (n,), position_accuracy (n, L), exact (n,). ``n_boot`` resamples the
    models and refits every curve on the same resample (for intervals on the shares)."""
    x = np.asarray(n_params, dtype=float)
    positions = np.asarray(position_accuracy, dtype=float)
    exact = np.asarray(exact, dtype=float)
    if positions.ndim != 2 or positions.shape[0] != x.shape[0] or exact.shape != x.shape:
        raise ValueError(f"n_params (n,), position_accuracy (n, L) and exact (n,) must agree, got "
                         f"shapes {x.shape}, {positions.shape} and {exact.shape}")
    if ((positions < 0) | (positions > 1)).any() or ((exact < 0) | (exact > 1)).any():
        raise ValueError("position_accuracy and exact must hold accuracies in [0, 1]")
    n_boot = check_int("n_boot", n_boot, minimum=0)
    seed = check_int("seed", seed, minimum=0)
    length = positions.shape[1]
    fitted = {name: fit_metric(x, values, metric, length=length, n_boot=0)
              for name, (values, metric) in _curves(positions, exact).items()}
    ks = {name: fit.steepness for name, fit in fitted.items()}
    k_positions = np.array([
        fit_metric(x, column, "token_accuracy", n_boot=0).steepness
        if np.ptp(column) > FLAT else np.nan for column in positions.T])
    max_gap = float(np.abs(positions.prod(axis=1) - exact).max())
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {name: [] for name in ks}
    for _ in range(n_boot):
        idx = rng.integers(0, len(x), len(x))
        if len(np.unique(x[idx])) < 3:
            continue
        for name, (values, metric) in _curves(positions[idx], exact[idx]).items():
            draws[name].append(_refit_steepness(x[idx], values, metric, length, fitted[name]))
    return Sharpening(**ks, k_positions=k_positions, max_gap=max_gap,
                      boot={name: np.array(v) for name, v in draws.items() if v})


def rise_together_family(average_accuracy: object, *, length: int = ANSWER_LENGTH,
                         n_answers: int = SYNTHETIC_ANSWERS,
                         seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic family (no model): for each accuracy p in ``average_accuracy`` (n,), draw
    ``n_answers`` answers whose ``length`` digits are each right with probability p,
    independently. Returns measured (n, length) per-position accuracy and (n,) exact match."""
    p = np.asarray(average_accuracy, dtype=float)
    if p.ndim != 1 or p.size == 0 or not np.isfinite(p).all() or ((p < 0) | (p > 1)).any():
        raise ValueError(f"average_accuracy must be a non-empty 1-D array of accuracies in "
                         f"[0, 1], got {average_accuracy!r}")
    length = check_int("length", length, minimum=1)
    n_answers = check_int("n_answers", n_answers, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    right = np.random.default_rng(seed).random((p.size, n_answers, length)) < p[:, None, None]
    return right.mean(axis=1), right.all(axis=2).mean(axis=1)


def one_late_position_family(n_params: object, threshold: float, steepness: float, *,
                             length: int = ANSWER_LENGTH, n_answers: int = SYNTHETIC_ANSWERS,
                             seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A synthetic weakest-link family (no model): every position is always right except the
    last, whose accuracy follows the logistic in log-size from chance to 1 (``threshold``,
    ``steepness``). Answers drawn as in rise_together_family: (n, length), (n,)."""
    x = np.asarray(n_params, dtype=float)
    late = logistic(x, CHANCE, 1.0, check_float("threshold", threshold, minimum=0.0,
                                                  strict_min=True),
                    check_float("steepness", steepness, minimum=0.0, strict_min=True))
    length = check_int("length", length, minimum=1)
    n_answers = check_int("n_answers", n_answers, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    right = np.ones((x.size, n_answers, length), dtype=bool)
    right[:, :, -1] = rng.random((x.size, n_answers)) < late[:, None]
    return right.mean(axis=1), right.all(axis=2).mean(axis=1)


def transition_record(members: Sequence[FamilyMember], *, smooth: object, ours: object,
                      printed: dict[str, str] | None = None, seed: int = 0,
                      n_boot: int = 50, chapter: str = "02_metric_mirage") -> object:
    """Chapter 2's main transition for the atlas (``atlas.transition_record``): exact match of
    chapter 1's family against model size (floor chance 0.1**5, ceiling 1) with per-token
    accuracy as the progress measure. ``smooth``: ``checks.ch02.smooth_metrics_verdict``
    (hidden progress: every smooth metric moves while exact match is flat); ``ours``:
    ``checks.ch02.sharpening_verdict`` on this family, whose cause answers "metric artefact"
    (the metric's power: yes; the weakest link or neither: no; both: undecided) and whose
    largest |prod p_i - exact match| answers "predictable" (within ``checks.ch02.MAX_GAP``).
    n_boot: bootstrap resamples of the record's own logistic fit (free floor and ceiling)."""
    from ..atlas import transition_record as record
    from ..checks import ch02

    for name, v in (("smooth", smooth), ("ours", ours)):
        if not isinstance(getattr(v, "numbers", None), dict):
            raise TypeError(f"{name} must be a checks.ch02 Verdict, got {type(v).__name__}")
    numbers = ours.numbers
    if "metric_share" in numbers:
        found = ch02.cause(ch02.Shares(numbers["metric_share"], numbers["link_share"],
                                       numbers["dependence_share"]))
    else:
        found = "neither"      # exact match is not steeper: nothing to explain
    artefact = {"metric": True, "weakest link": False, "both": None}.get(found, False)
    gap = float(numbers["max_gap"])
    predictable = gap <= ch02.MAX_GAP
    sizes, exact = addition.family_curve(members, "exact_match")
    _, token = addition.family_curve(members, "token_accuracy")
    answers = {
        "metric_artefact": (artefact, ours.sentence),
        "hidden_progress": (bool(smooth.passed), smooth.sentence),
        "predictable": (bool(predictable), (
            f"the product of the per-position accuracies predicts exact match within {gap:.3f} "
            f"for every model" if predictable else
            f"the product of the per-position accuracies misses exact match by up to "
            f"{gap:.3f} (more than {ch02.MAX_GAP})")),
    }
    return record(chapter=chapter, phenomenon="metric mirage (addition, five metrics)",
                  parameter="model size", unit="parameters", x=sizes, metric=exact,
                  metric_name="exact match", floor=CHANCE ** ANSWER_LENGTH, ceil=1.0,
                  progress=token, progress_name="per-token accuracy", answers=answers,
                  printed=printed, seed=seed, n_boot=n_boot,
                  notes=f"{len(members)} models (chapter 1's family), {len(sizes)} sizes; "
                        f"sharpening cause on this family: {found}")
