"""The atlas's common record: one chapter's main transition, measured the same way everywhere.

Each chapter builds a :class:`TransitionRecord` from its own run with :func:`transition_record`
(curves along the control parameter, the verdicts on the course's three questions, and the glue
keys whose printed text the atlas re-reads) and writes it next to its executed notebook with
:func:`write_record`; the atlas chapter reads them all with :func:`read_records`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ._validate import as_1d_array, check_same_length
from .detect import detect_transition, lead
from .fit import fit_logistic

SCHEMA = 1
SUFFIX = ".atlas.json"
QUESTIONS = ("metric_artefact", "hidden_progress", "predictable")


@dataclass(frozen=True)
class Answer:
    """A chapter's verdict on one of the three questions: yes/no/None (undecided) and the
    sentence the chapter printed for it."""

    answer: bool | None
    sentence: str


@dataclass(frozen=True)
class TransitionRecord:
    """One phenomenon's main transition along its control parameter x (all curves (T,) on x).

    ``floor``/``ceil``: the visible metric's levels for normalising y to [0, 1];
    ``onset``/``midpoint``/``finish``: x at 10/50/90% of the metric's change (None when the
    detector finds no transition); ``lead``: x-units the progress measure's onset precedes the
    metric's; ``threshold``/``steepness`` (with 95% intervals), ``r2``/``r2_linear``: the logistic
    in log x against a line; ``answers``: the three questions; ``printed``: glue key -> the text
    the chapter printed, which the atlas checks against the executed notebook.
    """

    chapter: str                      # "03_grokking" (the notebook's stem)
    phenomenon: str                   # "grokking"
    parameter: str                    # "training step"
    unit: str                         # "steps"
    x: tuple[float, ...]
    metric_name: str
    metric: tuple[float, ...]
    floor: float
    ceil: float
    progress_name: str | None = None
    progress: tuple[float, ...] | None = None
    onset: float | None = None
    midpoint: float | None = None
    finish: float | None = None
    relative_width: float | None = None
    lead: float | None = None
    threshold: float | None = None
    threshold_interval: tuple[float, float] | None = None
    steepness: float | None = None
    steepness_interval: tuple[float, float] | None = None
    r2: float | None = None
    r2_linear: float | None = None
    answers: dict[str, Answer] = field(default_factory=dict)
    printed: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    schema: int = SCHEMA

    # ---- views the atlas draws -------------------------------------------------------------
    def normalized_x(self) -> np.ndarray:
        """(T,) x / midpoint (log axis: 1 is the transition's midpoint); NaN without one."""
        x = np.asarray(self.x, dtype=float)
        return x / self.midpoint if self.midpoint else np.full_like(x, np.nan)

    def normalized_metric(self) -> np.ndarray:
        """(T,) the metric mapped from floor (0) to ceiling (1)."""
        return (np.asarray(self.metric, dtype=float) - self.floor) / (self.ceil - self.floor)

    def normalized_progress(self) -> np.ndarray | None:
        """(T,) the progress measure mapped from its first to its last level (0 -> 1)."""
        if self.progress is None:
            return None
        y = np.asarray(self.progress, dtype=float)
        k = min(3, len(y) // 2 or 1)
        a, b = y[:k].mean(), y[-k:].mean()
        return (y - a) / (b - a) if b != a else np.full_like(y, np.nan)

    # ---- JSON ----------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(_finite(asdict(self)), indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TransitionRecord:
        data = json.loads(text)
        if data.get("schema") != SCHEMA:
            raise ValueError(f"atlas record schema must be {SCHEMA}, got {data.get('schema')!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"atlas record has unknown fields {unknown}; allowed: {sorted(known)}")
        data["answers"] = {k: Answer(**v) for k, v in data.get("answers", {}).items()}
        for name in ("x", "metric", "progress", "threshold_interval", "steepness_interval"):
            if data.get(name) is not None:
                data[name] = tuple(_nan(v) for v in data[name])
        for name in ("onset", "midpoint", "finish", "relative_width", "lead", "threshold",
                     "steepness", "r2", "r2_linear"):
            data[name] = _nan(data.get(name))
        return cls(**data)


def _finite(value: object) -> object:
    """JSON-safe copy: NaN/inf become the strings "nan"/"inf"/"-inf", tuples become lists."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _nan(value: object) -> object:
    return float(value) if isinstance(value, str) and value in ("nan", "inf", "-inf") else value


def _maybe(value: float | None) -> float | None:
    return None if value is None else float(value)


def transition_record(*, chapter: str, phenomenon: str, parameter: str, unit: str, x: object,
                      metric: object, metric_name: str, floor: float | None = None,
                      ceil: float | None = None, progress: object | None = None,
                      progress_name: str | None = None, smooth: int = 1, fit: bool = True,
                      answers: Mapping[str, tuple[bool | None, str]] | None = None,
                      printed: Mapping[str, str] | None = None, notes: str = "",
                      n_boot: int = 200, seed: int = 0) -> TransitionRecord:
    """Measure a chapter's main transition: (T,) ``x`` > 0 (the control parameter), the (T,)
    visible ``metric`` and optionally a (T,) ``progress`` measure on the same x.

    Detects onset/midpoint/finish (``detect.detect_transition``, levels ``floor``/``ceil``
    or the curve's ends), the progress measure's ``detect.lead``, and fits the logistic in log x
    (``fit.fit_logistic``, bootstrap ``n_boot``). ``answers``: question -> (yes/no/None, the
    sentence printed), for each of ``QUESTIONS``. ``printed``: glue key -> text the chapter glued.
    """
    xs = as_1d_array("x", x, min_len=3, positive=True)
    ys = as_1d_array("metric", metric, min_len=3)
    check_same_length(x=xs, metric=ys)
    if np.any(np.diff(xs) <= 0):
        raise ValueError("x must be strictly increasing (sort the control parameter first)")
    ps = None
    if progress is not None:
        ps = as_1d_array("progress", progress, min_len=3)
        check_same_length(x=xs, progress=ps)
        if progress_name is None:
            raise ValueError("progress_name is required when a progress curve is given")
    answers = dict(answers or {})
    missing = [q for q in QUESTIONS if q not in answers]
    extra = [q for q in answers if q not in QUESTIONS]
    if missing or extra:
        raise ValueError(f"answers must give exactly {QUESTIONS}; missing {missing}, "
                         f"unknown {extra}")
    for q, value in answers.items():
        if not (isinstance(value, Sequence) and len(value) == 2 and isinstance(value[1], str)
                and (value[0] is None or isinstance(value[0], bool | np.bool_))):
            raise ValueError(f"answers[{q!r}] must be (True/False/None, sentence), got {value!r}")
    k = min(3, len(ys) // 2 or 1)
    lo = float(ys[:k].mean()) if floor is None else float(floor)
    hi = float(ys[-k:].mean()) if ceil is None else float(ceil)
    if lo == hi:
        raise ValueError(f"floor and ceil must differ to normalise the metric, both are {lo}")
    found = detect_transition(xs, ys, start=lo, end=hi, smooth=smooth)
    led = None if ps is None else lead(xs, ps, ys, smooth=smooth)
    record: dict[str, object] = {}
    if fit:
        f = fit_logistic(xs, ys, n_boot=n_boot, seed=seed)
        record = {
            "threshold": float(f.threshold), "steepness": float(f.steepness),
            "threshold_interval": tuple(float(v) for v in f.intervals.get(
                "threshold", (float("nan"), float("nan")))),
            "steepness_interval": tuple(float(v) for v in f.intervals.get(
                "steepness", (float("nan"), float("nan")))),
            "r2": float(f.r2), "r2_linear": float(f.linear.r2),
        }
    return TransitionRecord(
        chapter=chapter, phenomenon=phenomenon, parameter=parameter, unit=unit,
        x=tuple(float(v) for v in xs), metric_name=metric_name,
        metric=tuple(float(v) for v in ys), floor=lo, ceil=hi, progress_name=progress_name,
        progress=None if ps is None else tuple(float(v) for v in ps),
        onset=_maybe(found and found.onset), midpoint=_maybe(found and found.midpoint),
        finish=_maybe(found and found.finish),
        relative_width=_maybe(found and found.relative_width), lead=_maybe(led),
        answers={q: Answer(None if a is None else bool(a), s) for q, (a, s) in answers.items()},
        printed={str(k): str(v) for k, v in (printed or {}).items()}, notes=notes, **record)


def record_path(chapter: str, directory: str | Path = ".") -> Path:
    """Where a chapter's record lives: ``directory/<chapter>.atlas.json``."""
    return Path(directory) / f"{chapter}{SUFFIX}"


def write_record(record: TransitionRecord, directory: str | Path = ".") -> Path:
    """Write the record next to the executed notebook (the build runs chapters with that folder
    as working directory); returns the path."""
    path = record_path(record.chapter, directory)
    path.write_text(record.to_json() + "\n")
    return path


def read_record(path: str | Path) -> TransitionRecord:
    return TransitionRecord.from_json(Path(path).read_text())


def read_records(directory: str | Path = ".") -> dict[str, TransitionRecord]:
    """Every record in ``directory``, keyed by chapter stem, in chapter order."""
    paths = sorted(Path(directory).glob(f"*{SUFFIX}"))
    return {p.name[: -len(SUFFIX)]: read_record(p) for p in paths}
