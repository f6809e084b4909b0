"""The atlas's common record: one chapter's main transition, measured the same way everywhere.

Each chapter builds a :class:`TransitionRecord` from its own run with :func:`transition_record`
(curves along the control parameter, the verdicts on the course's three questions, and the glue
keys whose printed text the atlas re-reads) and writes it next to its executed notebook with
:func:`write_record`; the atlas chapter reads them all with :func:`read_records`, re-reads what
each chapter glued with :func:`printed_values` (:func:`printed_mismatches` compares), applies
chapter 2's smooth-metric test to every record with a smooth curve (:func:`metric_test`), and
recomputes a missing record by executing its chapter (:func:`recompute_records`).
"""

from __future__ import annotations

import ast
import json
import math
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from ._validate import as_1d_array, check_same_length
from .detect import detect_transition, lead
from .fit import LogisticFit, fit_logistic

SCHEMA = 1
SUFFIX = ".atlas.json"
EXECUTED = ".executed.ipynb"   # an executed copy the atlas wrote beside a chapter's source
QUESTIONS = ("metric_artefact", "hidden_progress", "predictable")
# The course's chapters in book order: the list the atlas expects a record from when no
# _toc.yml is at hand (Colab). The atlas itself is not one of them.
CHAPTERS = ("00_what_is_emergence", "01_scaling_paradox", "02_metric_mirage", "03_grokking",
            "04_induction_heads", "05_sparse_parity", "06_emergent_misalignment",
            "07_superposition", "08_silent_alignment", "09_phase_transition_lab")
ATLAS_CHAPTER = "10_atlas"
# FAST CPU seconds of each chapter through papermill at one thread on the faster machine kind
# (the estimate the atlas prints before recomputing a missing record; measured 2026-12).
FAST_CPU_S = {"00_what_is_emergence": 15, "01_scaling_paradox": 40, "02_metric_mirage": 15,
              "03_grokking": 40, "04_induction_heads": 45, "05_sparse_parity": 35,
              "06_emergent_misalignment": 40, "07_superposition": 35,
              "08_silent_alignment": 30, "09_phase_transition_lab": 65}


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
    # optional: a token-level or smooth metric on the same x (chapter 2's test compares it with
    # the visible metric), with its own floor and ceiling
    smooth_metric_name: str | None = None
    smooth_metric: tuple[float, ...] | None = None
    smooth_metric_floor: float | None = None
    smooth_metric_ceil: float | None = None
    fit_fixed: tuple[str, ...] = ()   # levels the record's logistic held fixed ("floor", "ceil")

    def summary(self) -> str:
        """Two lines: the phenomenon, its parameter and midpoint (relative width); the three
        answers (yes / no / not tested)."""
        midpoint = f"{self.midpoint:.3g}" if self.midpoint else "not detected"
        width = self.relative_width if self.relative_width is not None else float("nan")
        words = {True: "yes", False: "no", None: "not tested"}
        answers = "; ".join(f"{q.replace('_', ' ')}: {words[a.answer]}"
                            for q, a in self.answers.items())
        return (f"{self.phenomenon} along {self.parameter}, midpoint {midpoint} "
                f"(relative width {width:.2f})\n  {answers}")

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

    def normalized_smooth_metric(self) -> np.ndarray | None:
        """(T,) the smooth metric mapped from its floor (0) to its ceiling (1)."""
        if self.smooth_metric is None:
            return None
        y = np.asarray(self.smooth_metric, dtype=float)
        lo, hi = _levels(y, self.smooth_metric_floor, self.smooth_metric_ceil)
        return (y - lo) / (hi - lo) if hi != lo else np.full_like(y, np.nan)

    @property
    def beats_linear(self) -> bool | None:
        """True when the record's logistic fits better than a line in log x (None: no fit)."""
        if self.r2 is None or self.r2_linear is None or not np.isfinite(self.r2):
            return None
        return bool(self.r2 > self.r2_linear)

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
        for name in ("x", "metric", "progress", "threshold_interval", "steepness_interval",
                     "smooth_metric", "fit_fixed"):
            if data.get(name) is not None:
                data[name] = tuple(_nan(v) for v in data[name])
        for name in ("onset", "midpoint", "finish", "relative_width", "lead", "threshold",
                     "steepness", "r2", "r2_linear", "floor", "ceil", "smooth_metric_floor",
                     "smooth_metric_ceil"):
            if name in data:
                data[name] = _nan(data[name])
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


def _levels(y: np.ndarray, floor: float | None, ceil: float | None) -> tuple[float, float]:
    """(floor, ceil): the given levels, or the mean of the curve's first/last three points."""
    k = min(3, len(y) // 2 or 1)
    lo = float(y[:k].mean()) if floor is None else float(floor)
    hi = float(y[-k:].mean()) if ceil is None else float(ceil)
    return lo, hi


def _fit_fields(f: LogisticFit) -> dict[str, object]:
    nan2 = (float("nan"), float("nan"))
    return {"threshold": float(f.threshold), "steepness": float(f.steepness),
            "threshold_interval": tuple(float(v) for v in f.intervals.get("threshold", nan2)),
            "steepness_interval": tuple(float(v) for v in f.intervals.get("steepness", nan2)),
            "r2": float(f.r2), "r2_linear": float(f.linear.r2), "fit_fixed": tuple(f.fixed)}


def _optional_curve(name: str, values: object | None, label: str | None,
                    xs: np.ndarray) -> np.ndarray | None:
    """An optional (T,) curve on the record's x, which then needs its ``<name>_name``."""
    if values is None:
        return None
    curve = as_1d_array(name, values, min_len=3)
    check_same_length(x=xs, **{name: curve})
    if label is None:
        raise ValueError(f"{name}_name is required when a {name} curve is given")
    return curve


def transition_record(*, chapter: str, phenomenon: str, parameter: str, unit: str, x: object,
                      metric: object, metric_name: str, floor: float | None = None,
                      ceil: float | None = None, progress: object | None = None,
                      progress_name: str | None = None, smooth: int = 1, fit: bool = True,
                      answers: Mapping[str, tuple[bool | None, str]] | None = None,
                      printed: Mapping[str, str] | None = None, notes: str = "",
                      n_boot: int = 200, seed: int = 0, smooth_metric: object | None = None,
                      smooth_metric_name: str | None = None,
                      smooth_metric_floor: float | None = None,
                      smooth_metric_ceil: float | None = None, fix_levels: bool = False,
                      logistic: LogisticFit | None = None) -> TransitionRecord:
    """Measure a chapter's main transition: (T,) ``x`` > 0 (the control parameter), the (T,)
    visible ``metric`` and optionally a (T,) ``progress`` measure on the same x.

    Detects onset/midpoint/finish (``detect.detect_transition``, levels ``floor``/``ceil``
    or the curve's ends), the progress measure's ``detect.lead``, and fits the logistic in log x
    (``fit.fit_logistic``, bootstrap ``n_boot``; ``fix_levels``: floor and ceil held at the
    levels; ``logistic``: the chapter's own fit, used as it is instead). ``answers``: question ->
    (yes/no/None, the sentence printed), for each of ``QUESTIONS``. ``printed``: glue key -> text
    the chapter glued. ``smooth_metric``: an optional (T,) token-level or smooth metric on the
    same x (levels ``smooth_metric_floor``/``smooth_metric_ceil``), for chapter 2's test in the
    atlas (``metric_test``).
    """
    xs = as_1d_array("x", x, min_len=3, positive=True)
    ys = as_1d_array("metric", metric, min_len=3)
    check_same_length(x=xs, metric=ys)
    if np.any(np.diff(xs) <= 0):
        raise ValueError("x must be strictly increasing (sort the control parameter first)")
    ps = _optional_curve("progress", progress, progress_name, xs)
    ss = _optional_curve("smooth_metric", smooth_metric, smooth_metric_name, xs)
    if ss is not None:
        s_lo, s_hi = _levels(ss, smooth_metric_floor, smooth_metric_ceil)
        if s_lo == s_hi:
            raise ValueError("smooth_metric_floor and smooth_metric_ceil must differ to normalise "
                             f"the smooth metric, both are {s_lo}")
    if logistic is not None and not isinstance(logistic, LogisticFit):
        raise TypeError(f"logistic must be a fit.LogisticFit (the chapter's own fit) or None, "
                        f"got {type(logistic).__name__}")
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
    lo, hi = _levels(ys, floor, ceil)
    if lo == hi:
        raise ValueError(f"floor and ceil must differ to normalise the metric, both are {lo}")
    found = detect_transition(xs, ys, start=lo, end=hi, smooth=smooth)
    led = None if ps is None else lead(xs, ps, ys, smooth=smooth)
    record: dict[str, object] = {}
    if logistic is not None:
        record = _fit_fields(logistic)
    elif fit:
        f = (fit_logistic(xs, ys, floor=lo, ceil=hi, n_boot=n_boot, seed=seed) if fix_levels
             else fit_logistic(xs, ys, n_boot=n_boot, seed=seed))
        record = _fit_fields(f)
    return TransitionRecord(
        chapter=chapter, phenomenon=phenomenon, parameter=parameter, unit=unit,
        x=tuple(float(v) for v in xs), metric_name=metric_name,
        metric=tuple(float(v) for v in ys), floor=lo, ceil=hi, progress_name=progress_name,
        progress=None if ps is None else tuple(float(v) for v in ps),
        onset=_maybe(found and found.onset), midpoint=_maybe(found and found.midpoint),
        finish=_maybe(found and found.finish),
        relative_width=_maybe(found and found.relative_width), lead=_maybe(led),
        answers={q: Answer(None if a is None else bool(a), s) for q, (a, s) in answers.items()},
        printed={str(k): str(v) for k, v in (printed or {}).items()}, notes=notes,
        smooth_metric_name=smooth_metric_name if ss is not None else None,
        smooth_metric=None if ss is None else tuple(float(v) for v in ss),
        smooth_metric_floor=_maybe(smooth_metric_floor),
        smooth_metric_ceil=_maybe(smooth_metric_ceil), **record)


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


# ---- what the chapters printed -------------------------------------------------------------

def _glued_text(data: Mapping[str, object], prefix: str) -> str | None:
    """The text of one glue output: its text/plain, a Python literal unquoted (glue stores the
    repr of the value, and a formatted value is a string)."""
    raw = data.get(f"{prefix}text/plain", data.get("text/plain"))
    if raw is None:
        return None
    raw = "".join(raw) if isinstance(raw, list) else str(raw)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw
    return value if isinstance(value, str) else raw


def printed_values(notebook_path: str | Path) -> dict[str, str]:
    """Every glue key of an executed notebook -> the text it stored (myst-nb writes one
    display_data output per key, named in its metadata "scrapbook"); later cells win."""
    path = Path(notebook_path)
    if not path.is_file():
        raise FileNotFoundError(f"notebook_path {str(path)!r} is not a file (an executed "
                                "chapter notebook, NN_slug.ipynb)")
    try:
        nb = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"notebook_path {str(path)!r} is not a notebook (JSON): {err}") from err
    out: dict[str, str] = {}
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) or []:
            book = (output.get("metadata") or {}).get("scrapbook")
            if output.get("output_type") != "display_data" or not isinstance(book, dict):
                continue
            text = _glued_text(output.get("data", {}), str(book.get("mime_prefix", "")))
            if text is not None and "name" in book:
                out[str(book["name"])] = text
    return out


def printed_mismatches(record: TransitionRecord, printed: Mapping[str, str]) -> list[str]:
    """Each of ``record.printed``'s keys the chapter did not glue, or glued with other text."""
    problems = []
    for key, text in record.printed.items():
        if key not in printed:
            problems.append(f"{record.chapter}: {key} is in the record but the chapter glued "
                            "no such key")
        elif printed[key].strip() != text.strip():
            problems.append(f"{record.chapter}: {key} is {text!r} in the record but the chapter "
                            f"printed {printed[key]!r}")
    return problems


def toc_chapters(toc_path: str | Path | None = None) -> tuple[str, ...]:
    """The chapter stems of ``_toc.yml`` (notebooks/NN_slug entries, the atlas left out), or
    ``CHAPTERS`` when no toc is given or found."""
    if toc_path is None or not Path(toc_path).is_file():
        return CHAPTERS
    import yaml

    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            name = node.get("file")
            if isinstance(name, str):
                stem = re.sub(r"\.(md|ipynb|py)$", "", name).split("/")[-1]
                if name.startswith("notebooks/") and re.match(r"^\d\d_", stem):
                    found.append(stem)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(yaml.safe_load(Path(toc_path).read_text()))
    return tuple(s for s in found if s != ATLAS_CHAPTER)


# ---- chapter 2's test on any record --------------------------------------------------------

@dataclass(frozen=True)
class MetricTest:
    """Chapter 2's smooth-metric test on one record: the visible metric's steepness against the
    smooth one's (logistics in log x with both levels fixed), and the smooth one's line R²."""

    chapter: str
    applicable: bool
    reason: str                 # why it could not be applied, or the verdict's sentence
    k_visible: float = float("nan")
    k_smooth: float = float("nan")
    smooth_line_r2: float = float("nan")
    visible_beats_line: bool = False
    smooth_is_smooth: bool = False

    @property
    def metric_explains(self) -> bool:
        """True when the visible metric jumps (its logistic beats a line) while the smooth
        metric on the same models passes chapter 2's test of smoothness."""
        return self.applicable and self.visible_beats_line and self.smooth_is_smooth


# A progress measure whose name says it scores the same models' outputs token by token stands in
# for a smooth metric when the record has none (chapters 1-2 record per-token accuracy so).
TOKEN_LEVEL_WORDS = ("per-token", "per-digit", "per-position", "token accuracy", "probability",
                     "brier", "log-prob")


def smooth_candidate(record: TransitionRecord
                     ) -> tuple[str, np.ndarray, float | None, float | None] | None:
    """(name, (T,) curve, floor, ceil) of the record's smooth metric, else of its progress
    measure when that is token-level (``TOKEN_LEVEL_WORDS`` in its name), else None; floor and
    ceil None: ``metric_test`` uses the curve's range."""
    if record.smooth_metric is not None:
        return (record.smooth_metric_name or "smooth metric",
                np.asarray(record.smooth_metric, dtype=float), record.smooth_metric_floor,
                record.smooth_metric_ceil)
    name = (record.progress_name or "").lower()
    if record.progress is not None and any(w in name for w in TOKEN_LEVEL_WORDS):
        return record.progress_name or "", np.asarray(record.progress, dtype=float), None, None
    return None


def metric_test(record: TransitionRecord) -> MetricTest:
    """Apply ``checks.ch02.smooth_metrics_verdict`` to the record's visible metric and its
    smooth one (``smooth_candidate``); not applicable without one, or when a fit is
    impossible."""
    from .checks.ch02 import smooth_metrics_verdict

    candidate = smooth_candidate(record)
    if candidate is None:
        return MetricTest(record.chapter, False, "the record has no token-level or smooth metric")
    smooth_name, s, s_floor, s_ceil = candidate
    x = np.asarray(record.x, dtype=float)
    y = np.asarray(record.metric, dtype=float)
    # levels given, else the curve's range (the ends' means would compress a short sweep's range
    # and inflate its steepness; chapter 2 holds them at chance and perfect)
    s_lo = float(np.min(s)) if s_floor is None else float(s_floor)
    s_hi = float(np.max(s)) if s_ceil is None else float(s_ceil)
    if _levels(s, s_floor, s_ceil)[1] < _levels(s, s_floor, s_ceil)[0]:
        s_lo, s_hi = s_hi, s_lo          # a falling curve (a loss): floor is its start
    try:
        vis = fit_logistic(x, y, floor=record.floor, ceil=record.ceil, n_boot=0)
        smo = fit_logistic(x, s, floor=s_lo, ceil=s_hi, n_boot=0)
    except ValueError as err:
        return MetricTest(record.chapter, False, f"a logistic cannot be fitted: {err}")
    k_vis, k_smo = abs(vis.steepness), abs(smo.steepness)
    if not (np.isfinite(k_vis) and np.isfinite(k_smo) and k_vis > 0 and k_smo > 0):
        return MetricTest(record.chapter, False, f"a fitted steepness is not positive "
                          f"(visible {k_vis:.3g}, smooth {k_smo:.3g})", k_vis, k_smo)
    found = smooth_metrics_verdict(k_vis, {smooth_name or "smooth": (k_smo, smo.linear.r2)})
    jumps = bool(vis.r2 > vis.linear.r2)
    sentence = (
        f"{record.metric_name} has k = {k_vis:.2f} and {'beats' if jumps else 'does not beat'} "
        f"a line in log x; {smooth_name} on the same runs has k = {k_smo:.2f} "
        f"(line R² {smo.linear.r2:.2f}), so by chapter 2's test it "
        + ("is smooth: the jump is the visible metric's." if found.passed and jumps else
           "is smooth, but the visible metric does not jump either." if found.passed else
           "is not smooth: the smooth metric rises about as sharply, so the metric does not "
           "explain the jump."))
    return MetricTest(record.chapter, True, sentence, k_vis, k_smo, float(smo.linear.r2), jumps,
                      bool(found.passed))


# ---- recomputing a missing record (Colab, a subset build) ----------------------------------

def source_notebook(chapter: str, search: Sequence[str | Path] = ()) -> Path | None:
    """The chapter's unexecuted notebook: ``search`` folders first, then notebooks/ of the
    repository this library was installed from (editable install), else None."""
    here = Path(__file__).resolve()
    candidates = [*map(Path, search), Path.cwd() / "notebooks", Path.cwd().parent / "notebooks",
                  here.parents[2] / "notebooks"]
    for folder in candidates:
        path = folder / f"{chapter}.ipynb"
        if path.is_file():
            return path
    return None


def executed_notebook(chapter: str, directory: str | Path = ".") -> Path:
    """Where the chapter's executed notebook is next to its record (``NN_slug.executed.ipynb``
    when the atlas recomputed it beside its source, else ``NN_slug.ipynb``)."""
    recomputed = Path(directory) / f"{chapter}{EXECUTED}"
    return recomputed if recomputed.is_file() else Path(directory) / f"{chapter}.ipynb"


def missing_chapters(chapters: Sequence[str], directory: str | Path = ".") -> list[str]:
    """The chapters without a record in ``directory``."""
    return [c for c in chapters if not record_path(c, directory).is_file()]


def estimate_seconds(chapters: Sequence[str]) -> float:
    """FAST CPU seconds the chapters take to execute (``FAST_CPU_S``; 60 s for one not there)."""
    return float(sum(FAST_CPU_S.get(c, 60) for c in chapters))


def recompute_records(chapters: Sequence[str], directory: str | Path = ".", *,
                      search: Sequence[str | Path] = (), download: bool = False,
                      progress: bool = True,
                      execute: Callable[[Path, Path, Path], None] | None = None
                      ) -> dict[str, str]:
    """Execute each chapter's notebook in FAST mode (papermill, one temporary folder shared in
    book order, so chapter 2 finds chapter 1's checkpoints) and copy its record and executed
    notebook into ``directory``. ``download``: fetch a notebook not found locally from the
    course repository at the release tag (Colab). Returns chapter -> what happened."""
    from tqdm.auto import tqdm

    directory = Path(directory)
    outcome: dict[str, str] = {}
    if not chapters:
        return outcome
    run = execute or _papermill
    with tempfile.TemporaryDirectory(prefix="atlas_") as tmp:
        work = Path(tmp)
        for chapter in tqdm(list(chapters), desc="chapters", disable=not progress):
            source = source_notebook(chapter, search)
            if source is None and download:
                source = _download(chapter, work)
            if source is None:
                outcome[chapter] = "no notebook found to execute"
                continue
            start = time.perf_counter()   # the chapter runs in its own kernel
            try:
                run(source, work / f"{chapter}.ipynb", work)
            except Exception as err:  # noqa: BLE001 - report the chapter and go on
                outcome[chapter] = f"execution failed: {type(err).__name__}: {err}"[:300]
                continue
            made = record_path(chapter, work)
            if not made.is_file():
                outcome[chapter] = "executed, but the chapter wrote no record"
                continue
            shutil.copy(made, record_path(chapter, directory))
            target = directory / f"{chapter}.ipynb"
            if target.exists() and target.resolve() == source.resolve():
                target = directory / f"{chapter}{EXECUTED}"  # never overwrite the source
            shutil.copy(work / f"{chapter}.ipynb", target)
            outcome[chapter] = f"recomputed ({time.perf_counter() - start:.0f} s wall)"
    return outcome


def _papermill(source: Path, target: Path, cwd: Path) -> None:
    import papermill

    papermill.execute_notebook(str(source), str(target), cwd=str(cwd), kernel_name="python3",
                               progress_bar=False)


def _download(chapter: str, folder: Path) -> Path | None:
    """The chapter's notebook from the course repository at the release tag, or None."""
    from urllib.request import urlopen

    from .course import RELEASE, REPOSITORY_URL

    url = (REPOSITORY_URL.replace("https://github.com/", "https://raw.githubusercontent.com/")
           + f"/{RELEASE}/notebooks/{chapter}.ipynb")
    try:
        with urlopen(url, timeout=30) as response:  # noqa: S310 - a fixed https URL
            path = folder / f"{chapter}.source.ipynb"
            path.write_bytes(response.read())
            return path
    except OSError:
        return None
