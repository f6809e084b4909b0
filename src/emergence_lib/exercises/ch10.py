"""Checkers for chapter 10 (the atlas): the student's steepness ranking, their prediction of
how many transitions a logistic describes better than a line, their JSON round-trip error of a
record, and their verdict on "transitions in training time are steeper than transitions in
scale", against references on fixed inputs, with plain-words hints."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from ..atlas import TransitionRecord, transition_record
from .core import CheckResult, check_function, check_number, check_verdict

TIME_WORDS = ("step", "time")   # a parameter naming one of these is a training-time axis
MIDPOINT_FACTOR = 2.0   # ex-10-universal's target: each held-out midpoint within this factor


def rank_by_steepness(steepness: Mapping[str, float]) -> list[str]:
    """Chapters from the steepest transition to the gentlest by |k| (ties in name order);
    a NaN steepness (no fit) goes last."""
    def key(item: tuple[str, float]) -> tuple[bool, float, str]:
        name, k = item
        return (not math.isfinite(k), -abs(k) if math.isfinite(k) else 0.0, name)

    return [name for name, _ in sorted(steepness.items(), key=key)]


def _rank_cases() -> list[dict]:
    return [{"steepness": {"a": 1.0, "b": 5.0, "c": 2.5}},
            {"steepness": {"loss": -8.0, "acc": 3.0, "x": 0.5}},
            {"steepness": {"p": float("nan"), "q": 2.0, "r": 2.0}}]


def _as_codes(fn: Callable[[Mapping[str, float]], Sequence[str]]) -> Callable[..., list[int]]:
    """The ranking as positions of each name in sorted order, so check_function compares
    numbers."""
    def coded(steepness: Mapping[str, float]) -> list[int]:
        names = sorted(steepness)
        return [names.index(n) if n in names else -1 for n in fn(steepness)]

    return coded


def check_ranking(student: Callable[[Mapping[str, float]], Sequence[str]]) -> CheckResult:
    """CS-student exercise: rank the transitions by steepness."""
    hints = [
        (_as_codes(lambda s: rank_by_steepness(s)[::-1]),
         "steepest first: sort by -|k| (largest first), not by k ascending."),
        (_as_codes(lambda s: [n for n, _ in sorted(s.items(), key=lambda i: -i[1]
                                                   if math.isfinite(i[1]) else math.inf)]),
         "a falling curve (a loss) has a negative k: rank by |k|, the size of the steepness."),
    ]
    if not callable(student):
        return check_function(student, rank_by_steepness, [], name="rank_by_steepness")
    return check_function(_as_codes(student), _as_codes(rank_by_steepness), _rank_cases(),
                          name="rank_by_steepness (positions in name order)", hints=hints)


def logistic_wins(records: Mapping[str, TransitionRecord]) -> int:
    """How many records' logistic fits better (R²) than a line in log x."""
    return int(sum(bool(r.beats_linear) for r in records.values()))


def check_wins_prediction(answer: Any, records: Mapping[str, TransitionRecord]) -> CheckResult:
    """CS-student prediction: the number of transitions the logistic describes better than a
    line (exactly)."""
    return check_number(answer, logistic_wins(records), name="transitions a logistic wins",
                        atol=0.0, unit="transitions",
                        explain="Count the table's rows whose R² beats the line's R².")


def roundtrip_error(record: TransitionRecord) -> float:
    """Largest absolute difference between the record's numbers and those of its JSON round
    trip (to_json then from_json); NaN equals NaN, None equals None; inf if a field changes
    kind (a number becomes None or text)."""
    back = TransitionRecord.from_json(record.to_json())
    worst = 0.0
    for (name, a), b in zip(asdict(record).items(), asdict(back).values(), strict=True):
        if name in ("answers", "printed"):
            worst = max(worst, 0.0 if a == b else math.inf)
            continue
        a_arr = np.asarray(a if a is not None else np.nan, dtype=object).ravel()
        b_arr = np.asarray(b if b is not None else np.nan, dtype=object).ravel()
        if a_arr.shape != b_arr.shape:
            return math.inf
        for u, v in zip(a_arr, b_arr, strict=True):
            if isinstance(u, str) or isinstance(v, str):
                worst = max(worst, 0.0 if u == v else math.inf)
            elif (u is None) != (v is None):
                return math.inf
            elif u is not None:
                fu, fv = float(u), float(v)
                if math.isnan(fu) and math.isnan(fv):
                    continue
                worst = max(worst, abs(fu - fv) if math.isfinite(fu - fv) else
                            (0.0 if fu == fv else math.inf))
    return float(worst)


def _record_cases() -> list[dict]:
    x = np.geomspace(1, 1000, 12)
    y = 1 / (1 + np.exp(-4 * (np.log(x) - np.log(30))))
    answers = {"metric_artefact": (True, "a"), "hidden_progress": (None, "b"),
               "predictable": (False, "c")}
    common = dict(chapter="00_x", phenomenon="p", parameter="width", unit="u", x=x,
                  metric_name="m", answers=answers, n_boot=10)
    return [{"record": transition_record(metric=y, **common)},
            {"record": transition_record(metric=y, progress=np.sqrt(y), progress_name="q",
                                         **common)},
            {"record": transition_record(metric=[0.0] * 4 + [0.5] + [1.0] * 7, fit=False,
                                         **common)}]


def check_roundtrip(student: Callable[[TransitionRecord], float]) -> CheckResult:
    """Applied-engineer exercise: the JSON round trip of a record loses nothing."""
    cases = _record_cases()
    if callable(student):
        try:
            got = student(**cases[0])
        except Exception:  # noqa: BLE001 - check_function reports it (or "not attempted")
            got = None
        if isinstance(got, float) and math.isnan(got):
            message = ("roundtrip_error returned NaN, but the answer is a number (0.0 for a "
                       "perfect round trip): a NaN field gives abs(nan - nan) = nan, which max() "
                       "passes on; treat NaN and NaN as equal (math.isnan on both) and skip "
                       "them.")
            print("❌ " + message)
            return CheckResult(False, True, message)
    return check_function(student, roundtrip_error, cases, name="roundtrip_error")


def is_time_axis(record: TransitionRecord) -> bool:
    """True when the record's control parameter is training time (a step or a time)."""
    return any(w in record.parameter.lower() for w in TIME_WORDS)


def time_steeper_verdict(intervals_time: Sequence[tuple[float, float]],
                         intervals_scale: Sequence[tuple[float, float]]) -> bool | None:
    """Are transitions in training time steeper than transitions in scale? True when every
    time-axis |k| interval lies above every scale-axis one, False when some time-axis interval
    lies wholly below some scale-axis one or they overlap, None with an empty group."""
    if not intervals_time or not intervals_scale:
        return None
    lowest_time = min(lo for lo, _ in intervals_time)
    highest_scale = max(hi for _, hi in intervals_scale)
    return bool(lowest_time > highest_scale)


def check_time_verdict(answer: Any, reference: bool | None) -> CheckResult:
    """Applied-researcher exercise: the student's verdict against the reference run's
    (``time_steeper_reference``)."""
    return check_verdict(answer, reference, name="time steeper than scale",
                         allowed=(True, False, None),
                         explain="The verdict needs every training-time interval above every "
                                 "scale interval; any overlap means the run cannot show it.")


def progress_midpoint(record: TransitionRecord) -> float | None:
    """x where the record's progress measure is halfway from its first to its last level
    (sustained crossing of 0.5 of ``normalized_progress``), or None."""
    from ..detect import first_crossing

    p = record.normalized_progress()
    if p is None or not np.isfinite(p).all():
        return None
    return first_crossing(record.x, p, 0.5, "up", sustained=True)


def held_out_midpoints(records: Mapping[str, TransitionRecord]
                       ) -> dict[str, tuple[float, float, float]]:
    """The universal predictor "the metric's midpoint is c x the progress measure's midpoint",
    c the geometric mean of the ratio over the *other* chapters: chapter -> (predicted, actual,
    factor off = max(p/a, a/p)), for every chapter with both midpoints (needs >= 3)."""
    pairs = {c: (progress_midpoint(r), r.midpoint) for c, r in records.items()}
    pairs = {c: (p, m) for c, (p, m) in pairs.items() if p and m and p > 0 and m > 0}
    if len(pairs) < 3:
        return {}
    logs = {c: math.log(m / p) for c, (p, m) in pairs.items()}
    out = {}
    for c, (p, m) in pairs.items():
        c_log = float(np.mean([v for k, v in logs.items() if k != c]))
        predicted = p * math.exp(c_log)
        out[c] = (predicted, m, max(predicted / m, m / predicted))
    return out


def refit_intervals(records: Mapping[str, TransitionRecord], seeds: Sequence[int],
                    n_boot: int = 50) -> dict[tuple[str, int], tuple[float, float]]:
    """|k| bootstrap intervals of every record's metric refitted with floor and ceiling held at
    the record's levels, one per (chapter, seed); records that cannot be fitted are left out."""
    from ..fit import fit_logistic

    out = {}
    for seed in seeds:
        for chapter, r in records.items():
            try:
                f = fit_logistic(r.x, r.metric, floor=r.floor, ceil=r.ceil, n_boot=n_boot,
                                 seed=seed)
            except ValueError:
                continue
            lo, hi = sorted(abs(v) for v in f.intervals.get("steepness", (math.nan, math.nan)))
            if math.isfinite(lo) and math.isfinite(hi):
                out[(chapter, seed)] = (lo, hi)
    return out


def time_steeper_reference(records: Mapping[str, TransitionRecord], seeds: Sequence[int],
                           n_boot: int = 50) -> bool | None:
    """The reference verdict of the applied-researcher exercise: ``time_steeper_verdict``
    under every seed of ``refit_intervals`` (None if a group is empty under any)."""
    refits = refit_intervals(records, seeds, n_boot)
    time_axis = {c for c, r in records.items() if is_time_axis(r)}
    per_seed = []
    for seed in seeds:
        groups = [[v for (c, s), v in refits.items() if s == seed and (c in time_axis) == t]
                  for t in (True, False)]
        per_seed.append(time_steeper_verdict(*groups))
    return None if None in per_seed else all(per_seed)
